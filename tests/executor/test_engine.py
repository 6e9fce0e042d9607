"""The executor against httpx.MockTransport: retries, keys, budget, pause, breaker, batches."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.executor.engine import Tuning
from ircli.executor.events import (
    BreakerClosed,
    BreakerOpened,
    CheckUnreadable,
    Event,
    RunPaused,
    TargetsSettled,
)
from ircli.executor.journal import idempotency_key, load_run
from ircli.platform import load_profile
from ircli.platform.model import Outcome, Profile
from tests.executor.mockrun import BASE, run, with_action

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(ROOT / "profiles" / "sandbox.yaml", {"IRCLI_SANDBOX_URL": BASE})


def item(target: str, result: str = "suspended", changed: bool = True) -> dict[str, Any]:
    return {"id": target, "ok": True, "result": result, "changed": changed, "status": "suspended"}


def test_every_attempt_carries_the_same_key_and_retries_end_done(
    store: AuditStore, profile: Profile
) -> None:
    seen: dict[str, list[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        seen.setdefault(target, []).append(request.headers["idempotency-key"])
        attempt = len(seen[target])
        if attempt == 1:
            return httpx.Response(503, json={"error": {"code": "unavailable"}})
        if attempt == 2:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={})
        return httpx.Response(200, json=item(target))

    report = run(store, profile, handler, ["s1", "s2", "s3"])
    assert report.status == "completed"
    assert {t: r.outcome for t, r in report.results.items()} == dict.fromkeys(
        ["s1", "s2", "s3"], Outcome.DONE
    )
    assert all(r.attempts == 3 for r in report.results.values())
    for target, keys in seen.items():
        assert keys == [idempotency_key("RUN-T", "adhoc", "streams.suspend", [target])] * 3


def test_intent_is_durable_before_the_request_leaves(store: AuditStore, profile: Profile) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        intended = {
            t
            for record in store.records(RecordFilter(run="RUN-T", kinds=("action.intent",)))
            for t in record.params["targets"]
        }
        assert target in intended
        return httpx.Response(200, json=item(target))

    assert run(store, profile, handler, [f"s{i}" for i in range(20)]).status == "completed"
    state = load_run(store, "RUN-T")
    assert state.settled() == {f"s{i}" for i in range(20)}


def test_already_done_and_permanent_failures_are_not_retried(
    store: AuditStore, profile: Profile
) -> None:
    calls: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        calls[target] += 1
        if target == "gone":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "no."}})
        return httpx.Response(200, json=item(target, "already_suspended", changed=False))

    report = run(store, profile, handler, ["old", "gone"])
    assert report.results["old"].outcome is Outcome.ALREADY_DONE
    assert report.results["gone"].outcome is Outcome.FAILED
    assert report.results["gone"].error == "HTTP 404: not_found: no."
    assert calls == {"old": 1, "gone": 1}


def test_retries_stop_at_the_budget(store: AuditStore, profile: Profile) -> None:
    requests = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        requests["all"] += 1
        return httpx.Response(503, json={})

    tuning = Tuning(concurrency=2, rate=10_000, retries=50, retry_budget=0.5,
                    backoff_base=0.0001, backoff_max=0.001, breaker_failures=10_000)  # fmt: skip
    targets = [f"s{i}" for i in range(40)]
    report = run(store, profile, handler, targets, tuning=tuning)
    assert report.status == "incomplete"
    # First attempts + at most the budget's retries (floor 20 + 50% of 40).
    assert requests["all"] <= 40 + 20 + 20
    assert report.retries <= 40
    assert all(r.outcome is Outcome.RETRYABLE for r in report.results.values())


def test_a_long_retry_after_pauses_the_run(store: AuditStore, profile: Profile) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={})

    events: list[Event] = []
    report = run(store, profile, handler, ["s1", "s2"], events=events)
    assert report.status == "paused"
    assert "asked to wait 3600 s" in str(report.reason)
    assert any(isinstance(event, RunPaused) for event in events)


def test_breaker_opens_while_down_and_the_run_finishes_by_itself(
    store: AuditStore, profile: Profile
) -> None:
    state = {"down": 6, "health": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            state["health"] += 1
            return httpx.Response(503 if state["health"] < 3 else 200, json={})
        if state["down"] > 0:
            state["down"] -= 1
            return httpx.Response(503, json={})
        return httpx.Response(200, json=item(request.url.path.split("/")[4]))

    tuning = Tuning(concurrency=1, rate=10_000, breaker_failures=3, breaker_probe=0.01,
                    backoff_base=0.001, backoff_max=0.002, retries=10)  # fmt: skip
    events: list[Event] = []
    report = run(store, profile, handler, ["s1", "s2"], tuning=tuning, events=events)
    assert report.status == "completed"
    assert any(isinstance(event, BreakerOpened) for event in events)
    assert any(isinstance(event, BreakerClosed) for event in events)
    assert state["health"] >= 3


def test_batch_partial_results(store: AuditStore, profile: Profile) -> None:
    bodies: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        bodies.append(ids)
        results = []
        for target in ids:
            if target == "gone":
                results.append({"id": target, "ok": False, "result": "not_found"})
            elif target == "late" and len(bodies) == 1:
                continue  # not mentioned: retried on its own
            else:
                results.append(item(target))
        return httpx.Response(200, json={"results": results})

    report = run(
        store,
        profile,
        handler,
        ["a", "gone", "late", "b"],
        tuning=Tuning(
            concurrency=1, rate=10_000, batch_size=10, backoff_base=0.001, backoff_max=0.001
        ),
    )
    assert bodies == [["a", "gone", "late", "b"], ["late"]]
    assert report.results["gone"].outcome is Outcome.FAILED
    assert report.results["late"].outcome is Outcome.DONE
    assert report.status == "completed"


def test_a_batch_run_records_its_outcomes_as_groups(store: AuditStore, profile: Profile) -> None:
    targets = [f"s{i}" for i in range(1000)]

    def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        results = [item(t) if t != "s7" else {"id": t, "result": "not_found"} for t in ids]
        return httpx.Response(200, json={"results": results})

    events: list[Event] = []
    report = run(
        store, profile, handler, targets, events=events,
        tuning=Tuning(concurrency=4, rate=10_000, batch_size=100),
    )  # fmt: skip
    assert report.status == "completed"
    assert report.counts()["done"] == 999
    records = list(store.records(RecordFilter(run="RUN-T", kinds=("action.outcome",))))
    groups = [group for record in records for group in record.outcome["groups"]]
    assert sorted(t for group in groups for t in group["targets"]) == sorted(targets)
    assert [g["targets"] for g in groups if g["outcome"] == "failed"] == [["s7"]]
    # A batch's targets that ended alike stay in one group (alike batches may share one).
    group_of = {t: i for i, group in enumerate(groups) for t in group["targets"]}
    for start in range(0, 1000, 100):
        batch = [t for t in targets[start : start + 100] if t != "s7"]
        assert len({group_of[t] for t in batch}) == 1, batch[:3]
    assert load_run(store, "RUN-T").results == report.results
    settled = [event for event in events if isinstance(event, TargetsSettled)]
    assert sum(len(event.targets) for event in settled) == 1000
    assert len(settled) <= 2 * 10


def test_an_unreadable_check_leaves_a_non_idempotent_target_unknown(
    store: AuditStore, profile: Profile
) -> None:
    unsafe = with_action(profile, idempotent=False)
    posts = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        if request.method == "GET":
            return httpx.Response(503, json={})  # the check cannot be read
        posts[target] += 1
        raise httpx.ReadTimeout("slow", request=request)

    report = run(store, unsafe, handler, ["s1"])
    assert posts == {"s1": 1}  # may have been applied, could not look: not sent again
    assert "s1" not in report.results
    assert report.status == "incomplete"
    assert load_run(store, "RUN-T").unknown() == ["s1"]  # the next resume looks again


def test_a_timeout_on_a_non_idempotent_action_is_checked_before_resending(
    store: AuditStore, profile: Profile
) -> None:
    unsafe = with_action(profile, idempotent=False)
    posts = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        if request.method == "GET":
            return httpx.Response(200, json={"id": target, "status": "suspended"})
        posts[target] += 1
        raise httpx.ReadTimeout("slow", request=request)

    report = run(store, unsafe, handler, ["s1"])
    assert report.results["s1"].outcome is Outcome.DONE
    assert posts == {"s1": 1}


class _LongestBackoff(random.Random):
    """Backoff with full jitter always draws its upper bound: the wait is known."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_target_waiting_to_retry_frees_its_slot(store: AuditStore, profile: Profile) -> None:
    """With one slot, a target backing off for 0.3 s must not stop the others: they are sent
    while it waits (before, the worker slept the backoff and sent nothing meanwhile)."""
    order: list[str] = []
    failed_once: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        order.append(target)
        if target == "str_a" and target not in failed_once:
            failed_once.add(target)
            return httpx.Response(500, json={"error": {"code": "unavailable"}})
        return httpx.Response(200, json=item(target))

    targets = ["str_a", *(f"str_{n}" for n in range(1, 10))]
    tuning = Tuning(concurrency=1, rate=100_000, backoff_base=0.3, backoff_max=0.3)
    report = run(store, profile, handler, targets, tuning=tuning, rng=_LongestBackoff())
    assert report.status == "completed"
    assert report.counts()["done"] == 10
    first, second = [i for i, target in enumerate(order) if target == "str_a"]
    assert first == 0
    assert second - first > 1, f"nothing was sent while str_a waited: {order}"


