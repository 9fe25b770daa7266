"""Scenarios of one run side by side (``run --jobs N``), reported as if they had run one after another.

Against a remote target nearly all of a run's time is waiting: round trips and CIBA's poll
interval. :class:`ConcurrentRunner` is behave's Runner with the features loop replaced:

1. ``before_all`` opens the session as usual;
2. a dry run of the selected scenarios makes the token plan (bdd/plan.py) and a
   :class:`~nv_conformance.tokens.pool.TokenPool` starts every planned acquisition at once;
3. up to N scenarios run in worker threads, each on its own behave Context (so its own
   ScenarioState: own tokens, own x-correlator, own conversation); every request, API or token,
   passes one :class:`~nv_conformance.http.RequestGate` (``http.max_concurrency``, ``--rate``);
4. the hooks hand each finished result to this runner, which releases results, progress lines
   and undefined steps strictly in the features' order: every report is what a sequential run
   writes, times aside.

Scenarios share no state but the target: a scenario that reuses a token reuses its own. behave's
output capture swaps ``sys.stdout`` for the whole process, so a concurrent run turns it off
(the kit prints through the progress printer, which writes to the real stdout anyway).
``--jobs 1`` is behave's own loop, unchanged.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from behave.capture import CaptureController
from behave.runner import Context, Runner

from ..http import Pace, RequestGate
from ..report.progress import selected_scenarios
from ..results import ScenarioResult
from ..tokens.pool import TokenPool
from . import hooks
from .plan import describe_plan, token_plan
from .session import Session

NO_CAPTURE = ["--no-capture", "--no-capture-stderr", "--no-logcapture"]


class MatchCache:
    """behave's step registry, each sentence matched once per run (the dry run and the real run
    match the same steps; behave tries every definition's pattern per step). A behave Match holds
    only the step function and its arguments, so one serves every scenario and thread."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._matches: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def find_match(self, step: Any) -> Any:
        key = (str(step.step_type), str(step.name))
        with self._lock:
            if key in self._matches:
                return self._matches[key]
        match = self._registry.find_match(step)
        with self._lock:
            self._matches[key] = match
        return match

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)


