"""Fault injection: the spec syntax, and each fault in-process and over loopback."""

from __future__ import annotations

import email.utils
from collections import Counter

import httpx
import pytest

from ircli.errors import InvalidInput
from ircli.sandbox import FaultConfig, SandboxApp, faults_from_mapping, parse_faults
from tests.conftest import FixedClock
from tests.sandbox.conftest import InProcess


def test_the_documented_example_parses() -> None:
    config = parse_faults(
        "5xx=0.05,429=0.02,latency=5ms,jitter=2ms,timeout=0.01,drop=0.005,rate=5000"
    )
    assert config == FaultConfig(
        error_5xx=0.05,
        error_429=0.02,
        latency=0.005,
        jitter=0.002,
        timeout=0.01,
        drop=0.005,
        rate=5000.0,
    )
    assert parse_faults("") == FaultConfig()
    assert parse_faults("timeout_delay=2s,retry_after_form=date").timeout_delay == 2.0
    assert faults_from_mapping({"latency": 0.01, "429": 0.5}).error_429 == 0.5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5xx=2", "fault 5xx must be a fraction between 0 and 1, got '2'."),
        ("bogus", "invalid fault 'bogus': expected key=value pairs such as"),
        ("nope=1", "unknown fault 'nope'; known faults: 5xx, 429,"),
        ("latency=fast", "fault latency must be a duration such as 5ms, got 'fast'."),
        ("rate=-1", "fault rate must be a finite, non-negative value, got '-1'."),
        ("5xx=0.6,429=0.6", "the fault fractions 5xx, 429, timeout and drop add up to more"),
        ("retry_after_form=x", "fault retry_after_form must be one of alternate"),
    ],
)
def test_bad_specs_are_one_sentence_invalid_input(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_faults(spec)
    assert caught.value.message.startswith(message)
    assert caught.value.message.endswith(".")
    assert caught.value.message.count(". ") == 0


def _statuses(api: InProcess, count: int) -> Counter[int]:
    return Counter(api.get("/api/v1/streams/str_0000001").status_code for _ in range(count))


def test_5xx_and_429_fractions_are_bounded_and_deterministic(api: InProcess) -> None:
    api.put("/_sandbox/faults", json={"5xx": 0.2, "429": 0.1})
    first = _statuses(api, 400)
    assert 50 <= first[503] <= 110
    assert 20 <= first[429] <= 60
    assert first[200] == 400 - first[503] - first[429]
    api.put("/_sandbox/faults", json={"5xx": 0.2, "429": 0.1})  # restarts the generator
    assert _statuses(api, 400) == first
    assert api.get("/_sandbox/score").json()["requests"]["503"] == 2 * first[503]


def test_injected_5xx_happens_before_the_effect(api: InProcess) -> None:
    api.put("/_sandbox/faults", json={"5xx": 1})
    assert api.post("/api/v1/streams/str_0000001/suspend").status_code == 503
    api.put("/_sandbox/faults", json={})
    assert api.get("/api/v1/streams/str_0000001").json()["status"] == "live"


def test_429_carries_retry_after_in_both_forms(api: InProcess, clock: FixedClock) -> None:
    api.put("/_sandbox/faults", json={"429": 1, "retry_after": 2})
    values = [api.get("/api/v1/flags").headers["retry-after"] for _ in range(4)]
    assert values[0] == values[2] == "2"
    for value in (values[1], values[3]):
        moment = email.utils.parsedate_to_datetime(value)
        assert 1 <= moment.timestamp() - clock.now.timestamp() <= 3
    api.put("/_sandbox/faults", json={"429": 1, "retry_after_form": "date"})
    assert api.get("/api/v1/flags").headers["retry-after"].endswith("GMT")


def test_rate_limit_is_a_token_bucket_on_the_injected_clock(
    api: InProcess, clock: FixedClock
) -> None:
    api.put("/_sandbox/faults", json={"rate": 10, "burst": 5})
    assert _statuses(api, 8) == Counter({200: 5, 429: 3})
    limited = api.get("/api/v1/flags")
    assert limited.status_code == 429
    assert limited.headers["retry-after"]
    clock.advance(0.5)
    assert _statuses(api, 6) == Counter({200: 5, 429: 1})


def test_timeout_applies_the_effect_then_answers_late(api: InProcess, app: SandboxApp) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    app._sleep = record  # no real waiting in-process
    api.put("/_sandbox/faults", json={"timeout": 1, "timeout_delay": "2s"})
    response = api.post("/api/v1/streams/str_0000002/suspend")
    assert response.json()["result"] == "suspended"
    assert delays == [2.0]
    api.put("/_sandbox/faults", json={"latency": "5ms", "jitter": "2ms"})
    api.get("/api/v1/flags")
    assert 0.003 <= delays[-1] <= 0.007


def test_faults_put_validation_and_get(api: InProcess) -> None:
    bad = api.put("/_sandbox/faults", json={"5xx": 3})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_faults"
    api.put("/_sandbox/faults", json={"drop": 0.1, "latency": "1ms"})
    assert api.get("/_sandbox/faults").json() == {"faults": {"latency": 0.001, "drop": 0.1}}
    assert api.put("/_sandbox/faults", json={}).json() == {"faults": {}}


def test_control_endpoints_are_never_faulted(api: InProcess) -> None:
    api.put("/_sandbox/faults", json={"5xx": 1})
    assert api.get("/_sandbox/score").status_code == 200
    assert api.get("/healthz").status_code == 200


# -- over loopback -------------------------------------------------------------------------


def test_drop_is_a_transport_error_not_a_500(http: httpx.Client) -> None:
    http.put("/_sandbox/faults", json={"drop": 1}).raise_for_status()
    for _ in range(4):
        with pytest.raises(httpx.TransportError):
            http.post("/api/v1/streams/str_0000001/suspend")
    http.put("/_sandbox/faults", json={})
    score = http.get("/_sandbox/score").json()
    assert score["requests"]["dropped"] == 4
    assert "500" not in score["requests"]


def test_timeout_is_ambiguous_for_the_client_and_a_keyed_retry_is_safe(
    http: httpx.Client,
) -> None:
    http.put("/_sandbox/faults", json={"timeout": 1, "timeout_delay": "1s"}).raise_for_status()
    key = {"Idempotency-Key": "ambiguous-1"}
    with pytest.raises(httpx.ReadTimeout):
        http.post("/api/v1/accounts/acc_0000003/reset-password", headers=key, timeout=0.2)
    http.put("/_sandbox/faults", json={})
    retry = http.post("/api/v1/accounts/acc_0000003/reset-password", headers=key)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["reset_emails_sent"] == 1
    assert http.get("/_sandbox/score").json()["duplicate_effects"] == 0


def test_429_over_loopback_with_retry_after(http: httpx.Client) -> None:
    http.put("/_sandbox/faults", json={"429": 1}).raise_for_status()
    answers = [http.get("/api/v1/streams/str_0000001") for _ in range(2)]
    assert [a.status_code for a in answers] == [429, 429]
    assert answers[0].headers["retry-after"] == "1"
    assert email.utils.parsedate_to_datetime(answers[1].headers["retry-after"])
