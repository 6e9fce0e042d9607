"""The admin API in-process: auth and scopes, objects, actions, batches, idempotency, flags."""

from __future__ import annotations

from typing import Any

import pytest

from ircli.sandbox import SandboxApp
from tests.conftest import FixedClock
from tests.sandbox.conftest import TOKEN, InProcess, all_pages, auth


def _truth(api: InProcess) -> dict[str, Any]:
    result: dict[str, Any] = api.get("/_sandbox/truth").json()
    return result


def _honest_live_stream(api: InProcess) -> str:
    malicious = set(_truth(api)["malicious_stream_ids"])
    page = api.get("/api/v1/streams", params={"status": "live", "limit": 200}).json()
    return next(s["id"] for s in page["items"] if s["id"] not in malicious)


# -- auth ----------------------------------------------------------------------------------


def test_missing_or_unknown_token_is_401_with_json(api: InProcess) -> None:
    for headers in ({"Authorization": ""}, auth("wrong"), auth(f"{TOKEN}:bogus")):
        response = api.get("/api/v1/streams", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_derived_token_has_only_its_scopes(api: InProcess) -> None:
    reader = auth(f"{TOKEN}:read")
    assert api.get("/api/v1/streams", headers=reader).status_code == 200
    response = api.post("/api/v1/streams/str_0000001/suspend", headers=reader)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "insufficient_scope",
        "message": "this token lacks the streams scope.",
        "required_scope": "streams",
    }
    assert api.get("/_sandbox/score", headers=reader).status_code == 403
    streams = auth(f"{TOKEN}:read+streams")
    assert api.post("/api/v1/streams/str_0000001/suspend", headers=streams).status_code == 200
    assert api.post("/api/v1/accounts/acc_0000001/freeze", headers=streams).status_code == 403


def test_header_token_auth_works_too(api: InProcess) -> None:
    response = api.get("/api/v1/flags", headers={"Authorization": "", "X-Api-Token": TOKEN})
    assert response.status_code == 200


def test_health_and_openapi_need_no_token(api: InProcess) -> None:
    assert api.get("/healthz", headers={"Authorization": ""}).json() == {"status": "ok"}
    document = api.get("/openapi.json", headers={"Authorization": ""}).json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/streams/batch/suspend" in document["paths"]
    assert document["paths"]["/api/v1/streams/{id}/suspend"]["post"]["security"] == [
        {"bearer": ["streams"]}
    ]


def test_unknown_path_and_method(api: InProcess) -> None:
    assert api.get("/api/v1/nothing").status_code == 404
    assert api.delete("/api/v1/streams").status_code == 405


# -- objects and actions -------------------------------------------------------------------


def test_stream_and_account_shapes(api: InProcess) -> None:
    stream = api.get("/api/v1/streams/str_0000000").json()
    assert set(stream) == {
        "id", "account_id", "title", "status", "status_reason", "created_at", "viewers",
        "moderation_score", "report_count", "link_domains", "account_created_at",
    }  # fmt: skip
    account = api.get(f"/api/v1/accounts/{stream['account_id']}").json()
    assert set(account) == {
        "id", "display_name", "status", "created_at", "report_count", "device_cluster",
        "device_cluster_size", "ip_cluster", "ip_cluster_size", "sessions_active",
        "password_reset_required", "verified", "live_stream_ids",
    }  # fmt: skip
    assert stream["id"] in account["live_stream_ids"]
    assert account["status"] == "active"
    assert api.get("/api/v1/streams/str_9999999").status_code == 404
    assert api.get("/api/v1/accounts/acc_+000001").status_code == 404


def test_suspend_is_idempotent_in_effect_and_says_so(api: InProcess) -> None:
    target = "str_0000003"
    first = api.post(f"/api/v1/streams/{target}/suspend")
    assert first.json() == {
        "id": target,
        "ok": True,
        "result": "suspended",
        "changed": True,
        "status": "suspended",
    }
    again = api.post(f"/api/v1/streams/{target}/suspend").json()
    assert again["result"] == "already_suspended"
    assert again["changed"] is False
    resumed = api.post(f"/api/v1/streams/{target}/resume").json()
    assert (resumed["result"], resumed["status"]) == ("resumed", "live")


def test_single_action_on_a_missing_stream_is_404(api: InProcess) -> None:
    response = api.post("/api/v1/streams/str_9999999/suspend")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert (body["id"], body["ok"], body["result"]) == ("str_9999999", False, "not_found")


def test_batch_reports_per_id_results_including_partial_failures(api: InProcess) -> None:
    frozen_owner = api.get("/api/v1/streams/str_0000005").json()["account_id"]
    api.post(f"/api/v1/accounts/{frozen_owner}/freeze")  # ends str_0000005
    api.post("/api/v1/streams/str_0000006/suspend")
    ids = ["str_0000004", "str_0000006", "str_9999999", "<b>x</b>", "str_0000005"]
    body = api.post("/api/v1/streams/batch/suspend", json={"ids": ids}).json()
    results = [(r["id"], r["ok"], r["result"], r["changed"]) for r in body["results"]]
    assert results == [
        ("str_0000004", True, "suspended", True),
        ("str_0000006", True, "already_suspended", False),
        ("str_9999999", False, "not_found", False),
        ("<b>x</b>", False, "not_found", False),
        ("str_0000005", False, "stream_ended", False),
    ]
    assert body["summary"] == {"requested": 5, "changed": 1, "unchanged": 1, "failed": 3}


