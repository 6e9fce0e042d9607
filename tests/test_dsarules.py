"""The DSA Transparency Database's rules (``ircli.dsarules``), against known cases and against
an independent transcription of them (``tests/report/dsa_schema.py``)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from ircli.dsarules import (
    MAX_BATCH,
    Reasons,
    batches,
    check_statement,
    drop_excluded,
    missing_reasons,
)
from tests.report.dsa_schema import SCHEMA, date_bounds_hold

VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
BASE: dict[str, Any] = {
    "decision_account": "DECISION_ACCOUNT_SUSPENDED",
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Criminal code, section 184",
    "illegal_content_explanation": "Pornography shown to minors in a public live stream.",
    "content_type": ["CONTENT_TYPE_VIDEO"],
    "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "territorial_scope": ["DE", "AT"],
    "content_date": "2026-11-28",
    "application_date": "2026-11-28",
    "decision_facts": "Found by the containment playbook.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "puid": "ircli-0123abc",
}
DROP = object()


def independent(statement: dict[str, Any]) -> bool:
    return VALIDATOR.is_valid(statement) and date_bounds_hold(statement)


def changed(**changes: Any) -> dict[str, Any]:
    statement = {**BASE, **changes}
    return {key: value for key, value in statement.items() if value is not DROP}


@pytest.mark.parametrize(
    "statement",
    [
        BASE,
        changed(decision_facts="x" * 5000, puid="a" * 500),
        changed(content_date="2000-01-01", application_date="2038-01-01"),
        changed(
            decision_account=DROP,
            decision_visibility=["DECISION_VISIBILITY_OTHER"],
            decision_visibility_other="Shadow-banned from the front page.",
        ),
        changed(
            decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
            illegal_content_legal_ground=DROP,
            illegal_content_explanation=DROP,
            incompatible_content_ground="Terms 4.2",
            incompatible_content_explanation="A bot account.",
            incompatible_content_illegal="No",
        ),
        changed(content_type=["CONTENT_TYPE_OTHER"], content_type_other="A live audio room"),
        changed(territorial_scope=DROP, category_addition=["STATEMENT_CATEGORY_VIOLENCE"]),
        changed(category_specification=["KEYWORD_PHISHING", "KEYWORD_OTHER"]),
        changed(category_specification=["KEYWORD_OTHER"], category_specification_other="Bots"),
        changed(source_type="SOURCE_TRUSTED_FLAGGER", source_identity="A trusted flagger"),
    ],
)
def test_valid_statements_pass_both(statement: dict[str, Any]) -> None:
    parsed, problems = check_statement(statement)
    assert problems == []
    assert parsed is not None
    assert parsed.as_json() == statement
    assert independent(statement), list(VALIDATOR.iter_errors(statement))


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (changed(decision_account=DROP), "a decision is required: one of decision_visibility"),
        (changed(decision_account="DECISION_ACCOUNT_FROZEN"), "unknown decision_account"),
        (changed(decision_ground=DROP), "decision_ground: required."),
        (changed(illegal_content_legal_ground=DROP), "illegal_content_legal_ground: required when"),
        (changed(illegal_content_explanation="  "), "illegal_content_explanation: must not be"),
        (changed(illegal_content_explanation="x" * 2001), "at most 2000 characters"),
        (
            changed(incompatible_content_ground="Terms 4.2"),
            "incompatible_content_ground: taken only",
        ),
        (changed(incompatible_content_illegal="Yes"), "incompatible_content_illegal: taken only"),
        (changed(content_type=[]), "content_type: List should have at least 1"),
        (changed(content_type=["CONTENT_TYPE_OTHER"]), "content_type_other: required when"),
        (changed(content_type_other="a room"), "content_type_other: taken only when"),
        (changed(category="STATEMENT_CATEGORY_SPAM"), "category: unknown category"),
        (changed(category=DROP), "category: required."),
        (changed(territorial_scope=["US"]), "territorial_scope -> 0: unknown country code 'US'"),
        (changed(content_date="1999-12-31"), "content_date: must be 2000-01-01 or later."),
        (changed(content_date="2026-02-30"), "content_date: '2026-02-30' is not a date."),
        (changed(application_date="2019-12-31"), "application_date: must be 2020-01-01 or later"),
        (changed(application_date="2038-01-02"), "application_date: must be 2038-01-01 or earlier"),
        (changed(application_date="2026-11-28-22"), "is not a date written YYYY-MM-DD"),
        (changed(application_date="28-11-2026"), "is not a date written YYYY-MM-DD"),
        (changed(decision_facts="x" * 5001), "decision_facts: String should have at most 5000"),
        (changed(decision_facts=""), "decision_facts: String should have at least 1"),
        (changed(source_type="SOURCE_USER"), "source_type: unknown source type"),
        (changed(automated_detection=True), "automated_detection: Input should be a valid string"),
        (changed(automated_decision="AUTOMATED_DECISION_YES"), "unknown automated decision"),
        (changed(puid="ircli 1"), "puid: must be 1 to 500 letters, digits"),
        (changed(puid="ircli.1"), "puid: must be 1 to 500 letters, digits"),
        (changed(puid="a" * 501), "puid: must be 1 to 500 letters, digits"),
        (changed(puid=""), "puid: must be 1 to 500 letters, digits"),
        (changed(puid="abc\n"), "puid: must be 1 to 500 letters, digits"),
        (changed(decision_facts=DROP, facts="x"), "facts: not a field of a statement."),
        (
            changed(category_specification=["KEYWORD_SPAM"]),
            "category_specification -> 0: unknown category specification 'KEYWORD_SPAM'",
        ),
        (
            changed(
                decision_visibility=["DECISION_VISIBILITY_CONTENT_REMOVED"],
                decision_visibility_other="Shadow-banned",
            ),
            "decision_visibility_other: taken only when decision_visibility is "
            "DECISION_VISIBILITY_OTHER",
        ),
        (
            changed(decision_monetary="DECISION_MONETARY_SUSPENSION", decision_monetary_other="x"),
            "decision_monetary_other: taken only when decision_monetary is DECISION_MONETARY_OTHER",
        ),
        (
            changed(category_specification=["KEYWORD_PHISHING"], category_specification_other="x"),
            "category_specification_other: taken only when category_specification is KEYWORD_OTHER",
        ),
        (
            changed(category_specification_other="Bots"),
            "category_specification_other: taken only when category_specification is KEYWORD_OTHER",
        ),
        (
            changed(source_identity="A trusted flagger"),
            "source_identity: not taken when source_type is SOURCE_VOLUNTARY",
        ),
    ],
)
def test_each_rule_refuses_in_both(statement: dict[str, Any], problem: str) -> None:
    parsed, problems = check_statement(statement)
    assert parsed is None
    assert any(problem in found for found in problems), problems
    assert not independent(statement)


def test_a_statement_must_be_an_object() -> None:
    assert check_statement(["not", "an", "object"]) == (
        None,
        ["a statement must be a JSON object."],
    )


def test_batches_hold_at_most_one_hundred() -> None:
    sizes = [len(chunk) for chunk in batches(list(range(250)))]
    assert MAX_BATCH == 100
    assert sizes == [100, 100, 50]
    assert list(batches([])) == []


def test_excluded_fields_are_dropped_as_the_database_drops_them() -> None:
    merged = {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "illegal_content_legal_ground": "from another layer",
        "incompatible_content_ground": "Terms 4.2",
        "source_type": "SOURCE_VOLUNTARY",
        "source_identity": "nobody",
    }
    assert drop_excluded(merged) == {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms 4.2",
        "source_type": "SOURCE_VOLUNTARY",
    }


def test_reasons_merge_field_by_field_and_name_what_is_missing() -> None:
    config = Reasons(category="STATEMENT_CATEGORY_VIOLENCE", automated_detection="No")
    playbook = Reasons(decision_ground="DECISION_GROUND_ILLEGAL_CONTENT", automated_detection="Yes")
    merged = Reasons.merge(config, playbook, None)
    assert merged == {
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "category": "STATEMENT_CATEGORY_VIOLENCE",
        "automated_detection": "Yes",
    }
    assert missing_reasons(merged) == [
        "decision_facts",
        "illegal_content_legal_ground",
        "illegal_content_explanation",
    ]
