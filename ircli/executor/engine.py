"""The executor: one action over many targets, as fast as the platform allows.

Shape of a run::

    producer ──intent (durable)──▶ queue ──▶ N workers ──▶ outcomes (buffered, flushed)
                                               │  token bucket, circuit breaker,
                                               └─ retries with backoff / Retry-After

Nothing is sent for a target before its intent record is committed. Every attempt for a
target (or batch) carries the same idempotency key. A stop request (Ctrl-C) or a pause
(Retry-After too long, breaker open too long) stops the producer, lets in-flight requests
finish, records what is known, and reports the run as interrupted or paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ircli.executor.breaker import CircuitBreaker
from ircli.executor.crashpoints import CrashHook, no_crash
from ircli.executor.delivery import Delivery
from ircli.executor.events import (
    BreakerClosed,
    BreakerOpened,
    CheckUnreadable,
    EventSink,
    RetryScheduled,
    RunPaused,
    StoreFailing,
    StoreRecovered,
    TargetsSettled,
    ignore,
)
from ircli.executor.journal import (
    RunJournal,
    StoreUnwritable,
    TargetResult,
    count_outcomes,
    idempotency_key,
)
from ircli.executor.pacing import RetryBudget, TokenBucket, backoff_delay, parse_retry_after
from ircli.platform.bodies import platform_says
from ircli.platform.classify import classify, classify_batch, dig, found
from ircli.platform.client import PlatformClient, Reply, TransportFailure
from ircli.platform.generate import Generator, masked
from ircli.platform.model import ActionSpec, Limits, Outcome, Profile
from ircli.platform.render import PreparedRequest, render

__all__ = ["ExecutionReport", "Executor", "Tuning"]

INTENT_GROUP = 512
"""Targets per intent record in single-target mode (one commit covers this many sends)."""
BATCH_INTENT_GROUP = 2048
"""Targets per intent record in batch mode, at least one batch."""
REFUSALS_TO_STOP = 5
"""Consecutive 401/403 answers that pause the run: no thousands of doomed requests."""


@dataclass(frozen=True)
class Tuning:
    """The limits one execution runs with (profile defaults, then overrides)."""

    concurrency: int = 32
    rate: float = 1000.0
    burst: float | None = None
    batch_size: int | None = None
    retries: int = 5
    retry_budget: float = 0.2
    backoff_base: float = 0.05
    backoff_max: float = 5.0
    max_retry_after: float = 60.0
    breaker_failures: int = 20
    breaker_probe: float = 1.0
    breaker_max_pause: float = 60.0
    """Seconds the circuit breaker waits for the platform before the run pauses, and the
    journal for a store that refuses writes before the run stops (--max-pause)."""

    @classmethod
    def from_limits(cls, limits: Limits, overrides: Mapping[str, Any]) -> Tuning:
        """Profile limits with command-line / playbook overrides applied."""
        base = cls(
            concurrency=limits.concurrency,
            rate=limits.rate,
            burst=limits.burst,
            retries=limits.retries,
            retry_budget=limits.retry_budget,
            backoff_base=limits.backoff_base,
            backoff_max=limits.backoff_max,
            max_retry_after=limits.max_retry_after,
            breaker_failures=limits.breaker_failures,
            breaker_probe=limits.breaker_probe,
        )
        known = {k: v for k, v in overrides.items() if v is not None and hasattr(base, k)}
        return replace(base, **known)


@dataclass
class ExecutionReport:
    """What one execution did."""

    status: str
    results: dict[str, TargetResult] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    elapsed: float = 0.0
    reason: str | None = None
    store_failed: bool = False
    """The audit store refused the run's writes too long: the run stopped (``reason``)."""

    def counts(self) -> dict[str, int]:
        return count_outcomes(self.results.values())


@dataclass
class _Item:
    targets: list[str]
    key: str
    attempts: int = 0
    charged: int = 0
    """Attempts counted against the retry limit (failures during an outage are not)."""
    started: float = 0.0
    pending: list[str] = field(default_factory=list)
    """The targets still without a final outcome (all of them before the first attempt)."""

    def __post_init__(self) -> None:
        if not self.pending:
            self.pending = list(self.targets)


