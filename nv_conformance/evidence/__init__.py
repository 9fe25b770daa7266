"""Evidence a third party can verify: a signed, self-describing bundle of one run.

``bundle.write_bundle`` packs a finished run's reports with the inputs that produced it
(feature files, contract, profile entry, redacted config) and a manifest signed as a JWS;
``verify.verify_bundle`` checks such an archive without trusting the machine that made it.
See docs/evidence.md.
"""
