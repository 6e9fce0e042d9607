"""Pass criteria: the defaults, ``--pass`` expressions, and how values that do not fit fail."""

from __future__ import annotations

from typing import Any

import pytest

from ircli.drill import (
    CRITERION_NAMES,
    SCORE_FIELDS,
    compile_criterion,
    default_criteria,
    evaluate_criteria,
)
from ircli.errors import InvalidInput

CONTAINED: dict[str, Any] = {
    "malicious_live_streams": 0,
    "collateral_accounts": 0,
    "compromised_accounts": 20,
    "compromised_accounts_reset": 20,
    "duplicate_effects": 0,
    "kill_switch": {"enabled": True, "rollout_percent": 100},
}


def verdicts(score: dict[str, Any], *, audit_ok: bool = True) -> dict[str, bool]:
    return {
        r.label: r.passed for r in evaluate_criteria(default_criteria(), score, audit_ok=audit_ok)
    }


def test_default_criteria_hold_for_a_contained_flood() -> None:
    assert verdicts(CONTAINED) == {
        "no malicious stream live": True,
        "no honest account frozen": True,
        "every compromised account secured": True,
        "no duplicate effects": True,
        "audit chain verifies": True,
    }


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"malicious_live_streams": 3}, "no malicious stream live"),
        ({"collateral_accounts": 1}, "no honest account frozen"),
        ({"compromised_accounts_reset": 19}, "every compromised account secured"),
        ({"duplicate_effects": 2}, "no duplicate effects"),
    ],
)
def test_each_default_criterion_fails_on_its_own(change: dict[str, int], failing: str) -> None:
    result = verdicts({**CONTAINED, **change})
    assert [label for label, passed in result.items() if not passed] == [failing]


def test_a_broken_audit_chain_fails_the_drill() -> None:
    assert not verdicts(CONTAINED, audit_ok=False)["audit chain verifies"]


def test_results_carry_the_values_they_read() -> None:
    (result,) = evaluate_criteria(
        [compile_criterion("compromised_accounts_reset == compromised_accounts")],
        {**CONTAINED, "compromised_accounts_reset": 7},
        audit_ok=True,
    )
    assert not result.passed
    assert dict(result.values) == {"compromised_accounts_reset": 7, "compromised_accounts": 20}
    assert result.label == "compromised_accounts_reset == compromised_accounts"


def test_a_pass_expression_may_use_every_score_field_and_audit_ok() -> None:
    text = " and ".join(f"{name} == {name}" for name in SCORE_FIELDS) + " and audit_ok"
    (result,) = evaluate_criteria([compile_criterion(text)], CONTAINED, audit_ok=True)
    assert result.passed
    assert "audit_ok" in CRITERION_NAMES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "malicious_live_streams = 0",
            "--pass expression:1:1: invalid expression syntax at character 24.",
        ),
        (
            "malicous_live_streams == 0",
            "--pass expression:1:1: unknown name 'malicous_live_streams' "
            "(did you mean 'malicious_live_streams'?).",
        ),
        ("", "--pass expression:1:1: the expression is empty."),
        ("kill_switch.enabled", "--pass expression:1:1: kill_switch has no attribute 'enabled'."),
    ],
)
def test_bad_pass_expressions_are_located_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_criterion(text)
    assert caught.value.message == message


def test_a_value_that_does_not_fit_fails_the_criterion_with_the_reason() -> None:
    (result,) = evaluate_criteria(
        [compile_criterion("contained_at_seconds < 60")],
        {"contained_at_seconds": None},
        audit_ok=True,
    )
    assert not result.passed
    assert result.error is not None
    assert "cannot evaluate 'contained_at_seconds < 60'" in result.error


def test_a_missing_score_field_reads_as_null() -> None:
    (result,) = evaluate_criteria([compile_criterion("requests_total == null")], {}, audit_ok=True)
    assert result.passed