class Executor:
    """Runs one action for a list of targets; see the module docstring."""

    def __init__(
        self,
        *,
        profile: Profile,
        action: ActionSpec,
        params: Mapping[str, Any],
        client: PlatformClient,
        journal: RunJournal,
        tuning: Tuning,
        on_event: EventSink = ignore,
        rng: random.Random | None = None,
        stop: asyncio.Event | None = None,
        crash: CrashHook = no_crash,
        generator: Generator | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.profile = profile
        self.generator = generator
        """The run's generated values (``{generate.NAME}``), in single-target requests."""
        self.delivery = delivery
        self.crash = crash
        self.action = action
        self.params = dict(params)
        self.client = client
        self.journal = journal
        self.tuning = tuning
        self.on_event = on_event
        self.rng = rng or random.Random()
        self.stop = stop or asyncio.Event()
        self.batch = action.batch if tuning.batch_size and action.batch else None
        self.bucket = TokenBucket(tuning.rate, tuning.burst)
        self.budget = RetryBudget(tuning.retry_budget)
        self.breaker = CircuitBreaker(tuning.breaker_failures)
        self.report = ExecutionReport(status="running")
        self._prober: asyncio.Task[None] | None = None
        self._paused: str | None = None
        self._open = 0
        """Items queued or waiting to be retried, not yet settled."""
        self._refused_in_a_row = 0
        """Consecutive 401/403 answers: the credentials are wrong, not one target."""
        self._down_because = ""
        """The failure that opened the circuit breaker, with its URL."""
        self._settled_all = asyncio.Event()
        self._waiting: set[asyncio.Task[None]] = set()
        """Retries sleeping out their backoff, off the workers."""
        journal.on_trouble = self._store_trouble

    def _store_trouble(self, cause: str | None, retry_in: float) -> None:
        if cause is None:
            self.on_event(StoreRecovered(self.journal.store_url))
        else:
            self.on_event(StoreFailing(self.journal.store_url, cause, retry_in))

    # -- the run ---------------------------------------------------------------------------

    async def run(
        self, targets: Sequence[str], *, unknown: Collection[str] = ()
    ) -> ExecutionReport:
        """Execute for ``targets`` (in order) and return the report.

        ``unknown`` are targets whose request may already have reached the platform (the
        write-ahead gap of an interrupted run being resumed). An idempotent action sends them
        again with the same keys; for any other action they are checked with the profile's
        read first, and only those not in effect are sent.
        """
        started = time.monotonic()
        queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=self.tuning.concurrency * 2)
        flusher = asyncio.create_task(self.journal.flush_periodically())
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.tuning.concurrency)]
        producer: asyncio.Task[None] | None = None
        try:
            todo = await self._look_before_resending(list(targets), unknown)
            producer = asyncio.create_task(self._produce(todo, queue))
            # The flusher can fail (the store stayed unwritable) while the producer waits
            # for queue room the held-back workers never make: watch both.
            await asyncio.wait([producer, flusher], return_when=asyncio.FIRST_COMPLETED)
            if flusher.done():
                flusher.result()
            producer.result()
            await self._until_settled([*workers, flusher])
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        except StoreUnwritable:
            self.stop.set()  # the store refused writes too long: the run stops here
        except asyncio.CancelledError:
            if not self.stop.is_set():
                raise  # not an operator's abort: whoever cancelled decides
            # A second Ctrl-C (or SIGTERM) after the first asked to drain: drop what is in
            # flight, but record what is known and end the run as interrupted.
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            self.journal.hurry = True  # a store refusing writes does not hold the abort up
        finally:
            tasks = [*workers, *self._waiting, flusher, self._prober, producer]
            for task in tasks:
                if task is not None and not task.done():
                    task.cancel()
            await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
            with contextlib.suppress(StoreUnwritable):  # already said: journal.failure
                await self.journal.flush()
        self.report.elapsed = time.monotonic() - started
        self.report.retries = self.budget.retries
        self.report.status = self._final_status(targets)
        return self.report

    async def _until_settled(self, workers: list[asyncio.Task[None]]) -> None:
        """Wait until every queued item has settled, retries included (a worker, or the
        journal's flusher, that died raises here instead of leaving the run waiting)."""
        while self._open:
            self._settled_all.clear()
            settled = asyncio.ensure_future(self._settled_all.wait())
            await asyncio.wait([settled, *workers], return_when=asyncio.FIRST_COMPLETED)
            if not settled.done():
                settled.cancel()
                for worker in workers:
                    if worker.done():
                        worker.result()  # raises the worker's error
                raise RuntimeError("an executor worker ended early")  # pragma: no cover

    def _close(self, item: _Item) -> None:
        """``item`` has settled: it no longer keeps the run open."""
        self._open -= 1
        if not self._open:
            self._settled_all.set()

    def _final_status(self, targets: Sequence[str]) -> str:
        if self.journal.failure is not None:
            self.report.reason = self.journal.failure.message
            self.report.store_failed = True
            return "interrupted"
        if self._paused is not None:
            self.report.reason = self._paused
            return "paused"
        if self.stop.is_set():
            return "interrupted"
        results = self.report.results
        if self.journal.pending:  # never "completed" with an outcome not on record
            return "incomplete"  # pragma: no cover - the final flush raised or wrote them
        if all(t in results for t in targets) and not self.report.counts()[Outcome.RETRYABLE]:
            return "completed"
        return "incomplete"

    def _request_size(self) -> int:
        """Targets per request: 1, or the batch size."""
        if self.batch is None:
            return 1
        return min(self.tuning.batch_size or self.batch.max_size, self.batch.max_size)

    def _requests(self, targets: list[str]) -> Iterator[list[str]]:
        """The targets of each request, in order.

        A batch never mixes targets of two of the run's original batches (slices of the
        run's target list): resuming a run resends an untouched batch whole, under the key
        its first attempt carried, and a partly settled one as the subset a retry would send.
        """
        size = self._request_size()
        everything = self.journal.spec.targets
        if size == 1 or len(targets) == len(everything):
            for start in range(0, len(targets), size):
                yield targets[start : start + size]
            return
        position = {target: index for index, target in enumerate(everything)}
        batch: list[str] = []
        slot = None
        for target in targets:
            target_slot = position.get(target, -1) // size
            if batch and (target_slot != slot or len(batch) == size):
                yield batch
                batch = []
            batch.append(target)
            slot = target_slot
        if batch:
            yield batch

    async def _produce(self, targets: list[str], queue: asyncio.Queue[_Item | None]) -> None:
        # Items (and their keys) are made a group at a time: the first requests leave
        # without waiting for every key of a large run to be computed.
        run, step, name = self.journal.spec.run, self.journal.spec.step, self.action.name
        per_record = INTENT_GROUP if self.batch is None else BATCH_INTENT_GROUP
        per_group = max(1, per_record // self._request_size())  # whole requests per record
        group: list[_Item] = []
        for chunk in self._requests(targets):
            group.append(_Item(chunk, idempotency_key(run, step, name, chunk)))
            if len(group) == per_group:
                if not await self._intend_and_queue(group, queue):
                    return
                group = []
        if group:
            await self._intend_and_queue(group, queue)

    async def _intend_and_queue(
        self, group: list[_Item], queue: asyncio.Queue[_Item | None]
    ) -> bool:
        """Make the group's intent durable, then hand its items to the workers; False once
        the run is stopping (nothing more is taken)."""
        if self.stop.is_set():
            return False
        self.crash("before-intent")
        await self.journal.intend(
            [t for item in group for t in item.targets], batch=self.batch is not None
        )
        self.crash("after-intent")
        self.budget.record_first_attempt(len(group))
        for item in group:
            if self.stop.is_set():
                self._settle_unsent(item)
                continue
            self._open += 1
            await queue.put(item)
        return True

    async def _worker(self, queue: asyncio.Queue[_Item | None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                delay = await self._process(item)
            except BaseException:
                self._close(item)
                raise
            if delay is None:
                self._close(item)
            else:
                self._retry_later(item, delay, queue)

    def _retry_later(self, item: _Item, delay: float, queue: asyncio.Queue[_Item | None]) -> None:
        """Queue ``item`` again after ``delay``: the worker (the concurrency slot) is free for
        other targets meanwhile."""

        async def wait_then_queue() -> None:
            if await self._sleep_or_stop(delay):
                self._settle_stopped(item)
                self._close(item)
                return
            await queue.put(item)

        task = asyncio.create_task(wait_then_queue())
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    # -- one item (a target, or a batch) ---------------------------------------------------

    async def _process(self, item: _Item) -> float | None:
        """Attempt ``item`` until it settles (``None``) or needs a retry later (its delay).

        While the circuit breaker is open the worker waits here: the platform is down, and no
        other target could be sent either.
        """
        if not item.started:
            item.started = time.monotonic()
        while item.pending:
            await self.breaker.acquire()
            if not self.journal.writable.is_set():  # the store refuses writes: send nothing
                await _first_of(self.journal.writable, self.stop)
            if self.stop.is_set():
                self._settle_stopped(item)
                return None
            await self.bucket.acquire()
            item.attempts += 1
            self.report.requests += 1
            outcomes, status, error, retry_after = await self._attempt(item, item.pending)
            pending: list[str] = []
            for outcome, targets in outcomes.items():
                if outcome.final:
                    self._settle(item, targets, outcome, status, error)
                else:
                    pending += targets
            item.pending = pending
            if not pending:
                return None
            if self.breaker.is_open and not self.stop.is_set():
                # The platform is down: wait for it (in acquire) without spending retries.
                self.on_event(RetryScheduled(len(pending), 0.0, "waiting for the platform"))
                continue
            item.charged += 1
            delay = self._retry_delay(item, retry_after)
            if delay is None:
                reason = error or f"HTTP {status}"
                self._settle(item, pending, Outcome.RETRYABLE, status, f"gave up: {reason}")
                return None
            self.on_event(RetryScheduled(len(pending), delay, error or f"HTTP {status}"))
            return delay
        return None

    async def _attempt(
        self, item: _Item, pending: list[str]
    ) -> tuple[dict[Outcome, list[str]], int | None, str | None, float | None]:
        """One request; returns the targets by outcome, status, error text and Retry-After."""
        request = self._request(pending)
        # A batch retry sends only the targets still pending: a different body needs a new key.
        key = (
            item.key
            if pending == item.targets
            else idempotency_key(
                self.journal.spec.run, self.journal.spec.step, self.action.name, pending
            )
        )
        try:
            reply = await self.client.send(request, key, kind="action")
            self.crash("after-send")
        except TransportFailure as failure:
            detail = self._masked(str(failure), pending)
            if self.breaker.record_failure():
                self._breaker_opened(request, detail)
            if failure.ambiguous and not self.action.idempotent:
                return await self._reconcile(pending), None, detail, None
            return {Outcome.RETRYABLE: pending}, None, detail, None
        if reply.status in (401, 403):
            self._refused_in_a_row += 1
            if self._refused_in_a_row >= REFUSALS_TO_STOP:
                self._pause(
                    f"the platform refused the credentials {self._refused_in_a_row} times in a "
                    f"row (HTTP {reply.status} from {self.profile.base_url + request.path})"
                )
        else:
            self._refused_in_a_row = 0
        if reply.status >= 500:
            if self.breaker.record_failure():
                self._breaker_opened(request, f"HTTP {reply.status}")
        elif self.breaker.is_open:
            self.breaker.record_success()
            self.on_event(BreakerClosed())
        else:
            self.breaker.record_success()
        outcomes = self._classify(reply, pending)
        error = None if all(o.succeeded for o in outcomes) else self._error_text(reply, pending)
        retry_after = parse_retry_after(reply.headers.get("retry-after"))
        if reply.status == 429 or (retry_after is not None and reply.status >= 500):
            self.bucket.slow_down(retry_after)  # the whole run slows, not only this target
        return outcomes, reply.status, error, retry_after

    def _error_text(self, reply: Reply, pending: list[str]) -> str:
        """The platform's error, for the audit: a generated value it echoes is masked."""
        return self._masked(_error_text(reply), pending)

    def _masked(self, text: str, pending: list[str]) -> str:
        """``text`` without the target's generated values (a platform may echo them)."""
        if self.generator is None or self.batch is not None:
            return text
        return masked(text, self.generator.values(pending[0]))

    def _request(self, pending: list[str]) -> PreparedRequest:
        variables = self.profile.variables
        if self.batch is not None:
            return render(
                self.batch.request, targets=pending, params=self.params, variables=variables
            )
        target = pending[0]
        generated = self.generator.values(target) if self.generator is not None else None
        return render(
            self.action.request,
            target=target,
            params=self.params,
            variables=variables,
            generated=generated,
        )

    def _classify(self, reply: Reply, pending: list[str]) -> dict[Outcome, list[str]]:
        if self.batch is not None:
            return classify_batch(self.batch, self.action, reply.status, reply.body, pending)
        return {classify(self.action, reply.status, reply.body): pending}

    async def _look_before_resending(
        self, targets: list[str], unknown: Collection[str]
    ) -> list[str]:
        """Settle the ``unknown`` targets a non-idempotent action may already have applied;
        return the targets still to send."""
        if self.action.idempotent or not unknown or self.stop.is_set():
            return targets
        maybe_applied = set(unknown)
        unsure = [t for t in targets if t in maybe_applied]
        if not unsure:
            return targets
        item = _Item(unsure, key="", started=time.monotonic())
        looked = await self._reconcile(unsure)
        for outcome, group in looked.items():
            if outcome.final:
                self._settle(item, group, outcome, None, _NOT_RESENT)
        # Sent: what was never sent, and what the check showed not in effect. A target
        # whose check could not be read stays unknown, for the next resume to look again.
        resend = set(looked.get(Outcome.RETRYABLE, ()))
        return [t for t in targets if t not in maybe_applied or t in resend]

    async def _reconcile(self, pending: list[str]) -> dict[Outcome, list[str]]:
        """Before resending a non-idempotent action that may have been applied: look.

        Targets the check shows in effect are ``DONE``; those it shows not in effect
        ``RETRYABLE`` (safe to send again). A target whose check cannot be read (no answer,
        an error status, the field missing) is left out: its outcome stays unknown and it is
        not sent — a resume looks again. Without a check in the profile nothing can be
        known: ``FAILED``, left for a human.
        """
        check = self.action.check
        if check is None:
            return {Outcome.FAILED: pending}
        lanes = asyncio.Semaphore(self.tuning.concurrency)

        async def in_effect(target: str) -> bool | None:
            request = render(
                check.request, target=target, params=self.params, variables=self.profile.variables
            )
            async with lanes:
                await self.bucket.acquire()
                try:
                    reply = await self.client.send(request, kind="check")
                except TransportFailure:
                    return None
            if reply.status in (404, 410):
                return False  # gone: sending decides (the action's own mapping says failed)
            if reply.problem is not None:
                self.on_event(CheckUnreadable(f"a check read could not be used: {reply.problem}"))
                return None
            value = dig(reply.body, check.field)
            if reply.status >= 300 or not found(value):
                return None
            return value in check.equals

        seen = await asyncio.gather(*(in_effect(target) for target in pending))
        grouped: dict[Outcome, list[str]] = {}
        for target, applied in zip(pending, seen, strict=True):
            if applied is not None:
                outcome = Outcome.DONE if applied else Outcome.RETRYABLE
                grouped.setdefault(outcome, []).append(target)
        return grouped

    def _retry_delay(self, item: _Item, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if item.charged > self.tuning.retries or not self.budget.try_spend():
            return None
        if retry_after is not None:
            if retry_after > self.tuning.max_retry_after:
                self._pause(
                    f"the platform asked to wait {retry_after:.0f} s (Retry-After), more than "
                    f"the {self.tuning.max_retry_after:.0f} s maximum"
                )
            return retry_after
        return backoff_delay(
            item.attempts, self.tuning.backoff_base, self.tuning.backoff_max, self.rng
        )

    async def _sleep_or_stop(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True if the run was stopped meanwhile."""
        if self.stop.is_set():
            return True
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=delay)
        except TimeoutError:
            return False
        return True

    # -- circuit breaker -------------------------------------------------------------------

    def _breaker_opened(self, request: PreparedRequest, cause: str) -> None:
        url = self.profile.base_url + request.path
        probe_in = self.tuning.breaker_probe
        self._down_because = f"{cause} from {url}"
        self.on_event(BreakerOpened(self.breaker.consecutive_failures, url, cause, probe_in))
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe())

    async def _probe(self) -> None:
        """While the breaker is not closed: probe health, then let a trial request through."""
        health = self.profile.health
        opened = time.monotonic()
        while self.breaker.is_open:
            if await self._sleep_or_stop(self.tuning.breaker_probe):
                self.breaker.release()  # let waiting workers see the stop and leave
                return
            if time.monotonic() - opened > self.tuning.breaker_max_pause:
                self._pause(
                    f"the platform stayed down for more than {self.tuning.breaker_max_pause:g} s "
                    f"(last: {self._down_because})"
                )
                self.breaker.release()
                return
            if self.breaker.state != "open":
                continue  # a trial request is under way
            if health is not None:
                try:
                    reply = await self.client.send(
                        render(health, variables=self.profile.variables), kind="probe"
                    )
                except TransportFailure:
                    continue
                if reply.status >= 500:
                    continue
            self.breaker.probe_passed()

    # -- bookkeeping -----------------------------------------------------------------------

    def _pause(self, reason: str) -> None:
        if self._paused is None:
            self._paused = reason
            self.on_event(RunPaused(reason))
        self.stop.set()

    def _settle(
        self,
        item: _Item,
        targets: Sequence[str],
        outcome: Outcome,
        status: int | None,
        error: str | None,
    ) -> None:
        """Record one outcome for ``targets`` (one result, event and journal entry for a batch)."""
        if not targets:
            return
        latency_ms = int((time.monotonic() - item.started) * 1000)
        result = TargetResult(
            outcome, status, item.attempts, latency_ms, None if outcome.succeeded else error
        )
        settled = tuple(targets)
        if outcome is Outcome.DONE and self.delivery is not None and self.generator is not None:
            for target in settled:
                self.delivery.deliver(target, self.generator.values(target))
        self.report.results.update(dict.fromkeys(settled, result))
        self.journal.add(settled, result)
        self.on_event(TargetsSettled(settled, result))

    def _settle_unsent(self, item: _Item) -> None:
        self._settle(item, item.targets, Outcome.RETRYABLE, None, "not sent: the run stopped")

    def _settle_stopped(self, item: _Item) -> None:
        """The run stopped before ``item`` was sent, or before its next attempt."""
        if not item.attempts:
            self._settle_unsent(item)
        else:
            self._settle(item, item.pending, Outcome.RETRYABLE, None, "stopped before retry")


async def _first_of(*events: asyncio.Event) -> None:
    """Until one of ``events`` is set."""
    waiting = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()


_NOT_RESENT = (
    "not resent: its first request may have taken effect, the action is not idempotent and "
    "the profile has no check to look"
)


def _error_text(reply: Reply) -> str:
    if reply.problem is not None:
        return f"HTTP {reply.status}: {reply.problem}"
    said = platform_says(reply.body)
    return f"HTTP {reply.status}: {said}" if said else f"HTTP {reply.status}"