@pytest.mark.parametrize(
    "body", [{"ids": []}, {"ids": ["str_0000001"] * 51}, {"ids": [1]}, ["str_0000001"], {}]
)
def test_bad_batches_are_422(api: InProcess, body: object) -> None:
    response = api.post("/api/v1/streams/batch/suspend", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["message"].endswith(".")


def test_account_actions_and_batch(api: InProcess) -> None:
    truth = _truth(api)
    victim = truth["compromised_account_ids"][0]
    reset = api.post(f"/api/v1/accounts/{victim}/reset-password").json()
    assert (reset["result"], reset["reset_emails_sent"]) == ("password_reset", 1)
    revoke = api.post(f"/api/v1/accounts/{victim}/revoke-sessions").json()
    assert revoke["result"] == "sessions_revoked"
    assert revoke["sessions_revoked"] >= 2
    again = api.post(f"/api/v1/accounts/{victim}/revoke-sessions").json()
    assert (again["result"], again["changed"]) == ("no_sessions", False)
    bots = truth["bot_account_ids"][:3]
    body = api.post("/api/v1/accounts/batch/freeze", json={"ids": [*bots, "acc_9999999"]})
    assert [r["result"] for r in body.json()["results"]] == ["frozen"] * 3 + ["not_found"]
    unfreeze = api.post(f"/api/v1/accounts/{bots[0]}/unfreeze").json()
    assert (unfreeze["result"], unfreeze["status"]) == ("unfrozen", "active")


# -- idempotency ---------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_answer_without_a_second_effect(
    api: InProcess,
) -> None:
    account = _truth(api)["compromised_account_ids"][1]
    key = {"Idempotency-Key": "reset-1"}
    first = api.post(f"/api/v1/accounts/{account}/reset-password", headers=key)
    second = api.post(f"/api/v1/accounts/{account}/reset-password", headers=key)
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert api.get(f"/api/v1/accounts/{account}").json()["password_reset_required"] is True
    assert api.get("/_sandbox/score").json()["duplicate_effects"] == 0


def test_same_key_different_body_is_422_and_a_duplicate(api: InProcess) -> None:
    key = {"Idempotency-Key": "batch-1"}
    first = api.post("/api/v1/streams/batch/suspend", json={"ids": ["str_0000001"]}, headers=key)
    assert first.status_code == 200
    other = api.post("/api/v1/streams/batch/suspend", json={"ids": ["str_0000002"]}, headers=key)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert api.get("/api/v1/streams/str_0000002").json()["status"] == "live"
    assert api.get("/_sandbox/score").json()["duplicate_effects"] == 1


def test_a_retry_with_a_new_key_after_an_ambiguous_reset_is_a_duplicate_effect(
    api: InProcess,
) -> None:
    account = "acc_0000010"
    api.post(f"/api/v1/accounts/{account}/reset-password", headers={"Idempotency-Key": "a"})
    body = api.post(
        f"/api/v1/accounts/{account}/reset-password", headers={"Idempotency-Key": "b"}
    ).json()
    assert body["reset_emails_sent"] == 2
    assert api.get("/_sandbox/score").json()["duplicate_effects"] == 1
    # set-state actions never double their effect, whatever the keys
    for key in ("c", "d"):
        api.post("/api/v1/streams/str_0000001/suspend", headers={"Idempotency-Key": key})
    assert api.get("/_sandbox/score").json()["duplicate_effects"] == 1


def test_keys_are_not_needed_on_reads_and_errors_are_replayed_too(api: InProcess) -> None:
    key = {"Idempotency-Key": "missing"}
    first = api.post("/api/v1/streams/str_9999999/suspend", headers=key)
    second = api.post("/api/v1/streams/str_9999999/suspend", headers=key)
    assert first.status_code == second.status_code == 404
    assert second.headers["idempotent-replayed"] == "true"


# -- flags, domains, reports ----------------------------------------------------------------


def test_kill_switch_stops_new_bot_streams_and_ramps(
    api: InProcess, app: SandboxApp, clock: FixedClock
) -> None:
    clock.advance(2)
    before = api.get("/_sandbox/score").json()
    assert before["attacker_streams_started"] == 10  # 5 per second of the fixed clock
    off = api.put("/api/v1/flags/live_streaming", json={"rollout_percent": 0}).json()
    assert (off["rollout_percent"], off["changed"]) == (0, True)
    score = api.get("/_sandbox/score").json()
    assert score["malicious_live_streams"] == 0
    assert score["honest_live_streams"] == 0
    assert score["honest_streams_ended_by_kill_switch"] == before["honest_live_streams"]
    clock.advance(60)
    assert api.get("/_sandbox/score").json()["malicious_live_streams"] == 0
    same = api.put("/api/v1/flags/live_streaming", json={"rollout_percent": 0}).json()
    assert same["changed"] is False
    api.put("/api/v1/flags/live_streaming", json={"rollout_percent": 50})
    clock.advance(1)
    assert 0 < api.get("/_sandbox/score").json()["malicious_live_streams"] <= 5


