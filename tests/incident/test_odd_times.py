"""Times: one fixed-width stored form, a documented year range, compared as times; stores
written with a short year by earlier versions still load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ircli.audit.records import NewRecord
from ircli.audit.store import open_store
from ircli.clock import format_utc, parse_time, stored_time
from ircli.errors import InvalidInput


def test_years_before_1000_are_padded_when_written() -> None:
    assert format_utc(datetime(1999, 6, 1, tzinfo=UTC)) == "1999-06-01T00:00:00.000000Z"
    assert format_utc(datetime(999, 6, 1, tzinfo=UTC)) == "0999-06-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    "text",
    [
        "0999-06-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00+14:00",  # was an OverflowError (an internal error)
        "9999-12-31T23:59:59-14:00",  # likewise
        "10000-01-01T00:00:00Z",
    ],
)
def test_times_outside_the_range_are_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^invalid --at time .*(1970 to 9999|ISO-8601)"):
        parse_time(text, what="--at time")


def test_the_range_ends_are_taken() -> None:
    assert parse_time("1970-01-01T00:00:00Z").year == 1970
    assert parse_time("9999-12-31T23:59:59Z").year == 9999


def test_a_short_year_written_by_an_earlier_version_still_reads() -> None:
    assert stored_time("999-06-01T00:00:00.000000Z") == datetime(999, 6, 1, tzinfo=UTC)


def test_odd_times_through_the_cli(cli: Any) -> None:
    result = cli("incident", "open", "Odd", "-s", "P3", "--started-at", "0999-06-01T00:00:00Z")
    assert result.exit_code == 2
    assert "the year must be from 1970 to 9999" in result.stderr
    assert "Traceback" not in result.stderr
    overflow = cli("incident", "open", "Odd", "-s", "P3",
                   "--started-at", "0001-01-01T00:00:00+14:00")  # fmt: skip
    assert overflow.exit_code == 2
    assert "internal error" not in overflow.stderr


def test_a_store_with_a_short_year_still_works(cli: Any, db_path: Any) -> None:
    """An incident written by an earlier version with '999-…' keeps working: show, list,
    status changes (compared as times), reports."""
    incident = "INC-19990601-LGCY"
    with open_store(str(db_path), operator="old") as store:
        store.append(
            NewRecord(
                kind="incident.opened",
                incident=incident,
                params={
                    "title": "Legacy", "severity": "P3", "commander": None,
                    "impact_started": "999-06-01T00:00:00.000000Z",  # as %Y wrote it
                    "detected": "2026-11-28T22:00:00.000000Z",
                },
            )
        )  # fmt: skip
    for argv in (
        ("incident", "show", incident),
        ("--json", "incident", "list"),
        ("incident", "status", incident, "acknowledged"),
        ("report", incident),
    ):
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.stderr)


def test_an_empty_ircli_db_is_an_error_not_the_default_store(cli: Any) -> None:
    result = cli("incident", "list", env={"IRCLI_DB": ""})
    assert result.exit_code == 2
    assert "IRCLI_DB is set but empty" in result.stderr
