"""Runs schemathesis (v4 engine) against one target with the kit's token layer and CAMARA checks.

Design:
- the contract's two Number Verification operations only, from the same document the checker uses;
- phases examples, coverage (systematic negative data) and fuzzing (positive and negative modes),
  under a fixed default seed; stateful testing is off (the API has no links);
- one schemathesis custom check (``nv_camara``) turns each response into a ``FuzzExchange`` and runs
  the plain CAMARA checks of :mod:`.checks`; it never raises, so schemathesis neither shrinks nor
  stops an operation early: the kit's collector decides and deduplicates;
- a fresh token per generated case (``@schema.auth(refresh_interval=None)``), pacing and 429
  backoff in a requests adapter, and a hard stop (``--duration``, ``--max-failures``, a broken
  token layer) through the engine's stop event;
- every request, schemathesis' own probes included, goes through the kit's HTTP client
  (:mod:`.transport`): the same size cap, timeouts, headers, mTLS and proxy as ``run``, and a
  deadline, so ``--duration`` bounds the whole run whatever the target does;
- hypothesis keeps its files in a temporary directory, never in the current one.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ..contract import Contract
from ..errors import ConfigError, TargetError, TokenError
from ..http import GuardedClient, HttpSettings, TargetMisbehaved, TargetTooSlow
from ..inputs import nested_too_deep
from ..interrupt import current as current_stop
from ..profiles import VersionProfile
from ..redact import redact
from .auth import TokenSource, fresh_token_auth_class
from .checks import (
    ADVISORY_CHECKS,
    NO_TOKEN_PROBE,
    REUSED_TOKEN,
    CheckEnv,
    RequestKind,
    classify_request,
    run_all,
)
from .exchange import FuzzExchange
from .findings import FindingsCollector
from .mutations import MUTATED_PROPERTY, MUTATION_SHARE, mutate
from .pacing import Pacer, Retry429
from .transport import GuardedAdapter, mount

DEFAULT_SEED = 20251126
DEFAULT_MAX_EXAMPLES = 100
DEFAULT_DURATION_S = 60.0
NO_TOKEN_PROBES_PER_OPERATION = 3
BROKEN_TOKEN_RATIO = 0.5         # more 401s than this among authenticated requests: the run failed
EARLY_STOP_MIN_RESPONSES = 40    # ... and from this many on, a run that is nearly all 401 stops early
EARLY_STOP_RATIO = 0.9
MIN_VALID_FOR_SUCCESS_GUARD = 10  # from this many valid authenticated requests on, most must succeed
REQUEST_GRACE_S = 2.0            # a request in flight at the deadline gets this long to finish
ENGINE_GRACE_S = 8.0             # after that, the run is reported even if the engine has not stopped


@dataclass(frozen=True)
class FuzzOptions:
    seed: int = DEFAULT_SEED
    max_examples: int = DEFAULT_MAX_EXAMPLES
    duration_s: float = DEFAULT_DURATION_S
    rate: float | None = None          # requests per second, None = as fast as the target answers
    max_failures: int | None = None    # distinct (check, operation) findings before stopping
    no_token_probes: int = NO_TOKEN_PROBES_PER_OPERATION
    mutations: bool = True             # CAMARA near-miss bodies (mutations.py) besides schemathesis' own data
    progress_interval_s: float = 5.0

    def validate(self) -> None:
        if self.max_examples < 1:
            raise ConfigError("--max-examples", "must be at least 1")
        if not 0 < self.duration_s <= 24 * 3600:
            raise ConfigError("--duration", "must be between 0 and 86400 seconds")
        if self.rate is not None and not 0 < self.rate < math.inf:  # NaN fails too: it would pace nothing
            raise ConfigError("--rate", "must be a positive number of requests per second")
        if self.max_failures is not None and self.max_failures < 1:
            raise ConfigError("--max-failures", "must be at least 1")


@dataclass(frozen=True)
class FuzzTarget:
    """Where to send requests and how to authenticate them."""

    api_base_url: str       # api root + base path, e.g. http://127.0.0.1:9091/number-verification/v2
    contract: Contract
    profile: VersionProfile
    fetch_token: Callable[[str], str]
    http: HttpSettings = HttpSettings()
    label: str = ""
    # The valid tokens come from the tester's own source (static, command), not from the target's token
    # endpoint: one handed out again and refused is then the tester's side, not the target's failure.
    tokens_from_tester: bool = True


@dataclass
class FuzzStats:
    """Counters of one run; the report's fuzz section is made from them."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    request_kinds: Counter[str] = field(default_factory=Counter)
    authenticated: int = 0
    authenticated_401: int = 0
    valid_authenticated: int = 0          # contract-valid requests with a token ...
    valid_statuses: Counter[int] = field(default_factory=Counter)  # ... and what they got
    server_errors: int = 0
    rate_limited: int = 0
    no_token_probes: int = 0
    probe_errors: int = 0
    no_answer: int = 0       # requests that got no HTTP answer (connection refused, reset, timeout)
    unjudged: int = 0        # responses the kit's checks failed on (a kit bug): the run cannot pass then
    misbehaved: int = 0      # answers that broke the kit's bounds (too large, too slow, undecodable)
    first_misbehaviour: str = ""
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    stop_reason: str = ""
    first_response_at: float | None = None  # monotonic; first to last judged response = the active window
    last_response_at: float | None = None

    @property
    def active_window_s(self) -> float:
        if self.first_response_at is None or self.last_response_at is None:
            return 0.0
        return self.last_response_at - self.first_response_at

    @property
    def ratio_401(self) -> float:
        return self.authenticated_401 / self.authenticated if self.authenticated else 0.0

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class FuzzOutcome:
    options: FuzzOptions
    target_label: str
    api_version: str
    contract_source: str
    started_at: str
    finished_at: str
    stats: FuzzStats
    findings: FindingsCollector
    operations: tuple[str, ...]
    tokens_issued: int
    token_errors: int
    run_problems: list[str]  # run-level failures (token layer broken, nothing tested)
    tokens_repeated: int = 0
    environment_problems: list[str] = field(default_factory=list)  # the tester's side: no answer, tokens refused
    interrupted: str = ""  # "interrupted by SIGTERM" when a signal stopped the run
    signal: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.run_problems) or self.findings.finding_count > 0


