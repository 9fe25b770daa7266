"""The kit's self-test: run the conformance features against deliberately faulty and benign providers.

A conformance suite is worth its verdicts. Every variant of ``reference_impl/faults.py`` is served
by its own embedded reference provider and the kit's features run against it: a faulty variant must
make at least one scenario fail, a benign one (a legal liberty) must pass everything the correct
reference passes. ``nv-conformance selftest`` prints the table; ``docs/selftest.md`` shows it.
"""