@pytest.mark.parametrize(
    "body",
    [{}, {"rollout_percent": 101}, {"rollout_percent": "50"}, {"enabled": "no"}, {"x": 1}],
)
def test_bad_flag_bodies_are_422(api: InProcess, body: object) -> None:
    assert api.put("/api/v1/flags/live_streaming", json=body).status_code == 422


def test_unknown_flag_is_404(api: InProcess) -> None:
    assert api.get("/api/v1/flags/nope").status_code == 404


def test_domain_blocklist(api: InProcess) -> None:
    domains = api.get("/api/v1/link-domains").json()["items"]
    assert any(d["live_streams"] for d in domains)
    added = api.put("/api/v1/link-domains/blocklist/Free-Cams.XYZ").json()
    assert (added["domain"], added["result"], added["changed"]) == (
        "free-cams.xyz",
        "blocked",
        True,
    )
    again = api.put("/api/v1/link-domains/blocklist/free-cams.xyz").json()
    assert again["result"] == "already_blocked"
    many = api.post(
        "/api/v1/link-domains/blocklist", json={"domains": ["a.example", "not a domain"]}
    ).json()
    assert [r["result"] for r in many["results"]] == ["blocked", "invalid_domain"]
    listed = [d["domain"] for d in api.get("/api/v1/link-domains/blocklist").json()["items"]]
    assert listed == ["free-cams.xyz", "a.example"]
    removed = api.delete("/api/v1/link-domains/blocklist/free-cams.xyz").json()
    assert removed["result"] == "unblocked"
    assert api.delete("/api/v1/link-domains/blocklist/free-cams.xyz").json()["changed"] is False
    assert api.put("/api/v1/link-domains/blocklist/-bad-").status_code == 422


def test_reports_reference_streams_and_accounts(api: InProcess) -> None:
    reports = all_pages(api, "/api/v1/reports", limit=200)
    assert reports
    first = reports[0]
    stream = api.get(f"/api/v1/streams/{first['stream_id']}").json()
    assert stream["account_id"] == first["account_id"]
    filtered = all_pages(api, "/api/v1/reports", stream=first["stream_id"], limit=200)
    assert len(filtered) == stream["report_count"]
    assert {r["reason"] for r in reports} <= {
        "sexual_content", "violence", "scam_link", "spam", "harassment", "other",
    }  # fmt: skip


def test_account_filters(api: InProcess) -> None:
    young = all_pages(api, "/api/v1/accounts", created_after="2026-11-26T00:00:00Z", limit=200)
    assert young
    assert all(a["created_at"] > "2026-11-26" for a in young)
    big = all_pages(api, "/api/v1/accounts", min_device_cluster_size=10, limit=200)
    assert all(a["device_cluster_size"] >= 10 for a in big)
    cluster = big[0]["device_cluster"]
    members = all_pages(api, "/api/v1/accounts", device_cluster=cluster, limit=200)
    assert len(members) == big[0]["device_cluster_size"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "gone"},
        {"created_after": "yesterday"},
        {"min_reports": "x"},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": "abc"},
        {"colour": "red"},
    ],
)
def test_bad_list_queries_are_422(api: InProcess, query: dict[str, str]) -> None:
    response = api.get("/api/v1/streams", params=query)
    assert response.status_code == 422
    assert response.json()["error"]["message"].endswith(".")


def test_hostile_payloads_are_served_verbatim(api: InProcess) -> None:
    titles = [s["title"] for s in all_pages(api, "/api/v1/streams", limit=200)]
    names = [a["display_name"] for a in all_pages(api, "/api/v1/accounts", limit=200)]
    text = "\n".join(titles + names)
    assert "<script>" in text
    assert "\x1b[" in text
    assert "\u202e" in text


def test_verified_accounts_are_shown_and_filtered(api: InProcess, app: SandboxApp) -> None:
    verified = all_pages(api, "/api/v1/accounts", verified="true", limit=200)
    assert len(verified) == sum(app.platform.world.acc_verified) > 0
    assert all(a["verified"] is True for a in verified)
    others = all_pages(api, "/api/v1/accounts", verified="false", limit=200)
    assert len(others) + len(verified) == app.platform.world.account_count
    assert not any(a["verified"] for a in others)
    taken_over = set(api.get("/_sandbox/truth").json()["compromised_account_ids"])
    assert taken_over & {a["id"] for a in verified}  # protecting them matters
    answer = api.get("/api/v1/accounts", params={"verified": "yes"})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == "verified must be true or false, got 'yes'."