def test_a_429_slows_the_whole_run(store: AuditStore, profile: Profile) -> None:
    """One 429 with Retry-After: 1 holds every worker for that second (the rate is halved),
    instead of the others carrying on at full speed into more 429s."""
    import time

    sent: list[float] = []
    refused_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        now = time.monotonic()
        sent.append(now)
        if not refused_at:
            refused_at.append(now)
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json=item(target))

    targets = [f"str_{n}" for n in range(40)]
    tuning = Tuning(concurrency=4, rate=100_000, backoff_base=0.001, backoff_max=0.01)
    report = run(store, profile, handler, targets, tuning=tuning)
    assert report.status == "completed"
    assert report.counts()["done"] == 40
    during_hold = [t for t in sent if refused_at[0] < t < refused_at[0] + 0.95]
    # Only the requests already past the bucket when the 429 arrived may still go out.
    assert len(during_hold) < tuning.concurrency, len(during_hold)


def test_a_batch_answer_past_the_limits_is_a_clean_failure_naming_url_and_limit(
    store: AuditStore, profile: Profile
) -> None:
    deep = b'{"results": ' + b"[" * 70 + b"]" * 70 + b"}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=deep, headers={"content-type": "application/json"})

    tuning = Tuning(concurrency=1, rate=10_000, batch_size=10, retries=1, backoff_base=0.001,
                    backoff_max=0.001)  # fmt: skip
    report = run(store, profile, handler, ["a", "b"], tuning=tuning)
    assert report.status == "incomplete"
    error = report.results["a"].error or ""
    assert "the answer nests deeper than 64 levels" in error
    assert f"(from {BASE}/api/v1/streams/batch/suspend)" in error


def test_a_check_answer_past_the_limits_leaves_the_target_unknown_and_says_why(
    store: AuditStore, profile: Profile
) -> None:
    unsafe = with_action(profile, idempotent=False)
    deep = b"[" * 70 + b"]" * 70

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=deep, headers={"content-type": "application/json"})
        raise httpx.ReadTimeout("slow", request=request)

    events: list[Event] = []
    report = run(store, unsafe, handler, ["s1"], events=events)
    assert "s1" not in report.results, "unknown: neither resent nor settled"
    assert report.status == "incomplete"
    said = [e.reason for e in events if isinstance(e, CheckUnreadable)]
    assert said == [
        "a check read could not be used: the answer nests deeper than 64 levels "
        f"(from {BASE}/api/v1/streams/s1)"
    ]
