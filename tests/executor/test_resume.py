"""Resuming: the write-ahead gap is resent, or looked at first, and batches keep their keys."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from ircli.audit.store import AuditStore
from ircli.executor.engine import ExecutionReport, Tuning
from ircli.executor.journal import idempotency_key
from ircli.platform import load_profile
from ircli.platform.model import Outcome, Profile
from tests.executor.mockrun import BASE, Handler, run, with_action

ROOT = Path(__file__).resolve().parents[2]
ACTION = "streams.suspend"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(ROOT / "profiles" / "sandbox.yaml", {"IRCLI_SANDBOX_URL": BASE})


def resume(
    store: AuditStore,
    profile: Profile,
    handler: Handler,
    everything: list[str],
    remaining: list[str],
    unknown: list[str],
    batch_size: int | None = None,
) -> ExecutionReport:
    """Run the executor as ``runs resume`` does: the run's full target list in the journal,
    only the targets not yet settled to do, and the write-ahead gap named."""
    tuning = Tuning(
        concurrency=4, rate=10_000, batch_size=batch_size, backoff_base=0.001, backoff_max=0.001
    )
    return run(store, profile, handler, remaining, action=ACTION, tuning=tuning,
               everything=everything, unknown=unknown, run_id="RUN-R")  # fmt: skip


def suspended(target: str) -> httpx.Response:
    return httpx.Response(200, json={"id": target, "result": "suspended", "changed": True})


def test_a_non_idempotent_action_is_looked_at_before_it_is_resent(
    store: AuditStore, profile: Profile
) -> None:
    posts, reads = Counter[str](), Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        if request.method == "GET":
            reads[target] += 1
            if target == "s4":
                return httpx.Response(503, json={})  # cannot tell: not sent, still unknown
            status = "suspended" if target == "s2" else "live"
            return httpx.Response(200, json={"id": target, "status": status})
        posts[target] += 1
        return suspended(target)

    unsafe = with_action(profile, idempotent=False)
    report = resume(store, unsafe, handler, ["s1", "s2", "s3", "s4", "s5"],
                    remaining=["s2", "s3", "s4", "s5"], unknown=["s2", "s3", "s4"])  # fmt: skip
    assert reads == {"s2": 1, "s3": 1, "s4": 1}  # the gap only; s5 was never sent
    assert posts == {"s3": 1, "s5": 1}  # s2 had taken effect; s4 could not be looked at
    assert {t: r.outcome for t, r in report.results.items()} == dict.fromkeys(
        ["s2", "s3", "s5"], Outcome.DONE
    )
    assert report.results["s2"].attempts == 0
    assert report.status == "incomplete"  # s4 is left for the next resume to look at


def test_without_a_check_the_gap_is_left_for_a_human(store: AuditStore, profile: Profile) -> None:
    posts = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        posts[request.url.path.split("/")[4]] += 1
        return suspended(request.url.path.split("/")[4])

    blind = with_action(profile, idempotent=False, check=None)
    report = resume(store, blind, handler, ["s1", "s2", "s3"], remaining=["s2", "s3"],
                    unknown=["s2"])  # fmt: skip
    assert posts == {"s3": 1}
    assert report.results["s2"].outcome is Outcome.FAILED
    assert "not resent" in (report.results["s2"].error or "")
    assert report.status == "completed"  # nothing left to retry; the failure is reported


def test_an_idempotent_action_resends_the_gap_with_its_keys(
    store: AuditStore, profile: Profile
) -> None:
    keys: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        target = request.url.path.split("/")[4]
        keys[target] = request.headers["idempotency-key"]
        return suspended(target)

    resume(store, profile, handler, ["s1", "s2"], remaining=["s2"], unknown=["s2"])
    assert keys == {"s2": idempotency_key("RUN-R", "adhoc", ACTION, ["s2"])}


def test_resumed_batches_keep_to_the_first_run_s_batches(
    store: AuditStore, profile: Profile
) -> None:
    bodies: list[tuple[list[str], str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        bodies.append((ids, request.headers["idempotency-key"]))
        return httpx.Response(200, json={"results": [
            {"id": t, "result": "suspended"} for t in ids
        ]})  # fmt: skip

    everything = list("abcdefghij")  # batches of 4: abcd efgh ij
    # a and b settled; c and d left retryable; efgh and ij may have been sent.
    resume(store, profile, handler, everything, remaining=list("cdefghij"),
           unknown=list("efghij"), batch_size=4)  # fmt: skip
    sent = sorted(bodies)
    assert [ids for ids, _ in sent] == [list("cd"), list("efgh"), list("ij")]
    assert [key for _, key in sent] == [
        idempotency_key("RUN-R", "adhoc", ACTION, ids) for ids, _ in sent
    ]  # efgh and ij carry the keys of their first attempt


def test_a_target_the_check_finds_gone_is_sent_and_fails(
    store: AuditStore, profile: Profile
) -> None:
    posts = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        if request.method == "GET":
            return httpx.Response(404, json={"error": {"code": "not_found"}})
        posts[target] += 1
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no."}})

    unsafe = with_action(profile, idempotent=False)
    report = resume(store, unsafe, handler, ["s1"], remaining=["s1"], unknown=["s1"])
    assert posts == {"s1": 1}  # gone: nothing to apply twice, so the action's answer decides
    assert report.results["s1"].outcome is Outcome.FAILED
    assert report.status == "completed"
