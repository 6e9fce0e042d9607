"""A timed world: quiet until the attack starts, then a swarm ramping up that a detector
polling the listings sees within seconds; the background life of the world; the score."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from ircli.sandbox import SandboxApp, create_app
from ircli.sandbox.platform import Platform
from ircli.sandbox.schedule import CATCH_UP_SECONDS, MALICIOUS_REPORTS_MAX
from ircli.sandbox.views import iso
from tests.conftest import FixedClock
from tests.sandbox.conftest import SMALL, TOKEN, InProcess, all_pages

ATTACK = 60.0
TIMED = dataclasses.replace(SMALL, bot_rate=20.0, attack_start_seconds=ATTACK)
WEEK = timedelta(days=7)


@pytest.fixture
def timed_app(clock: FixedClock) -> SandboxApp:
    return create_app(TIMED, token=TOKEN, clock=clock)


@pytest.fixture
def timed(timed_app: SandboxApp) -> Iterator[InProcess]:
    client = InProcess(timed_app)
    yield client
    client.close()


def _score(api: InProcess) -> dict[str, Any]:
    result: dict[str, Any] = api.get("/_sandbox/score").json()
    return result


def _young_new_live_streams(api: InProcess, clock: FixedClock) -> int:
    """What a detector polls: live streams created in the last 30 s by accounts under 7 days."""
    now = clock.now
    streams = all_pages(
        api,
        "/api/v1/streams",
        status="live",
        created_after=iso((now - timedelta(seconds=30)).timestamp()),
        account_created_after=iso((now - WEEK).timestamp()),
        limit=200,
    )
    return len(streams)


def test_the_world_is_quiet_until_the_attack_starts_but_not_still(
    timed: InProcess, clock: FixedClock
) -> None:
    start = clock.now
    since_start = {"created_after": iso(start.timestamp()), "limit": 200}
    score = _score(timed)
    assert score["attack_started_at_seconds"] == ATTACK
    assert score["malicious_streams_total"] == score["malicious_live_streams"] == 0
    young = []
    for _ in range(29):  # a detector's polls every 2 s until just before the attack
        clock.advance(2)
        young.append(_young_new_live_streams(timed, clock))
    score = _score(timed)
    assert score["elapsed_seconds"] == 58
    assert score["malicious_streams_total"] == score["attacker_streams_started"] == 0
    assert score["contained_at_seconds"] is None
    assert timed.get("/_sandbox/truth").json()["malicious_stream_ids"] == []
    assert max(young) <= 2  # a new honest user now and then, no more
    # users keep reporting, and honest streams start and end
    reports = all_pages(timed, "/api/v1/reports", **since_start)
    assert 30 <= len(reports) <= 90  # about one a second
    assert len({r["created_at"] for r in reports}) == len(reports)  # one by one, over time
    assert max(r["created_at"] for r in reports) <= iso(clock.now.timestamp())
    started = all_pages(timed, "/api/v1/streams", **since_start)
    assert 15 <= len(started) <= 45  # about one every 2 s
    assert all(s["report_count"] >= 0 and s["status"] in ("live", "ended") for s in started)
    ended = all_pages(timed, "/api/v1/streams", status="ended")
    assert 15 <= len(ended) <= 45
    assert {s["status_reason"] for s in ended} == {None}  # their streamers stopped
    assert _score(timed)["collateral_streams"] == 0


def test_the_swarm_ramps_up_within_seconds_and_a_detector_sees_it(
    timed: InProcess, clock: FixedClock
) -> None:
    clock.advance(ATTACK)
    assert _score(timed)["attacker_streams_started"] == 0
    clock.advance(1)
    assert _score(timed)["attacker_streams_started"] == 2  # 20/s reached over 5 s: 20 t² / 10
    clock.advance(3.5)
    assert _score(timed)["attacker_streams_started"] == 40
    assert _young_new_live_streams(timed, clock) >= 30
    clock.advance(5.5)
    score = _score(timed)
    assert score["attacker_streams_started"] == 150  # 50 during the ramp, then 20 a second
    assert score["malicious_live_streams"] == 150
    series = score["malicious_live_series"]
    assert series[0] == [0.0, 0]
    assert series[-1] == [70.0, 150]
    assert [count for _, count in series] == sorted(count for _, count in series)


def test_reports_on_malicious_streams_grow_with_them(
    timed: InProcess, timed_app: SandboxApp, clock: FixedClock
) -> None:
    clock.advance(ATTACK + 5)
    live = _score(timed)["malicious_live_streams"]
    before = len(timed_app.platform.world.r_stream)
    clock.advance(60)
    malicious = set(timed.get("/_sandbox/truth").json()["malicious_stream_ids"])
    recent = all_pages(
        timed, "/api/v1/reports", created_after=iso((clock.now - timedelta(seconds=60)).timestamp())
    )
    on_attack = [r for r in recent if r["stream_id"] in malicious]
    assert len(recent) == len(timed_app.platform.world.r_stream) - before
    assert live > 0
    assert len(on_attack) > 100  # a report per 100 s per live malicious stream
    assert {r["reason"] for r in on_attack} <= {"sexual_content", "violence", "scam_link"}
    assert all(r["status"] == "open" for r in on_attack)


def test_containment_counts_from_the_attack_on(timed: InProcess, clock: FixedClock) -> None:
    clock.advance(ATTACK + 6)
    live = timed.get("/_sandbox/truth").json()["malicious_live_stream_ids"]
    assert live
    for offset in range(0, len(live), 50):
        timed.post("/api/v1/streams/batch/suspend", json={"ids": live[offset : offset + 50]})
    score = _score(timed)
    assert score["malicious_live_streams"] == 0
    assert score["contained_at_seconds"] == ATTACK + 6
    assert score["attack_started_at_seconds"] == ATTACK


def test_the_default_world_has_no_attack_start(api: InProcess) -> None:
    score = _score(api)
    assert score["attack_started_at_seconds"] is None
    assert score["malicious_live_streams"] > 0


def test_reset_makes_and_unmakes_a_timed_world(api: InProcess) -> None:
    assert api.post("/_sandbox/reset", json={"attack_start_seconds": 30}).status_code == 200
    score = _score(api)
    assert (score["attack_started_at_seconds"], score["malicious_live_streams"]) == (30.0, 0)
    api.post("/_sandbox/reset", json={"seed": 8})  # what is not given stays as it was
    assert _score(api)["attack_started_at_seconds"] == 30.0
    api.post("/_sandbox/reset", json={"attack_start_seconds": None})
    assert _score(api)["attack_started_at_seconds"] is None
    assert _score(api)["malicious_live_streams"] > 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "the attack start must be between 0 and 604,800 seconds."),
        (1e9, "the attack start must be between 0 and 604,800 seconds."),
        ("60", "attack_start_seconds must be a number of seconds or null."),
        (True, "attack_start_seconds must be a number of seconds or null."),
    ],
)
def test_a_bad_attack_start_on_reset_is_422(api: InProcess, value: object, message: str) -> None:
    answer = api.post("/_sandbox/reset", json={"attack_start_seconds": value})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == message


def test_catching_up_after_hours_of_idle_does_a_bounded_amount_of_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = Platform(TIMED, now=0.0)
    platform.advance(ATTACK + 30)
    events = 0
    handle = Platform._background_event

    def counted(self: Platform, kind: int, moment: float) -> None:
        nonlocal events
        events += 1
        handle(self, kind, moment)

    monkeypatch.setattr(Platform, "_background_event", counted)
    platform.advance(ATTACK + 30 + 10 * 3600)
    per_second = 2 * TIMED.honest_churn_rate + TIMED.report_rate + MALICIOUS_REPORTS_MAX + 1
    assert 0 < events <= 1.5 * CATCH_UP_SECONDS * per_second  # not 10 hours' worth
    assert platform.spawned <= len(platform.world.attackers)  # each one streams, once
    reports = platform.world.r_created
    assert reports[-1] > ATTACK + 30 + 10 * 3600 - CATCH_UP_SECONDS  # the last stretch is there
