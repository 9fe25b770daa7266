"""The older vocabulary of CAMARA's official v1.0.0 and v2.0.0 Number Verification feature files.

Thin: each sentence is parsed here and handed to one function of nv_conformance.bdd.legacy,
which maps it onto the same engine as the current vocabulary (lazy send, token kinds, checks).
"""

from nv_conformance.bdd import legacy
from nv_conformance.bdd.glue import nv, sentence
from nv_conformance.tokens.base import TokenKind

PLACEHOLDER = r"(?P<name>NUMBERVERIFY_[A-Z0-9_]+)"


# -- Background ------------------------------------------------------------------------------------

@sentence(r'the header "(?P<name>[^"]+)" is set to a UUID value')
def header_uuid(context, name):
    legacy.header_uuid(nv(context), name)


@sentence(r"the request body is compliant with the schema (?P<schema>\w+)")
def body_compliant(context, schema):
    legacy.body_compliant_with(nv(context), schema)


@sentence(r"the response body is compliant with the schema (?P<schema>\w+)")
def response_compliant(context, schema):
    legacy.response_compliant_with(nv(context), schema)


@sentence(PLACEHOLDER + r" is compliant with the schema (?P<schema>\w+)")
def placeholder_compliant(context, name, schema):
    legacy.placeholder_complies(nv(context), name, schema)


@sentence(r"(?P<first>NUMBERVERIFY_[A-Z0-9_]+) is different to (?P<second>NUMBERVERIFY_[A-Z0-9_]+)")
def placeholders_differ(context, first, second):
    legacy.placeholders_differ(nv(context), first, second)


@sentence(r"they acquired a valid access token associated with " + PLACEHOLDER + r" through .+")
def acquired_token(context, name):
    legacy.acquired_valid_token(nv(context), name)


# -- request -----------------------------------------------------------------------------------------

@sentence(r"they use the base url")
def use_base_url(context):
    legacy.use_base_url(nv(context))


@sentence(r'the resource is "(?P<path>[^"]+)"')
def resource_is(context, path):
    legacy.resource(nv(context), path)


@sentence(r"(?P<quantifier>one|none) of the scopes associated with the access token is (?P<scope>\S+)")
def scope_claim(context, quantifier, scope):
    legacy.scope_claim(nv(context), quantifier, scope)


@sentence(r'the HTTPS? "(?P<method>[A-Za-z]+)" request is sent')
def send(context, method):
    legacy.send(nv(context), method)


@sentence(r"the connection the request is sent over originates from a device with " + PLACEHOLDER)
def connection_from(context, name):
    legacy.connection_from(nv(context), name)


@sentence(r"the request body has the field (?P<field>\w+) with a value of (?P<value>\S+)")
def body_field(context, field, value):
    legacy.body_field(nv(context), field, value)


@sentence(r"the request body has NO the field (?P<first>\w+)(?: or (?P<second>\w+))?")
def body_without_fields(context, first, second=None):
    legacy.body_without_fields(nv(context), [f for f in (first, second) if f])


@sentence(r"the access token has expired")
def token_expired(context):
    legacy.token_kind(nv(context), TokenKind.EXPIRED)


@sentence(r"the access token is not associated with a phone number")
def token_without_number(context):
    legacy.token_without_number(nv(context))


@sentence(r"the information, e\.g\. authentication method reference, associated with the access token indicates "
          r"that (?:network authentication was NOT used|neither Network-based nor SIM-based authentication was used)")
def token_not_network(context):
    legacy.token_kind(nv(context), TokenKind.NON_NETWORK)


# -- response ---------------------------------------------------------------------------------------

@sentence(r'the response property "(?P<path>[^"]+)" is set to ' + PLACEHOLDER)
def response_placeholder(context, path, name):
    legacy.expect_property_placeholder(nv(context), path, name)
