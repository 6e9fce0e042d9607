"""``audit copy``: a store into another, record for record — SQLite to PostgreSQL and back —
with the same hashes and anchors, only the rest into an earlier copy, never into another chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ircli.audit import store as store_module
from ircli.audit.copy import copy_records
from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore, open_store
from ircli.cli import audit as audit_cli
from ircli.errors import AuditIntegrityError, GuardRefused
from tests.audit.test_targets import HOSTILE, run_batch
from tests.conftest import CliRunner, FixedClock
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

StoreAt = Callable[[str], AuditStore]


@pytest.fixture
def backend() -> str:
    """The store under the ``cli`` and ``store`` fixtures is the SQLite source here; these tests
    name their targets themselves (``target_url``: both databases), and the round trip starts
    from PostgreSQL too."""
    return "sqlite"


@pytest.fixture
def opened(clock: FixedClock) -> Iterator[StoreAt]:
    """Open stores by path or URL for one test; all closed after it."""
    stores: list[AuditStore] = []

    def open_at(target: str) -> AuditStore:
        stores.append(open_store(target, operator="dana", clock=clock))
        return stores[-1]

    yield open_at
    for store in stores:
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty target: a new SQLite file, or a fresh database on the throwaway server."""
    if request.param == "sqlite":
        return str(tmp_path / "target.db")
    return str(request.getfixturevalue("postgres_url"))


def fill(store: AuditStore, clock: FixedClock, *, notes: int = 3, tag: str = "") -> None:
    """Incidents, notes and a batch run whose records name targets (the index's rows)."""
    clock.step = timedelta(milliseconds=7)
    for number in range(notes):
        store.append(NewRecord(kind="timeline.note", incident="INC-1",
                               params={"message": f"note {tag}{number}"}))  # fmt: skip
    run_batch(store, f"RUN-{tag or 'A'}", [f"acc_{tag}{i}" for i in range(5)], failed=1)


def rows(store: AuditStore) -> list[dict[str, Any]]:
    return list(store.stored_rows())


def test_sqlite_to_postgres_and_back_keeps_every_byte_and_the_anchor(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, postgres_url: str
) -> None:
    solo = opened(str(tmp_path / "solo.db"))
    fill(solo, clock)
    anchor = solo.head()
    team, back = opened(postgres_url), opened(str(tmp_path / "back.db"))

    into_team = copy_records(solo, team, batch=4)
    into_back = copy_records(team, back)

    assert (into_team.copied, into_team.skipped, into_team.head) == (solo.count(), 0, anchor)
    assert (into_back.copied, into_back.skipped, into_back.head) == (solo.count(), 0, anchor)
    assert rows(team) == rows(solo) == rows(back)
    for copy in (team, back):
        assert copy.verify(anchor).ok
        assert copy.check_target_index() == solo.check_target_index()
        assert [r.seq for r in copy.records(RecordFilter(target="acc_4"))] == [
            r.seq for r in solo.records(RecordFilter(target="acc_4"))
        ]


