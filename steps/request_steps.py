"""Request set-up sentences of the CAMARA API Testing Guidelines: environment, resource, headers, parameters, body.

Thin: each sentence is parsed here and handed to one function of nv_conformance.bdd.actions.
Values may be quoted or not; header names are case-insensitive (the engine compares them so).
"""

from nv_conformance.bdd import actions
from nv_conformance.bdd.glue import nv, sentence, unquoted

VALUE = r'(?P<value>"[^"]*"|[^"\s]+)'


def _rows(table):
    return [(row.cells[0], row.cells[1]) for row in table] if table else []


@sentence(r'an environment at "(?P<name>[^"]+)"')
def environment(context, name):
    actions.use_environment(nv(context), name)


@sentence(r'the resource "(?P<path>[^"]+)"\s+as\s+base[ -]?url')
def resource_as_base_url(context, path):
    actions.use_resource(nv(context), path)


@sentence(r'the resource "(?P<path>[^"]+)"')
def resource(context, path):
    actions.use_resource(nv(context), path)


@sentence(r"the resource of the API version under test as base url")
def version_base_path(context):
    actions.use_version_base_path(nv(context))


# -- headers -----------------------------------------------------------------------------------------

@sentence(r'the header "(?P<name>[^"]+)" is set to a value longer than the maximum length of the schema at '
          r'"(?P<pointer>[^"]+)"')
def header_too_long(context, name, pointer):
    actions.set_header_too_long(nv(context), name, pointer)


@sentence(r'the header "(?P<name>[^"]+)" is set (?:to|as) ' + VALUE)
def header_set(context, name, value):
    actions.set_header(nv(context), name, unquoted(value))


@sentence(r"the (?:request )?headers:?")
def headers_table(context):
    actions.set_headers(nv(context), _rows(context.table))


@sentence(r'the header "(?P<name>[^"]+)" is (?:removed|not included|not sent)')
def header_removed(context, name):
    actions.remove_header(nv(context), name)


@sentence(r'the header "(?P<name>[^"]+)" complies with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def header_compliant(context, name, pointer):
    actions.set_header_compliant(nv(context), name, pointer)


@sentence(r'the header "(?P<name>[^"]+)" does not comply with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def header_noncompliant(context, name, pointer):
    actions.set_header_noncompliant(nv(context), name, pointer)


# -- path and query parameters ---------------------------------------------------------------------

@sentence(r'the path parameter "(?P<name>[^"]+)" is set (?:to|as) ' + VALUE)
def path_parameter(context, name, value):
    actions.set_path_parameter(nv(context), name, unquoted(value))


@sentence(r"the path parameters:?")
def path_parameters(context):
    for name, value in _rows(context.table):
        actions.set_path_parameter(nv(context), name, value)


@sentence(r'the query parameter "(?P<name>[^"]+)" is set (?:to|as) ' + VALUE)
def query_parameter(context, name, value):
    actions.set_query_parameter(nv(context), name, unquoted(value))


@sentence(r"the query parameters:?")
def query_parameters(context):
    for name, value in _rows(context.table):
        actions.set_query_parameter(nv(context), name, value)


# -- body ---------------------------------------------------------------------------------------------

@sentence(r"the request body(?: is)?:")
def body_docstring(context):
    actions.body_text(nv(context), context.text or "")


@sentence(r'the request body is set to "(?P<text>.*)"')
def body_quoted(context, text):
    actions.body_text(nv(context), text)


@sentence(r"the request body is set to (?P<text>[{\[].*)")
def body_unquoted_json(context, text):
    actions.body_text(nv(context), text)


@sentence(r'the request body is included but is not compliant with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def body_noncompliant(context, pointer):
    actions.body_noncompliant_at(nv(context), pointer)


@sentence(r'the request body is (?:set by default to a request body )?compliant with the (?:OAS )?schema at '
          r'"(?P<pointer>[^"]+)"')
def body_compliant_at(context, pointer):
    actions.body_compliant_at(nv(context), pointer)


@sentence(r"the request body is (?:not included|not sent|empty|absent)")
def body_absent(context):
    actions.body_absent(nv(context))


@sentence(r"the request body is set by default to a request body compliant with the schema")
def body_default(context):
    actions.body_default_compliant(nv(context))


@sentence(r"the request body is set to a valid request body")
def body_valid(context):
    actions.body_valid(nv(context))


@sentence(r'the (?:request )?body property "(?P<path>[^"]+)" is set to a value longer than the maximum length '
          r'of the schema at "(?P<pointer>[^"]+)"')
def body_property_too_long(context, path, pointer):
    actions.set_body_property_too_long(nv(context), path, pointer)


@sentence(r'the (?:request )?body property "(?P<path>[^"]+)" is set (?:to|as):? ' + VALUE)
def body_property(context, path, value):
    actions.set_body_property_literal(nv(context), path, value)


@sentence(r'the (?:request )?body property "(?P<path>[^"]+)" is set to the JSON value (?P<value>.+)')
def body_property_json(context, path, value):
    actions.set_body_property_literal(nv(context), path, value)


@sentence(r'the (?:request )?body property "(?P<path>[^"]+)" is (?:removed|not included|not sent)')
def body_property_removed(context, path):
    actions.remove_body_properties(nv(context), [path])


@sentence(r'the request body does not contain (?:neither |either )?"(?P<first>[^"]+)"(?: (?:nor|or) "(?P<second>[^"]+)")?')
def body_without(context, first, second=None):
    actions.remove_body_properties(nv(context), [p for p in (first, second) if p])


@sentence(r'the (?:request )?body property "(?P<path>[^"]+)" does not comply with the (?:OAS )?schema at "(?P<pointer>[^"]+)"')
def body_property_noncompliant(context, path, pointer):
    actions.set_body_property_noncompliant(nv(context), path, pointer)
