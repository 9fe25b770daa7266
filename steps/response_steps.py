"""Response validation sentences of the CAMARA API Testing Guidelines.

Status codes quoted or not; header names case-insensitive; media types compared without
parameters; JSONPath through python-jsonpath. Each sentence calls one engine function.
"""

import re

from nv_conformance import values
from nv_conformance.bdd import actions
from nv_conformance.bdd.glue import nv, sentence, unquoted

PROPERTY = r'the response property (?P<path>"[^"]+"|\$[^\s"]*)'
VALUE = r'(?P<value>"[^"]*"|[^"\s]+)'


@sentence(r'the response status code is (?P<status>"?\d{3}"?)')
def status_code(context, status):
    actions.expect_status(nv(context), values.parse_int(status))


@sentence(r'the response header "(?P<name>[^"]+)" is ' + VALUE)
def header_is(context, name, value):
    actions.expect_header(nv(context), name, unquoted(value))


@sentence(r'the response header "(?P<name>[^"]+)" has (?:the )?same value as (?:in )?the request header "(?P<request_name>[^"]+)"')
def header_echo(context, name, request_name):
    actions.expect_header_echo(nv(context), name, request_name)


@sentence(r'the response header "(?P<name>[^"]+)" exists')
def header_exists(context, name):
    actions.expect_header_exists(nv(context), name, True)


@sentence(r'the response header "(?P<name>[^"]+)" does not exist')
def header_absent(context, name):
    actions.expect_header_exists(nv(context), name, False)


@sentence(r'the response body complies with the OAS schema at "(?P<pointer>[^"]+)"')
def body_schema_at(context, pointer):
    actions.expect_schema_at(nv(context), pointer)


@sentence(r"the response body complies with the OAS schema for this operation and status code")
def body_schema_for_operation(context):
    actions.expect_schema_for_operation(nv(context))


@sentence(PROPERTY + r" exists")
def property_exists(context, path):
    actions.expect_property_exists(nv(context), unquoted(path))


@sentence(PROPERTY + r" does not exist")
def property_absent(context, path):
    actions.expect_property_absent(nv(context), unquoted(path))


@sentence(PROPERTY + r" contains a user[ -]friendly text")
def property_text(context, path):
    actions.expect_property_text(nv(context), unquoted(path))


@sentence(PROPERTY + r' is (?P<choices>"[^"]*"(?:\s+OR\s+"[^"]*")+)')
def property_one_of(context, path, choices):
    actions.expect_property_one_of(nv(context), unquoted(path), re.findall(r'"[^"]*"', choices))


@sentence(PROPERTY + r" matches the rule:?\s*(?P<condition>.+)")
def property_rule(context, path, condition):
    actions.expect_property_rule(nv(context), unquoted(path), condition)


@sentence(r'the response body is an array whose items comply with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def array_items(context, pointer):
    actions.not_applicable_to_this_api(nv(context), "an array response body", "every response body is a JSON object")


@sentence(r'the response body is an empty array(?: "\[\]")?')
def empty_array(context):
    actions.not_applicable_to_this_api(nv(context), "an empty array response body",
                                       "every response body is a JSON object")


@sentence(r"the threshold of requests has been reached")
def threshold_reached(context):
    actions.not_applicable_to_this_api(nv(context), "a request threshold (429 TOO_MANY_REQUESTS)",
                                       "its contract documents no 429 response")


@sentence(PROPERTY + r" (?:is equal to|is|==|equals) " + VALUE)
def property_value(context, path, value):
    actions.expect_property_value(nv(context), unquoted(path), value)


@sentence(PROPERTY + r' only exists if (?:the )?(?:response )?property (?P<other>"[^"]+"|\$[^\s"]*) exists')
def property_only_if_exists(context, path, other):
    actions.expect_property_only_if(nv(context), unquoted(path), unquoted(other))


@sentence(PROPERTY + r' only exists if (?:the )?(?:response )?property (?P<other>"[^"]+"|\$[^\s"]*) is ' + VALUE)
def property_only_if_value(context, path, other, value):
    actions.expect_property_only_if(nv(context), unquoted(path), unquoted(other), value)


@sentence(PROPERTY + r" is (?:one of the codes|a code) the contract allows for this (?:status|status code)")
def property_code_allowed(context, path):
    actions.expect_code_allowed(nv(context), unquoted(path))


@sentence(r'the response header "(?P<name>[^"]+)"(?P<optional>, if present,)? complies with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def header_schema(context, name, pointer, optional=None):
    actions.expect_header_complies(nv(context), name, pointer, required=not optional)