class ConcurrentRunner(Runner):
    """behave's Runner; with ``jobs > 1`` the scenarios run concurrently (see the module docstring)."""

    def __init__(self, config: Any, *, jobs: int = 1, rate: float | None = None) -> None:
        super().__init__(config)
        self.jobs = jobs
        self.rate = rate
        self._local = threading.local()
        self._matches: MatchCache | None = None
        self._results: dict[int, tuple[ScenarioResult, list[str]]] = {}
        self._results_lock = threading.Lock()

    # -- behave's entry point ------------------------------------------------------------------
    def run_model(self, features: Any = None) -> bool:
        if self.jobs <= 1:
            return bool(super().run_model(features))
        if not self.context:  # type: ignore[has-type]
            self.context = Context(self)
        if self.step_registry is None:  # type: ignore[has-type]
            from behave.step_registry import registry

            self.step_registry = registry
        features = self.features if features is None else features
        self.hook_failures = 0
        self.run_hook("before_all")
        session: Session | None = getattr(self.context, "nv_session", None)
        undefined_before = len(self.undefined_steps)
        if session is not None and not self.aborted:
            self._run_scenarios(session, selected_scenarios(features, self.config))
        elif not self.aborted:  # hooks other than the kit's (no session to plan with): behave's own loop
            for feature in features:
                try:
                    feature.run(self)
                except KeyboardInterrupt:
                    self.abort(reason="KeyboardInterrupt")
                if self.aborted:
                    break
        self.run_hook_with_capture("after_all")
        cleanups_failed = False
        try:
            self.context._do_remaining_cleanups()
        except Exception:  # noqa: BLE001 - behave's own bookkeeping, as in its run_model
            cleanups_failed = True
        for formatter in self.formatters:
            formatter.close()
        for reporter in self.config.reporters:
            reporter.end()
        return bool(self.aborted or self.hook_failures or cleanups_failed
                    or len(self.undefined_steps) > undefined_before)

    # -- the concurrent part ---------------------------------------------------------------------
    def _run_scenarios(self, session: Session, scenarios: list[Any]) -> None:
        self._matches = MatchCache(self.step_registry)
        target_client = session.client
        provider = session.tokens
        # Token requests: at most http.max_concurrency in flight; API requests: one per running scenario.
        pace = Pace(self.rate) if self.rate else None
        gate = RequestGate(target_client.settings.max_concurrency, pace)
        target_client.gate = RequestGate(self.jobs, pace)
        use_gate = getattr(provider, "use_gate", None)
        if callable(use_gate):
            use_gate(gate)
        pool: TokenPool | None = None
        # behave logs a warning per skipped scenario, which its (here disabled) log capture used to swallow
        behave_log = logging.getLogger("behave")
        log_level = behave_log.level
        behave_log.setLevel(logging.ERROR)
        try:
            # The dry run first, on its own: acquisitions running beside it would only slow it down (one GIL);
            # only the discovery documents, one request each, are fetched meanwhile.
            prepare = getattr(provider, "prepare", None)
            preparing = threading.Thread(target=prepare, name="nv-token-prepare", daemon=True) if callable(prepare) else None
            if preparing is not None:
                preparing.start()
            plan = token_plan(scenarios, session, self._run_one)
            if provider is not None and plan:
                pool = TokenPool(provider)
                for kind, scope in plan:  # in the order the scenarios will ask
                    pool.add(kind, scope)
                session.tokens = pool
            if session.printer is not None:
                session.printer.note(f"{self.jobs} scenarios at a time, at most {gate.limit} token requests in flight"
                                     + (f", {self.rate:g}/s" if self.rate else "")
                                     + f"; tokens fetched ahead ({describe_plan(plan)})")
            session.collect = self._collect
            self._run_in_order(session, scenarios)
        finally:
            behave_log.setLevel(log_level)
            session.collect = None
            session.tokens = provider
            if pool is not None:
                pool.close()
            target_client.gate = None
            if callable(use_gate):
                use_gate(None)

    def _run_in_order(self, session: Session, scenarios: list[Any]) -> None:
        executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="nv-scenario")
        futures: list[Future[None]] = [executor.submit(self._run_one, scenario, session) for scenario in scenarios]
        try:
            for scenario, future in zip(scenarios, futures, strict=True):
                future.result()
                self._release(session, scenario)
                if self.aborted:  # Ctrl-C inside a step (behave stops there): nothing after it is reported
                    for pending in futures:
                        pending.cancel()
                    break
        except KeyboardInterrupt:
            # As behave does: stop, and let after_all write the reports of what ran (in order, up to
            # the first scenario that had not finished when Ctrl-C came).
            self.abort(reason="KeyboardInterrupt")
            finished = [future.done() for future in futures]
            for future in futures:
                future.cancel()
            executor.shutdown(wait=True, cancel_futures=True)
            for scenario, done in zip(scenarios, finished, strict=True):
                if not done:
                    break
                self._release(session, scenario)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _release(self, session: Session, scenario: Any) -> None:
        with self._results_lock:
            finished = self._results.pop(id(scenario), None)
        if finished is not None:
            hooks.record_result(session, *finished)

    def _collect(self, scenario: Any, result: ScenarioResult, undefined: list[str]) -> None:
        with self._results_lock:
            self._results[id(scenario)] = (result, undefined)

    def _run_one(self, scenario: Any, session: Session) -> None:
        """Run one scenario on this thread's own behave runner and Context, with ``session``."""
        worker = self._worker()
        worker.context.nv_session = session
        scenario.run(worker)
        if worker.aborted and not self.aborted:
            self.abort(reason="KeyboardInterrupt")

    def _worker(self) -> Runner:
        """This thread's runner: behave's, sharing hooks, steps and config, with its own Context."""
        worker = getattr(self._local, "runner", None)
        if worker is None:
            worker = Runner(self.config)
            worker.hooks = self.hooks
            worker.formatters = self.formatters
            worker.step_registry = self._matches or self.step_registry
            worker._undefined_steps = self._undefined_steps
            worker.capture_controller = CaptureController(self.config)
            worker.context = Context(worker)
            # What before_all put on the run's context (the session, a stand-in hook's own state)
            own = set(worker.context._root)
            for name, value in self.context._root.items():
                if name not in own:
                    worker.context._root[name] = value
            self._local.runner = worker
        return worker
