"""Cursor pagination while the world changes, and the score moving with actions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ircli.sandbox import SandboxApp
from tests.conftest import FixedClock
from tests.sandbox.conftest import InProcess


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_listing_covers_every_stream_once_while_bots_add_streams_and_statuses_change(
    api: InProcess, app: SandboxApp, clock: FixedClock
) -> None:
    before = set(range(app.platform.world.stream_count))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 37, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/streams", params=params).json()
        seen += _ids(page)
        cursor = page["next_cursor"]
        pages += 1
        # between pages: new bot streams appear and some streams change status
        clock.advance(3)
        for ident in _ids(page)[:5]:
            api.post(f"/api/v1/streams/{ident}/suspend")
        api.post(f"/api/v1/streams/str_{pages * 3:07d}/suspend")
        if cursor is None:
            break
    counts = Counter(seen)
    assert max(counts.values()) == 1
    assert {f"str_{i:07d}" for i in before} <= set(seen)
    assert app.platform.spawned > 0  # the world really grew meanwhile


def test_filtered_listing_is_stable_for_items_that_keep_matching(
    api: InProcess, clock: FixedClock
) -> None:
    stable = {
        s["id"]
        for s in api.get(
            "/api/v1/streams", params={"min_moderation_score": 0.9, "limit": 200}
        ).json()["items"]
    }
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"min_moderation_score": 0.9, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/streams", params=params).json()
        seen += _ids(page)
        clock.advance(1)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert stable <= set(seen)


def _score(api: InProcess) -> dict[str, Any]:
    result: dict[str, Any] = api.get("/_sandbox/score").json()
    return result


def test_suspending_every_malicious_stream_contains_until_bots_restart(
    api: InProcess, clock: FixedClock
) -> None:
    truth = api.get("/_sandbox/truth").json()
    live = truth["malicious_live_stream_ids"]
    start = _score(api)
    assert start["malicious_live_streams"] == len(live) > 0
    for offset in range(0, len(live), 50):
        api.post("/api/v1/streams/batch/suspend", json={"ids": live[offset : offset + 50]})
    score = _score(api)
    assert score["malicious_live_streams"] == 0
    assert score["malicious_streams_suspended"] == len(live)
    assert score["contained_at_seconds"] == 0
    assert score["collateral_streams"] == 0
    clock.advance(2)
    assert _score(api)["malicious_live_streams"] == 10  # bots start new streams


def test_freezing_bots_stops_them_and_resetting_compromised_accounts_locks_attackers_out(
    api: InProcess, clock: FixedClock
) -> None:
    truth = api.get("/_sandbox/truth").json()
    bots, victims = truth["bot_account_ids"], truth["compromised_account_ids"]
    for offset in range(0, len(bots), 50):
        api.post("/api/v1/accounts/batch/freeze", json={"ids": bots[offset : offset + 50]})
    for action in ("reset-password", "revoke-sessions"):
        api.post(f"/api/v1/accounts/batch/{action}", json={"ids": victims})
    score = _score(api)
    assert score["malicious_accounts_frozen"] == len(bots)
    assert score["compromised_accounts_reset"] == len(victims)
    assert score["malicious_live_streams"] == 0
    assert score["collateral_accounts"] == 0
    assert score["collateral_password_resets"] == 0
    clock.advance(30)
    later = _score(api)
    assert later["malicious_live_streams"] == 0
    assert later["attacker_streams_started"] == 0


def test_collateral_and_exposure(api: InProcess, clock: FixedClock) -> None:
    truth = api.get("/_sandbox/truth").json()
    malicious = set(truth["malicious_stream_ids"])
    honest = [
        s for s in api.get("/api/v1/streams", params={"limit": 100}).json()["items"]
        if s["id"] not in malicious
    ]  # fmt: skip
    api.post(f"/api/v1/streams/{honest[0]['id']}/suspend")
    api.post(f"/api/v1/streams/{honest[0]['id']}/resume")
    api.post(f"/api/v1/accounts/{honest[1]['account_id']}/freeze")
    api.post(f"/api/v1/accounts/{truth['compromised_account_ids'][0]}/freeze")
    api.post(f"/api/v1/accounts/{honest[2]['account_id']}/reset-password")
    score = _score(api)
    assert score["collateral_streams"] == 2  # suspended-then-resumed still counts
    assert score["collateral_accounts"] == 2  # a frozen compromised account is collateral
    assert score["collateral_password_resets"] == 1
    exposure = score["exposure_viewer_seconds"]
    clock.advance(10)
    assert _score(api)["exposure_viewer_seconds"] > exposure


def test_requests_are_counted_by_status(api: InProcess) -> None:
    api.get("/api/v1/streams/str_0000000")
    api.get("/api/v1/streams/str_9999999")
    api.get("/api/v1/streams", headers={"Authorization": ""})
    score = _score(api)
    assert score["requests"] == {"200": 1, "401": 1, "404": 1}
    assert score["requests_total"] == 3


def test_reset_reseeds_and_clears(api: InProcess) -> None:
    api.post("/api/v1/streams/str_0000000/suspend", headers={"Idempotency-Key": "k"})
    title = api.get("/api/v1/streams/str_0000001").json()["title"]
    body = api.post("/_sandbox/reset", json={"seed": 99}).json()
    assert body["seed"] == 99
    assert _score(api)["requests_total"] == 0
    assert api.get("/api/v1/streams/str_0000000").json()["status"] == "live"
    api.post("/_sandbox/reset", json={"seed": 7})
    assert api.get("/api/v1/streams/str_0000001").json()["title"] == title
    assert api.post("/_sandbox/reset", json={"seed": "x"}).status_code == 422
