"""How step functions are registered: regex sentences, and engine signals turned into behave outcomes.

An engine function signals "skip" (an input is missing, or the rule does not apply to this
version) or "defective" (the test definition is broken) by raising; the wrapper here turns that
into ``scenario.skip(reason)`` and remembers why, so the scenario is reported as skipped or
defective with the reason instead of crashing. A failed check (``CheckFailed``) becomes behave's
failed step (AssertionError): only this module speaks behave's language. A token that cannot be obtained or a
transport failure before any answer (connection refused, timeout) makes the scenario an *error* (the tester's
side or the environment), with one clear line; an answer that breaks the kit's bounds is the target's failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from behave import step as behave_step
from behave import use_step_matcher

from ..checks import AdvisoryRuleBroken, CheckFailed
from ..contract import PointerNotFoundError
from ..errors import KitError, TargetError
from ..exchange import DefectiveDefinition, NotApplicable, SkipScenario, TesterSideError
from ..http import TargetMisbehaved
from ..redact import redact
from ..values import PathError
from .session import ScenarioState, state_of

Step = Callable[..., Any]


def sentence(pattern: str) -> Callable[[Step], Step]:
    """Register ``pattern`` (a regular expression matched against the whole step text) for Given/When/Then."""

    def decorate(func: Step) -> Step:
        @functools.wraps(func)
        def run(context: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return func(context, *args, **kwargs)
            except NotApplicable as exc:
                _skip(context, str(exc), applicable=False)
            except SkipScenario as exc:
                _skip(context, str(exc), applicable=True)
            except (DefectiveDefinition, PointerNotFoundError, PathError) as exc:
                state = state_of(context)
                state.defect = redact(str(exc))
                context.scenario.skip(f"defective test definition: {state.defect}")
            except AdvisoryRuleBroken as exc:  # a warning: the scenario stops, never a failed step
                context.scenario.skip(f"warning: {redact(str(exc))}")
            except CheckFailed as exc:  # a finding: behave's failed step
                raise AssertionError(str(exc)) from None
            except TesterSideError as exc:
                _error(context, str(exc))
            except TargetMisbehaved as exc:  # it answered, but beyond the kit's bounds: the target's failure
                raise AssertionError(redact(str(exc))) from None
            except TargetError as exc:  # no answer at all: nothing to judge
                _error(context, str(exc))
            except KitError as exc:
                raise AssertionError(redact(str(exc))) from None
            return None

        use_step_matcher("re")
        behave_step(pattern)(run)
        return run

    return decorate


def _error(context: Any, reason: str) -> None:
    state = state_of(context)
    state.error = redact(reason)
    context.scenario.skip(f"error: {state.error}")


def _skip(context: Any, reason: str, *, applicable: bool) -> None:
    state = state_of(context)
    state.skip_reason = redact(reason)
    state.not_applicable = not applicable
    context.scenario.skip(state.skip_reason)


def unquoted(text: str) -> str:
    """``"x"`` -> ``x``; a bare ``x`` stays as it is (feature authors write both)."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def nv(context: Any) -> ScenarioState:
    """The scenario state a step works on."""
    return state_of(context)