def test_the_cli_copies_and_the_copy_answers_as_the_source_did(
    cli: CliRunner, db_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = json.loads(cli("--json", "incident", "open", "Flood", "-s", "P1").stdout)["id"]
    cli("timeline", "add", incident, "bots from 203.0.113.0/24")
    anchor = cli("audit", "head").stdout.strip()
    monkeypatch.setattr(audit_cli, "_PROGRESS_FROM", 1)

    copied = cli("--json", "audit", "copy", "--to", postgres_url)

    assert copied.exit_code == 0, copied.stderr
    summary = json.loads(copied.stdout)
    seq, digest = anchor.split(":")
    assert summary == {
        "source": f"sqlite:///{db_path}",
        "target": postgres_url,
        "copied_records": 2,
        "skipped_records": 0,
        "head": {"seq": int(seq), "hash": digest},
        "elapsed_seconds": summary["elapsed_seconds"],
    }
    assert "copied 2 of 2 records" in copied.stderr
    team = ("--db", postgres_url)
    assert cli(*team, "audit", "verify", "--anchor", anchor).exit_code == 0
    for command in (
        ("audit", "log"),
        ("incident", "show", incident),
        ("timeline", "show", incident),
    ):
        assert cli("--json", *team, *command).stdout == cli("--json", *command).stdout
    again = cli(*team, "audit", "copy", "--to", str(db_path))
    assert again.stdout.startswith(f"copied 0 records to sqlite:///{db_path} (2 were there")


def test_the_target_index_is_filled_on_the_copy(
    cli: CliRunner, opened: StoreAt, db_path: Path, clock: FixedClock, target_url: str
) -> None:
    fill(opened(str(db_path)), clock)
    assert cli("audit", "copy", "--to", target_url).exit_code == 0
    for target in ("acc_0", "acc_4"):
        here = cli("--json", "audit", "log", "--target", target).stdout
        there = cli("--json", "--db", target_url, "audit", "log", "--target", target).stdout
        assert json.loads(there) == json.loads(here) != []
    assert json.loads(cli("--json", "--db", target_url, "audit", "verify").stdout)["target_index"][
        "ok"
    ]


def test_an_earlier_copy_gets_only_the_rest(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, target_url: str
) -> None:
    source, target = opened(str(tmp_path / "source.db")), opened(target_url)
    fill(source, clock)
    first = copy_records(source, target)
    fill(source, clock, tag="b")
    seen: list[tuple[int, int]] = []

    second = copy_records(source, target, batch=3, progress=lambda *done: seen.append(done))

    assert (second.skipped, second.copied) == (first.copied, source.count() - first.copied)
    total = second.copied
    assert seen == [(min(done, total), total) for done in range(3, total + 3, 3)]
    assert rows(target) == rows(source)
    assert target.verify(source.head()).ok
    third = copy_records(source, target)
    assert (third.copied, third.skipped, third.head) == (0, source.count(), source.head())


def test_a_target_that_went_its_own_way_is_refused_and_left_alone(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, target_url: str
) -> None:
    source, target = opened(str(tmp_path / "source.db")), opened(target_url)
    fill(source, clock)
    copy_records(source, target)
    held = source.count()
    source.append(NewRecord(kind="timeline.note", incident="INC-1", params={"message": "a"}))
    target.append(NewRecord(kind="timeline.note", incident="INC-1", params={"message": "b"}))
    before = rows(target)

    with pytest.raises(GuardRefused) as refused:
        copy_records(source, target)

    assert refused.value.message == (
        f"the target {target.url} holds another chain: its records differ from the source's "
        f"from seq {held + 1} on (it holds {held + 1:,}); nothing was copied."
    )
    assert rows(target) == before


def test_a_target_with_other_records_or_more_is_refused(
    cli: CliRunner, opened: StoreAt, db_path: Path, clock: FixedClock, target_url: str
) -> None:
    fill(opened(str(db_path)), clock)
    other = opened(target_url)
    other.append(NewRecord(kind="incident.opened", incident="INC-9", params={"title": "x"}))
    before = rows(other)

    refused = cli("audit", "copy", "--to", target_url)

    assert refused.exit_code == 3
    assert "its records differ from the source's from seq 1 on (it holds 1)" in refused.stderr
    assert rows(other) == before
    # A copy that moved on: the source is its start, not the other way round.
    ahead = str(db_path.with_name("ahead.db"))
    assert cli("audit", "copy", "--to", ahead).exit_code == 0
    moved_on = opened(ahead)
    moved_on.append(NewRecord(kind="timeline.note", incident="INC-1", params={"message": "c"}))
    behind = cli("audit", "copy", "--to", ahead)
    assert behind.exit_code == 3
    assert behind.stderr.startswith(f"error: the target {moved_on.url} is ahead of the source ")
    assert f"source's {moved_on.count() - 1} records and 1 more; nothing was" in behind.stderr


HOSTILE_TEXT = [
    *HOSTILE,
    'quote " backslash \\ newline \n tab \t U+0001 \x01 U+007F \x7f U+2028 \u2028 end',
    "NUL \x00 inside",
    "配信スパム 🚨 zoë e\u0301 \ufeffBOM \U0010fffd",
    "\\u0000 is not a NUL, \\n not a newline",
]


def test_hostile_text_survives_byte_for_byte(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, postgres_url: str
) -> None:
    solo = opened(str(tmp_path / "solo.db"))
    for number, text in enumerate(HOSTILE_TEXT):
        key = text if max(text) <= "\uffff" else "outside the BMP"  # keys may not be
        solo.append(
            NewRecord(
                kind="timeline.note",
                incident=f"INC-{number}",
                step=None if "\x00" in text else text,  # PostgreSQL text holds no NUL
                target=None if "\x00" in text else text,
                params={"message": text, key: [text, 2**53 - 1, -(2**53 - 1)], "nested": {}},
                outcome={"error": text, "": None},
            )
        )
    anchor = solo.head()
    team, back = opened(postgres_url), opened(str(tmp_path / "back.db"))
    copy_records(solo, team)
    copy_records(team, back)
    assert rows(team) == rows(solo) == rows(back)
    assert [r.as_dict() for r in back.records()] == [r.as_dict() for r in solo.records()]
    assert team.verify(anchor).ok
    assert back.verify(anchor).ok


def test_a_record_that_does_not_extend_the_chain_is_never_written(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, target_url: str
) -> None:
    source, target = opened(str(tmp_path / "source.db")), opened(target_url)
    fill(source, clock)
    stored = rows(source)
    tampered = [*stored[:2], {**stored[2], "params": stored[2]["params"].replace("note", "NOTE")}]
    with pytest.raises(AuditIntegrityError, match="record 3: the content does not match"):
        target.append_stored(tampered)
    assert target.head() is None  # the two good records went with the batch
    with pytest.raises(GuardRefused, match="its next record is seq 1, but these start at seq 3"):
        target.append_stored(stored[2:4])
    target.append_stored(stored[:2])
    with pytest.raises(GuardRefused, match="its next record is seq 3, but these start at seq 1"):
        target.append_stored(stored[:1])
    with pytest.raises(AuditIntegrityError, match="record 4: prev_hash does not match"):
        target.append_stored([stored[2], {**stored[3], "prev_hash": stored[1]["hash"]}])
    assert rows(target) == stored[:2]
    assert target.check_target_index().ok  # type: ignore[union-attr]


def test_a_failed_batch_leaves_the_batches_before_it(
    opened: StoreAt, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = opened(str(tmp_path / "source.db")), opened(str(tmp_path / "target.db"))
    fill(source, clock)
    real = store_module.AuditStore.stored_rows

    def damaged(store: AuditStore, after_seq: int = 0) -> Iterator[dict[str, Any]]:
        for row in real(store, after_seq):
            yield {**row, "ts": "2000-01-01T00:00:00.000000Z"} if row["seq"] == 6 else row

    monkeypatch.setattr(store_module.AuditStore, "stored_rows", damaged)
    with pytest.raises(AuditIntegrityError, match="record 6: the content does not match"):
        copy_records(source, target, batch=4)
    assert target.count() == 4
    assert target.verify().ok
