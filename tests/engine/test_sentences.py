"""Sentences map to the intended step functions: quoted or bare values, header-name case, no overlaps."""

from __future__ import annotations

import runpy
from types import SimpleNamespace

import pytest
from behave.runner import the_step_registry

from nv_conformance.resources import steps_dir


@pytest.fixture(scope="module")
def registry():
    # behave's runner matches against the registry its decorators were made for (the_step_registry);
    # loading the same step files twice is harmless (same pattern and location are registered once).
    for path in sorted(steps_dir().glob("*.py")):
        runpy.run_path(str(path))
    return the_step_registry


def match(registry, text: str, step_type: str = "given"):
    found = registry.find_match(SimpleNamespace(step_type=step_type, name=text))
    assert found is not None, f"undefined: {text}"
    return found.func.__name__, {a.name: a.value for a in found.arguments if a.name}


@pytest.mark.parametrize(("text", "function", "args"), [
    ('the response status code is 401', "status_code", {"status": "401"}),
    ('the response status code is "401"', "status_code", {"status": '"401"'}),
    ('the response header "Content-Type" is "application/json"', "header_is", {"value": '"application/json"'}),
    ('the response header "content-type" is application/json', "header_is", {"value": "application/json"}),
    ('the response property "$.status" is 400', "property_value", {"path": '"$.status"', "value": "400"}),
    ("the response property $.status is 400", "property_value", {"path": "$.status", "value": "400"}),
    ('the response property "$.devicePhoneNumberVerified" == true', "property_value", {"value": "true"}),
    ('the response property "$.code" is "UNAUTHENTICATED"', "property_value", {"value": '"UNAUTHENTICATED"'}),
    ('the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token',
     "response_property_number", {}),
    ('the response property "$.message" contains a user friendly text', "property_text", {}),
    ('the header "authorization" is set to an expired access token', "authorization_kind", {}),
    ('the header "Authorization" is set to "Bearer abc"', "header_set", {"value": '"Bearer abc"'}),
    ('the header "x-correlator" is set to abc-1', "header_set", {"value": "abc-1"}),
    ('the request body property "$.phoneNumber" is set to: +12334foo22222', "body_property", {}),
    ('the body property "$.phoneNumber" is set to the phone number identified by the access token',
     "body_property_number", {}),
    ('the request body property "$.hashedPhoneNumber" is set to a valid phone number compliant with OAS schema at '
     '"#/components/schemas/HashedPhoneNumber"', "body_property_valid_number", {}),
    ('the request body is set to "{}"', "body_quoted", {"text": "{}"}),
    ('the resource "/number-verification/v2"  as  base url', "resource_as_base_url", {}),
    ('the request "phoneNumberVerify" is sent', "request_sent", {"operation_id": "phoneNumberVerify"}),
])
def test_sentence_maps_to_function(registry, text, function, args):
    name, found = match(registry, text)
    assert name == function
    for key, value in args.items():
        assert found[key] == value


def test_any_keyword_works(registry):
    for step_type in ("given", "when", "then"):
        assert match(registry, "the response status code is 200", step_type)[0] == "status_code"
