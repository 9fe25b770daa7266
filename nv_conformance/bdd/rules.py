"""The conditions of ``the response property "..." matches the rule: <condition>`` (Commonalities 0.9.0 templates).

The templates write a condition in words after the colon. The kit evaluates three kinds: a
comparison (``== 400``, ``is greater than 0``, ``is not "x"``), a regular expression
(``matches "^[A-Z_]+$"``, ``/.../``) and presence (``exists``, ``is not empty``). Anything else
cannot be evaluated: the scenario is a defective test definition with that reason, never passed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import values
from ..contract import compile_pattern
from ..exchange import DefectiveDefinition

MISSING = object()


@dataclass(frozen=True)
class Rule:
    """A parsed condition: ``holds(actual)`` -> (verdict, what was found)."""

    text: str
    kind: str  # "compare", "regex" or "presence"
    holds: Callable[[Any], tuple[bool, str]]


# The subject words a condition may start with before its predicate ("the value is ...").
_SUBJECT = r"(?:(?:the\s+)?(?:property\s+)?value\s+|it\s+|(?:\"?\$[^\s\"]*\"?)\s+)?"

_WORD_OPERATORS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    (r"is\s+greater\s+than\s+or\s+equal\s+to|is\s+at\s+least|>=", operator.ge, ">="),
    (r"is\s+less\s+than\s+or\s+equal\s+to|is\s+at\s+most|<=", operator.le, "<="),
    (r"is\s+greater\s+than|>", operator.gt, ">"),
    (r"is\s+less\s+than|<", operator.lt, "<"),
    (r"is\s+not\s+equal\s+to|is\s+not|!=|<>", operator.ne, "!="),
    (r"is\s+equal\s+to|equals|is|==|=", operator.eq, "=="),
)

_PRESENCE: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    (r"(?:exists|is\s+present|is\s+included)", lambda v: v is not MISSING),
    (r"(?:does\s+not\s+exist|is\s+not\s+present|is\s+absent|is\s+not\s+included)", lambda v: v is MISSING),
    (r"is\s+not\s+empty", lambda v: v is not MISSING and v not in ("", [], {}, None)),
    (r"is\s+empty", lambda v: v is not MISSING and v in ("", [], {})),
    (r"is\s+not\s+null", lambda v: v is not MISSING and v is not None),
    (r"is\s+null", lambda v: v is None),
)


def parse_rule(text: str) -> Rule:
    """The rule ``text`` states; DefectiveDefinition when the kit cannot evaluate it."""
    condition = " ".join(text.strip().rstrip(".").split())
    for pattern, test in _PRESENCE:
        if re.fullmatch(_SUBJECT + pattern, condition, re.IGNORECASE):
            return Rule(condition, "presence", _presence(test))
    regex = re.fullmatch(_SUBJECT + r"(?:matches|complies\s+with)\s+(?:the\s+)?(?:regular\s+expression|regex|pattern)?\s*"
                         r"(?:\"(?P<q>.*)\"|'(?P<s>.*)'|/(?P<slash>.*)/)", condition, re.IGNORECASE)
    if regex:
        expression = next(g for g in (regex["q"], regex["s"], regex["slash"]) if g is not None)
        try:
            compiled = compile_pattern(expression)
        except re.error as exc:
            raise DefectiveDefinition(f"the rule {condition!r} has an invalid regular expression: {exc}") from None
        return Rule(condition, "regex", lambda v: (isinstance(v, str) and compiled.search(v) is not None, _shown(v)))
    for pattern, compare, symbol in _WORD_OPERATORS:
        match = re.fullmatch(_SUBJECT + rf"(?:{pattern})\s+(?P<value>.+)", condition, re.IGNORECASE)
        if match:
            raw, quoted = values.unquote(match["value"])
            expected = raw if quoted else values.parse_literal(raw)
            if not quoted and isinstance(expected, str):  # "is a UUID": a description, not a value
                break
            return Rule(condition, "compare", _comparison(compare, symbol, expected, quoted))
    raise DefectiveDefinition(
        f"the kit cannot evaluate the rule {condition!r}: it knows comparisons (==, !=, <, <=, >, >=, 'is greater "
        "than' ...), regular expressions (matches \"...\") and presence (exists, does not exist, is not empty)")


def _presence(test: Callable[[Any], bool]) -> Callable[[Any], tuple[bool, str]]:
    return lambda actual: (test(actual), _shown(actual))


def _comparison(compare: Callable[[Any, Any], bool], symbol: str, expected: Any, quoted: bool) -> Callable[[Any], tuple[bool, str]]:
    def holds(actual: Any) -> tuple[bool, str]:
        if actual is MISSING:
            return False, "absent"
        if symbol in ("==", "!="):
            same = values.same_value(actual, expected, expected_was_quoted=quoted)
            return (same if symbol == "==" else not same), _shown(actual)
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (actual, expected))
        texts = isinstance(actual, str) and isinstance(expected, str)
        if not (numbers or texts):
            return False, f"{_shown(actual)} cannot be compared with {values.show(expected)}"
        return bool(compare(actual, expected)), _shown(actual)
    return holds


def _shown(value: Any) -> str:
    return "absent" if value is MISSING else values.show(value)
