"""Descriptive sentences of the Number Verification feature files: phone numbers and token kinds.

CAMARA allows descriptive values instead of literals ("a valid phone number ... identified by the
token"); the target config supplies the actual numbers and tokens, and a scenario whose input the
target did not provide is skipped with the reason.
"""

from nv_conformance.bdd import actions
from nv_conformance.bdd.glue import nv, sentence
from nv_conformance.tokens.base import TokenKind

SUBSCRIBER = r"the phone number (?:identified by|associated with) the (?:access )?token"
OTHER = r"a valid phone number different from the one (?:identified by|associated with) the (?:access )?token"
HASHED = (r"(?P<hashed>,? hashed in SHA-256 \(in (?P<case>upper case |lower case |upper-case |lower-case )?"
          r"hexadecimal representation\))?")
BODY_PROPERTY = r'the (?:request )?body property "(?P<path>[^"]+)" is set to '


def _which(text: str) -> str:
    return "subscriber" if text.startswith("the phone number") else "other"


# -- the test numbers ---------------------------------------------------------------------------------

@sentence(r"a valid (?:testing )?(?:phone number|phoneNumber) supported by the service, identified by the (?:access )?token")
def subscriber_number(context):
    actions.require_subscriber(nv(context))


@sentence(r"a valid phone number identified by the token and provided in the request body")
def subscriber_number_in_body(context):
    actions.body_property_subscriber_in_body(nv(context))


@sentence(BODY_PROPERTY + r"(?P<which>" + SUBSCRIBER + "|" + OTHER + ")" + HASHED)
def body_property_number(context, path, which, hashed=None, case=None):
    actions.set_body_property_number(nv(context), path, _which(which), hashed=bool(hashed),
                                     upper=bool(case and case.startswith("upper")))


@sentence(BODY_PROPERTY + r'a valid phone number(?: compliant with (?:the )?OAS schema at "(?P<pointer>[^"]+)")?')
def body_property_valid_number(context, path, pointer=None):
    actions.set_body_property_number(nv(context), path, "subscriber", pointer=pointer)


@sentence(r'the same phone number is compliant with (?:the )?OAS schema at "(?P<pointer>[^"]+)"')
def same_number_compliant(context, pointer):
    actions.body_property_complies(nv(context), None, pointer)


@sentence(r'the response property "(?P<path>[^"]+)" is equal to (?P<which>' + SUBSCRIBER + "|" + OTHER + ")" + HASHED)
def response_property_number(context, path, which, hashed=None, case=None):
    actions.expect_property_is_number(nv(context), path, _which(which), hashed=bool(hashed))


# -- token kinds in the Authorization header -----------------------------------------------------------

TOKEN_KINDS = {
    "a valid access token": TokenKind.VALID,
    "a valid access token which does not identify a single phone number": TokenKind.VALID,
    "an expired access token": TokenKind.EXPIRED,
    "an invalid access token": TokenKind.INVALID,
    "an access token without the required scope": TokenKind.OTHER_SCOPE,
    "an access token with only the scope of the other operation": TokenKind.OTHER_SCOPE,
    "a token for which neither Network-based nor SIM-based authentication was used": TokenKind.NON_NETWORK,
    "an access token not obtained by network-based or SIM-based authentication": TokenKind.NON_NETWORK,
}
_KIND_PATTERN = "|".join(sorted((k.replace(" ", r"\s+") for k in TOKEN_KINDS), key=len, reverse=True))


@sentence(r'the header "(?i:Authorization)" is set to (?P<description>' + _KIND_PATTERN + ")")
def authorization_kind(context, description):
    actions.use_token(nv(context), TOKEN_KINDS[" ".join(description.split())])


@sentence(r'the header "(?i:Authorization)" is set to an access token that does not include (?:the )?scope "(?P<scope>[^"]+)"')
def authorization_without_scope(context, scope):
    actions.use_token_without_scope(nv(context), scope)


@sentence(r'the header "(?i:Authorization)" is set to a valid access token with the "(?P<scheme>[^"]+)" scheme')
def authorization_scheme(context, scheme):
    actions.use_token(nv(context), TokenKind.VALID, scheme=scheme)


@sentence(r'the header "(?i:Authorization)" is set to a valid access token whose signature has been altered')
def authorization_tampered(context):
    actions.use_tampered_token(nv(context))


@sentence(r"the token has been obtained by a supported authentication method")
def token_supported_method(context):
    actions.use_token(nv(context), TokenKind.VALID)
