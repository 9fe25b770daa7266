import hashlib

import pytest

from nv_conformance import values
from nv_conformance.phone import sha256_hex


@pytest.mark.parametrize(("text", "expected"), [
    ("401", 401), ('"401"', "401"), ("true", True), ("false", False), ("null", None),
    ('"UNAUTHENTICATED"', "UNAUTHENTICATED"), ("UNAUTHENTICATED", "UNAUTHENTICATED"),
    ('{"a": [1]}', {"a": [1]}), ("1.5", 1.5), ("+447700900123", "+447700900123"),
])
def test_parse_literal_reads_bare_values_as_json_and_keeps_quoted_text(text, expected):
    assert values.parse_literal(text) == expected
    assert type(values.parse_literal(text)) is type(expected)


def test_parse_int_accepts_quoted_or_bare_and_rejects_other_text():
    assert values.parse_int('"401"') == 401
    assert values.parse_int("200") == 200
    with pytest.raises(ValueError, match="not a whole number"):
        values.parse_int("four hundred")


def test_same_value_keeps_json_types_apart_but_forgives_quoted_numbers():
    assert values.same_value(401, 401)
    assert values.same_value(401, "401", expected_was_quoted=True)
    assert not values.same_value(401, "401")
    assert not values.same_value(1, True)
    assert not values.same_value(True, 1)
    assert not values.same_value("true", True)
    assert values.same_value(True, "true", expected_was_quoted=True)
    assert not values.same_value("x", "y", expected_was_quoted=True)


def test_same_value_keeps_booleans_and_numbers_apart_inside_objects_and_lists():
    assert not values.same_value({"devicePhoneNumberVerified": 1}, {"devicePhoneNumberVerified": True})
    assert not values.same_value([1.0], [True])
    assert not values.same_value({"a": [0]}, {"a": [False]})
    assert values.same_value({"a": [1, {"b": True}]}, {"a": [1.0, {"b": True}]})
    assert not values.same_value({"a": 1}, {"a": 1, "b": None})
    assert not values.same_value(None, "null")


def test_jsonpath_reads_through_python_jsonpath():
    doc = {"a": {"b": [{"c": 1}]}, "status": 0}
    assert values.find(doc, "$.a.b[0].c") == [1]
    assert values.exists(doc, "$.status")  # a falsy value still exists
    assert not values.exists(doc, "$.missing")
    assert values.is_missing(values.first(doc, "$.missing"))
    assert values.first(doc, "$['a']['b'][0]['c']") == 1
    with pytest.raises(values.PathError):
        values.find(doc, "$.[[")


def test_set_and_delete_path_create_and_remove_members():
    doc = values.set_path({}, "$.device.phoneNumber", "+1")
    assert doc == {"device": {"phoneNumber": "+1"}}
    doc = values.set_path(doc, "$.list[1]", 5)
    assert doc["list"] == [None, 5]
    assert values.set_path({}, "$['odd key']", 1) == {"odd key": 1}
    assert values.delete_path(doc, "$.device.phoneNumber")
    assert not values.delete_path(doc, "$.device.phoneNumber")
    with pytest.raises(values.PathError, match="plain property path"):
        values.set_path({}, "$..deep", 1)


def test_media_type_drops_parameters_and_case():
    assert values.media_type("Application/JSON; charset=utf-8") == "application/json"
    assert values.media_type(None) == ""


def test_sha256_hex_hashes_the_number_with_its_plus():
    assert sha256_hex("+447700900123") == hashlib.sha256(b"+447700900123").hexdigest()


def test_setting_a_huge_list_index_is_refused_not_a_memory_blow_up():
    import time

    started = time.monotonic()
    with pytest.raises(values.PathError, match="past the end"):
        values.set_path({}, "$.a[100000000000]", 1)
    assert time.monotonic() - started < 1
    assert values.set_path({}, "$.a[2]", 1) == {"a": [None, None, 1]}