# -- per-run state, found by the schemathesis check and hook through the schema ------------
_ACTIVE: dict[int, _RunState] = {}
_ACTIVE_LOCK = threading.Lock()


class _RunState:
    def __init__(self, target: FuzzTarget, options: FuzzOptions, deadline: float) -> None:
        self.target = target
        self.options = options
        self.env = CheckEnv(target.contract, target.profile)
        self.collector = FindingsCollector(gateway_headers=tuple(name for name, _ in target.http.headers),
                                           advisory_checks=ADVISORY_CHECKS)
        self.stats = FuzzStats()
        self.lock = threading.Lock()
        self.stop_event: threading.Event | None = None
        self.started = time.monotonic()
        self.deadline = deadline
        self.pacer = Pacer(options.rate, deadline)
        self.tokens = TokenSource(fetch=target.fetch_token, on_broken=self.stop)
        self.probe_client = GuardedClient(target.http)
        self.operations = tuple(target.contract.operations)  # every operation of the contract is fuzzed
        self.probes_left = {op: options.no_token_probes for op in self.operations}
        self.adapter = GuardedAdapter(self.probe_client, deadline=lambda: self.deadline + REQUEST_GRACE_S,
                                      on_failure=self.note_transport_failure)
        self.retry_429 = Retry429(self.pacer, refresh_authorization=self.refresh_authorization,
                                  on_rate_limited=self.note_rate_limited)
        self.mutations = options.mutations
        # near-miss phone numbers go into the bodies whose schema has the property they mutate
        self.mutated_paths = {op.path for op in target.contract.operations.values()
                              if MUTATED_PROPERTY in (target.contract.declared_request_properties(op.operation_id) or ())}
        self.verify_bodies = 0
        self.operation_ids = {
            (op.method, op.path): op.operation_id for op in target.contract.operations.values()
        }

    # -- control ----------------------------------------------------------------------
    def stop(self, reason: str) -> None:
        with self.lock:
            if not self.stats.stop_reason:
                self.stats.stop_reason = redact(reason)
        if self.stop_event is not None:
            self.stop_event.set()

    def scope_for(self, operation: Any) -> str:
        op_id = self.operation_id(operation)
        return " ".join(self.target.contract.operation(op_id).scopes)

    def operation_id(self, operation: Any) -> str:
        return self.operation_ids[(operation.method.upper(), operation.path)]

    def refresh_authorization(self, request: Any) -> None:
        """Put a new token on a request about to be re-sent (after a 429)."""
        op_id = self._operation_for_url(request.url)
        if op_id is None:
            return
        token = self.tokens.fresh(" ".join(self.target.contract.operation(op_id).scopes))
        for name in [n for n in request.headers if n.lower() == "authorization"]:
            del request.headers[name]
        request.headers["Authorization"] = f"Bearer {token}"

    def _operation_for_url(self, url: str) -> str | None:
        for (_method, path), op_id in self.operation_ids.items():
            if url.split("?")[0].endswith(path):
                return op_id
        return None

    def maybe_mutate(self, case: Any) -> None:
        """Replace every MUTATION_SHARE-th fuzzed verify body by a CAMARA near-miss (see mutations.py).

        Done just before sending rather than in the hypothesis strategy: a strategy-level flatmap
        cost about a fifth of the throughput. With one worker the sequence, like the seed's, repeats.
        """
        if not self.mutations or case.operation.path not in self.mutated_paths or not isinstance(case.body, dict):
            return
        phase = getattr(getattr(getattr(case, "meta", None), "phase", None), "name", None)
        if getattr(phase, "value", phase) != "fuzzing":
            return
        with self.lock:
            self.verify_bodies += 1
            count = self.verify_bodies
        if count % MUTATION_SHARE == 0:
            case.body = mutate(case.body, count // MUTATION_SHARE - 1)

    def note_transport_failure(self, error: TargetError, cut_by_run: bool = False) -> None:
        """An answer that broke the bounds is the target's failure (unless the run's own deadline cut it short)."""
        if not isinstance(error, TargetMisbehaved) or (cut_by_run and isinstance(error, TargetTooSlow)):
            return
        with self.lock:
            self.stats.misbehaved += 1
            if not self.stats.first_misbehaviour:
                self.stats.first_misbehaviour = redact(str(error))[:300]

    def note_rate_limited(self, delay: float | None) -> None:
        with self.lock:
            self.stats.rate_limited += 1

    # -- per response -----------------------------------------------------------------
    def judge(self, response: Any, case: Any) -> None:
        """Judge one response; a check that breaks is a run problem, never a silently skipped response."""
        try:
            self._judge(response, case)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
            with self.lock:
                self.stats.unjudged += 1
                if len(self.stats.errors) < 20:
                    self.stats.errors.append(redact(f"kit check error: {type(exc).__name__}: {exc}".splitlines()[0])[:300])

    def _judge(self, response: Any, case: Any) -> None:
        operation = case.operation
        op_id = self.operation_id(operation)
        request = response.request
        ex = FuzzExchange.build(
            operation_id=op_id,
            operation_method=operation.method,
            method=request.method or case.method,
            url=request.url,
            request_headers=request.headers,
            request_body=request.body,
            status=response.status_code,
            response_headers=response.headers,
            response_body=response.content,
            elapsed_s=response.elapsed,
        )
        kind, _ = classify_request(self.env, ex)
        self._count(ex, kind, case)
        self._record(ex)
        if (
            kind is RequestKind.VALID
            and ex.authorization is not None
            and ex.status != 429
            and self._take_probe(op_id)
        ):
            self._probe_without_token(ex)
        self._maybe_stop()

    def _count(self, ex: FuzzExchange, kind: RequestKind, case: Any) -> None:
        phase = getattr(getattr(getattr(case, "meta", None), "phase", None), "name", None)
        with self.lock:
            s = self.stats
            now = time.monotonic()
            if s.first_response_at is None:
                s.first_response_at = now
            s.last_response_at = now
            s.cases += 1
            s.statuses[ex.status] += 1
            s.request_kinds[kind.value] += 1
            s.phases[str(getattr(phase, "value", phase) or "unknown")] += 1
            if ex.status >= 500:
                s.server_errors += 1
            if ex.authorization is not None and ex.declared_method:
                s.authenticated += 1
                if ex.status == 401:
                    s.authenticated_401 += 1
                if kind is RequestKind.VALID:
                    s.valid_authenticated += 1
                    s.valid_statuses[ex.status] += 1

    def _record(self, ex: FuzzExchange) -> None:
        if ex.status == 401 and self.target.tokens_from_tester and self.tokens.was_reused(ex.authorization):
            ex.memo[REUSED_TOKEN] = True
        for name, problems in run_all(self.env, ex).items():
            self.collector.record(name, ex, problems)

    def _take_probe(self, op_id: str) -> bool:
        with self.lock:
            if self.probes_left.get(op_id, 0) <= 0:
                return False
            self.probes_left[op_id] -= 1
            return True

    def _probe_without_token(self, ex: FuzzExchange) -> None:
        """Send the same valid request with no Authorization header at all: it must get 401."""
        dropped = ("authorization", "content-length", "host", "user-agent", "accept-encoding")  # the client sets the last two
        headers = {k: v for k, v in ex.request_headers.items() if k not in dropped}
        self.pacer.wait()
        deadline = self.deadline + REQUEST_GRACE_S
        cut_by_run = deadline < time.monotonic() + self.target.http.total_timeout
        try:
            result = self.probe_client.request(ex.method, ex.url, headers=headers, content=ex.request_body,
                                               deadline=deadline)
        except TargetError as exc:
            self.note_transport_failure(exc, cut_by_run)
            with self.lock:
                self.stats.probe_errors += 1
                self.stats.errors.append(redact(f"no-token probe: {exc}"))
            return
        with self.lock:
            self.stats.no_token_probes += 1
        probe = FuzzExchange.build(
            operation_id=ex.operation_id,
            operation_method=ex.operation_method,
            method=ex.method,
            url=ex.url,
            request_headers=result.request_headers,
            request_body=result.request_body,
            status=result.status,
            response_headers=result.headers.multi_items(),
            response_body=result.body,
            elapsed_s=result.elapsed,
            probe=NO_TOKEN_PROBE,
        )
        self._record(probe)

    def _maybe_stop(self) -> None:
        s = self.stats
        limit = self.options.max_failures
        if limit is not None and self.collector.finding_count >= limit:
            self.stop(f"--max-failures {limit} reached")
        elif s.authenticated >= EARLY_STOP_MIN_RESPONSES and s.ratio_401 >= EARLY_STOP_RATIO:
            self.stop(f"{s.authenticated_401} of {s.authenticated} authenticated requests got 401: token layer broken")
        elif time.monotonic() >= self.deadline:
            self.stop("--duration reached")

    def close(self) -> None:
        self.probe_client.close()


def _state_for(case: Any) -> _RunState | None:
    operation = getattr(case, "operation", None)
    schema = getattr(operation, "schema", None)
    return _ACTIVE.get(id(schema)) if schema is not None else None


# -- schemathesis registration (global registries; everything filters on the run's schema) --
_REGISTERED = False


def _register_with_schemathesis() -> None:
    global _REGISTERED
    if _REGISTERED:
        return
    import schemathesis

    @schemathesis.check
    def nv_camara(ctx: Any, response: Any, case: Any) -> bool | None:
        """The kit's CAMARA checks; verdicts go to the kit's collector, never back to schemathesis."""
        state = _state_for(case)
        if state is not None:
            state.judge(response, case)
        return None

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        """Wait for a send slot (``--rate``) and attach the 429 handler to the request."""
        state = _state_for(case)
        if state is None:
            return
        state.maybe_mutate(case)
        state.pacer.wait()

        hooks = dict(kwargs.get("hooks") or {})
        hooks["response"] = [*hooks.get("response", []), state.retry_429]
        kwargs["hooks"] = hooks

    @schemathesis.hook
    def after_network_error(context: Any, case: Any, request: Any) -> None:
        """Count requests that got no answer at all (refused, reset, timed out)."""
        state = _state_for(case)
        if state is not None:
            with state.lock:
                state.stats.no_answer += 1

    _REGISTERED = True


def _schemathesis_config(options: FuzzOptions, target: FuzzTarget) -> Any:
    import schemathesis

    verify = target.http.verify()
    return schemathesis.Config.from_dict(
        {
            "seed": options.seed,
            "max-time": max(1, math.ceil(options.duration_s)),
            "request-timeout": target.http.read_timeout,
            "tls-verify": verify,
            "workers": 1,
            "checks": {"enabled": False, "nv_camara": {"enabled": True}},
            "generation": {"mode": "all", "max-examples": options.max_examples, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "warnings": False,
        }
    )


def run_fuzz(target: FuzzTarget, options: FuzzOptions, *, progress: TextIO | None = None) -> FuzzOutcome:
    """Fuzz the target until the examples run out, ``duration_s`` passes, or a stop condition fires."""
    import schemathesis
    from schemathesis.engine import events, from_schema
    from schemathesis.schemas import BaseSchema

    options.validate()
    _register_with_schemathesis()
    if not target.contract.operations:
        raise ConfigError("spec", "the contract defines no operation with an operationId")

    started_at = _now_iso()
    interrupted, interrupted_by = "", 0
    deadline = time.monotonic() + options.duration_s
    state = _RunState(target, options, deadline)
    config = _schemathesis_config(options, target)
    try:
        schema: BaseSchema = schemathesis.openapi.from_dict(copy.deepcopy(target.contract.document), config=config)
        schema = schema.include(operation_id=list(state.operations))
        schema.config.update(base_url=target.api_base_url)
    except Exception as exc:  # schemathesis' own loader/config errors
        state.close()
        raise ConfigError("spec", f"schemathesis cannot load the contract: {redact(exc)}") from None
    schema.auth(refresh_interval=None)(fresh_token_auth_class(state.tokens, state.scope_for))

    ticker = _ProgressTicker(state, progress, options.progress_interval_s)
    with _ACTIVE_LOCK:
        _ACTIVE[id(schema)] = state
    try:
        with _engine_through_the_kit(state.adapter), _hypothesis_files_elsewhere():
            stream = from_schema(schema).execute()
            state.stop_event = stream.stop_event
            timer = threading.Timer(max(0.0, deadline - time.monotonic()), state.stop, args=("--duration reached",))
            timer.daemon = True
            timer.start()
            ticker.start()
            engine = threading.Thread(target=_consume, args=(stream, state, events), name="nv-fuzz-engine", daemon=True)
            engine.start()
            try:
                engine.join(max(0.0, deadline - time.monotonic()) + REQUEST_GRACE_S + ENGINE_GRACE_S)
            except KeyboardInterrupt:  # SIGINT or SIGTERM (interrupt.stop_on_signals): stop, then report what ran
                stop = current_stop()
                interrupted = stop.reason() if stop and stop.number else "interrupted"
                interrupted_by = stop.number if stop else 0
                state.stop(interrupted)
                engine.join(REQUEST_GRACE_S + ENGINE_GRACE_S)
            timer.cancel()
            if engine.is_alive():  # a stuck engine must not hold the command (or its report) past the bound
                state.stop("--duration reached")
                state.stats.errors.append(f"the fuzzing engine did not stop within {REQUEST_GRACE_S + ENGINE_GRACE_S:g} s "
                                          "of the deadline; the run was ended without it")
    finally:
        ticker.stop()
        with _ACTIVE_LOCK:
            _ACTIVE.pop(id(schema), None)
        state.close()

    state.stats.elapsed_s = time.monotonic() - state.started
    if state.tokens.issued == 0 and state.tokens.errors and not interrupted:
        raise TokenError(f"fuzz: no token could be obtained: {state.tokens.last_error}")
    outcome = FuzzOutcome(
        options=options,
        target_label=target.label or target.api_base_url,
        api_version=target.profile.version,
        contract_source=target.contract.source,
        started_at=started_at,
        finished_at=_now_iso(),
        stats=state.stats,
        findings=state.collector,
        operations=state.operations,
        tokens_issued=state.tokens.issued,
        tokens_repeated=state.tokens.repeated,
        token_errors=state.tokens.errors,
        run_problems=[] if interrupted else _run_problems(state),
        environment_problems=[] if interrupted else _environment_problems(state),
        interrupted=interrupted,
        signal=interrupted_by,
    )
    ticker.final(outcome)
    return outcome


def _consume(stream: Any, state: _RunState, events: Any) -> None:
    """Read the engine's events (in a thread of its own, so the caller can give up on a stuck engine)."""
    for event in stream:
        if isinstance(event, events.NonFatalError):
            _note_engine_error(state, event)
        elif isinstance(event, events.FatalError):
            state.stats.errors.append(redact(f"schemathesis: {event.exception}"))
        elif isinstance(event, events.EngineFinished) and not state.stats.stop_reason:
            state.stats.stop_reason = _stop_reason_text(event.stop_reason)


@contextmanager
def _engine_through_the_kit(adapter: GuardedAdapter) -> Iterator[None]:
    """Every session the engine makes (its probes' and its one-off sessions too) sends through the kit's client.

    Also: schemathesis parses successful JSON answers itself (to reuse their data) and lets a
    RecursionError from a body nested 100,000 deep kill its worker thread; here such a body is a
    ValueError, which it handles as "not JSON".
    """
    from schemathesis.core import transport as core_transport
    from schemathesis.engine import context
    from schemathesis.transport import requests as transport

    original_json = core_transport.Response.json

    def bounded_json(self: Any) -> Any:
        if nested_too_deep(self.content):
            raise ValueError("nested too deep to parse")
        try:
            return original_json(self)
        except RecursionError:
            raise ValueError("nested too deep to parse") from None

    original = context.make_session
    one_off = transport.SameHostRedirectsSession

    def make_session(*args: Any, **kwargs: Any) -> Any:
        return mount(original(*args, **kwargs), adapter)

    class GuardedSession(one_off):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            mount(self, adapter)

    context.make_session = make_session
    transport.SameHostRedirectsSession = GuardedSession  # type: ignore[misc]
    core_transport.Response.json = bounded_json  # type: ignore[method-assign]
    try:
        yield
    finally:
        context.make_session = original
        transport.SameHostRedirectsSession = one_off  # type: ignore[misc]
        core_transport.Response.json = original_json  # type: ignore[method-assign]


def hypothesis_home() -> Path:
    """Where hypothesis keeps its caches for the kit: never the current directory.

    ``HYPOTHESIS_STORAGE_DIRECTORY`` if set, else the user's cache directory. It must persist:
    hypothesis builds its Unicode tables there once (about 250 MB and seconds of CPU the
    first time), then every later run reads them back.
    """
    given = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "nv-conformance" / "hypothesis"


@contextmanager
def _hypothesis_files_elsewhere() -> Iterator[None]:
    """hypothesis writes under ``./.hypothesis`` by default; the kit's cache directory instead (a temporary one if unusable)."""
    from hypothesis import configuration

    home = hypothesis_home()
    with tempfile.TemporaryDirectory(prefix="nv-fuzz-hypothesis-") as fallback:
        try:
            home.mkdir(parents=True, exist_ok=True)
            usable = os.access(home, os.W_OK | os.X_OK)
        except OSError:
            usable = False
        configuration.set_hypothesis_home_dir(home if usable else fallback)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(None)


def _environment_problems(state: _RunState) -> list[str]:
    """What went wrong on the tester's side or in between: nothing answered, tokens could not be obtained."""
    s = state.stats
    problems = []
    if s.authenticated == 0 and s.no_answer:
        problems.append(f"{s.no_answer} request(s) got no answer at all: is the target reachable?"
                        + (f" (first error: {s.errors[0]})" if s.errors else ""))
    if state.tokens.errors:
        problems.append(f"{state.tokens.errors} token request(s) failed; last: {state.tokens.last_error}")
    if s.authenticated and s.ratio_401 > BROKEN_TOKEN_RATIO and _testers_reused_tokens(state):
        # The kit sent the same token again (a `static` one): a target that refuses a used token is right to.
        problems.append(
            f"{s.authenticated_401} of {s.authenticated} authenticated requests ({s.ratio_401:.0%}) got 401 and the "
            f"token layer handed out {state.tokens.repeated} token(s) more than once: fuzzing a single-use target "
            "needs a method that mints a token per call (not `static`)")
    return problems


def _testers_reused_tokens(state: _RunState) -> bool:
    """The kit sent tokens of the tester's own source more than once (single-use targets may refuse them)."""
    return bool(state.tokens.repeated) and state.target.tokens_from_tester


def _run_problems(state: _RunState) -> list[str]:
    """What makes the run prove nothing, the target's side (the tester's side: :func:`_environment_problems`)."""
    s = state.stats
    problems = []
    if s.misbehaved:
        problems.append(f"{s.misbehaved} answer(s) of the target broke the kit's bounds (size, time or encoding); "
                        f"first: {s.first_misbehaviour}")
    if s.authenticated == 0 and not s.no_answer:
        first = f" (first error: {s.errors[0]})" if s.errors else ""
        problems.append(f"no authenticated request was answered: nothing was tested{first}")
    elif s.ratio_401 > BROKEN_TOKEN_RATIO:
        if not _testers_reused_tokens(state):  # else the tester's side (:func:`_environment_problems`)
            problems.append(
                f"{s.authenticated_401} of {s.authenticated} authenticated requests ({s.ratio_401:.0%}) got 401: "
                "the fresh tokens were rejected, so the run proves nothing (token layer broken)"
                + (f"; the target's token endpoint issued {state.tokens.repeated} token(s) more than once"
                   if state.tokens.repeated else ""))
    elif s.valid_authenticated >= MIN_VALID_FOR_SUCCESS_GUARD:
        succeeded = sum(n for status, n in s.valid_statuses.items() if 200 <= status < 300)
        if succeeded * 2 < s.valid_authenticated:
            common = ", ".join(f"{n} x {status}" for status, n in s.valid_statuses.most_common(3))
            problems.append(
                f"only {succeeded} of {s.valid_authenticated} valid requests with a fresh token succeeded ({common}): "
                "the success paths were not tested (do the tokens carry the scope and network-based authentication?)"
            )
    untested = [op for op in state.operations
                if s.authenticated and not state.collector.applied[("no_server_error", op)]]
    if untested:
        problems.append(f"no response of {', '.join(untested)} was judged: that operation was not tested")
    if s.unjudged:
        problems.append(f"{s.unjudged} response(s) could not be judged: the kit's checks failed on them "
                        "(see engine_errors); a run with unjudged responses cannot pass")
    return problems


def _note_engine_error(state: _RunState, event: Any) -> None:
    info = getattr(event, "info", None)
    text = f"{getattr(info, 'title', 'error')}: {getattr(info, 'message', '')}".strip()
    line = redact(text.splitlines()[0][:300] if text else "schemathesis error")
    with state.lock:
        if len(state.stats.errors) < 20 and line not in state.stats.errors:
            state.stats.errors.append(line)


def _stop_reason_text(reason: Any) -> str:
    value = getattr(reason, "value", str(reason))
    return {"completed": "all examples run", "max_time": "--duration reached"}.get(value, value)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _ProgressTicker:
    """Prints one progress line every few seconds while the engine runs (the engine's events are too coarse)."""

    def __init__(self, state: _RunState, stream: TextIO | None, interval: float) -> None:
        self.state = state
        self.stream = stream
        self.interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nv-fuzz-progress", daemon=True)

    def start(self) -> None:
        if self.stream is not None:
            self._print(f"fuzz: {self.state.target.label or self.state.target.api_base_url} "
                        f"(API {self.state.target.profile.version}), seed {self.state.options.seed}, "
                        f"up to {self.state.options.duration_s:g} s, "
                        f"{self.state.options.max_examples} examples per operation and phase, "
                        + (f"at most {self.state.options.rate:g} requests/s" if self.state.options.rate else "no rate limit"))
            self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self._print(self.line())

    def line(self) -> str:
        s = self.state.stats
        elapsed = max(time.monotonic() - self.state.started, 1e-9)
        return (f"fuzz: {elapsed:5.1f} s  {s.cases} cases ({s.cases / elapsed:.1f}/s)  "
                f"findings {self.state.collector.finding_count}  5xx {s.server_errors}  "
                f"401 {s.authenticated_401}/{s.authenticated}  429 {s.rate_limited}")

    def final(self, outcome: FuzzOutcome) -> None:
        if self.stream is None:
            return
        s = outcome.stats
        self._print(f"fuzz: done in {s.elapsed_s:.1f} s ({s.stop_reason or 'finished'}): {s.cases} cases, "
                    f"{s.cases_per_s:.1f} cases/s, {outcome.findings.finding_count} finding(s), "
                    f"5xx {s.server_errors}, 401 ratio {s.ratio_401:.1%}")

    def _print(self, line: str) -> None:
        assert self.stream is not None
        print(redact(line), file=self.stream, flush=True)
