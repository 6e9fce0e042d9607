"""``ircli dsa submit``: a statements file sent, 100 a call, to a stub of the DSA Transparency
Database on loopback (the real one is on the internet, never in tests).

The stub answers as ``StatementMultipleAPIController::store`` does
(digital-services-act/transparency-database): Laravel's 422 for a ``statements`` list outside
1–100, then ``PuidNotUniqueMultipleException``'s 422 for puids repeated in the call or already
held, else ``201 Created`` — all of a call or none of it is stored."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from tests.conftest import CliRunner

TOKEN = "tdb-test-token"
REASONS = (
    "--dsa-ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "--dsa-field", "incompatible_content_ground=Terms of service 4.2",
    "--dsa-field", "incompatible_content_explanation=A bot account.",
    "--dsa-category", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "--dsa-facts", "Frozen in a bot flood.",
    "--dsa-field", "automated_detection=Yes",
)  # fmt: skip


NOT_UNIQUE = "The platform identifier(s) are not all unique within this call."
"""``PuidNotUniqueMultipleException``'s message."""


@dataclass
class Database:
    """What the stub saw: each call's statements and Authorization header."""

    url: str = ""
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    puids: set[str] = field(default_factory=set)
    stored: list[str] = field(default_factory=list)
    """Every puid stored, in order (a puid twice would be a statement stored twice)."""
    answer_next: list[tuple[int, Any]] = field(default_factory=list)
    """(status, body) to answer the next calls with, storing nothing (a server error, …)."""
    drop_next: int = 0
    """Store this many calls, then close the connection without an answer."""
    invalid: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """puid → the field errors the database's validation finds in its statement."""


def stub_database() -> tuple[ThreadingHTTPServer, Database]:
    seen = Database()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            statements = body["statements"]
            seen.calls.append(statements)
            seen.authorizations.append(self.headers.get("Authorization"))
            puids = [s["puid"] for s in statements]
            status, answer = 201, {"statements": statements}
            repeated = sorted({p for p in puids if puids.count(p) > 1})
            held = [p for p in puids if p in seen.puids]
            invalid = {f"statement_{i}": seen.invalid[p] for i, p in enumerate(puids)
                       if p in seen.invalid}  # fmt: skip
            if self.path != "/api/v1/statements" or not 1 <= len(statements) <= 100:
                message = "The statements field must have between 1 and 100 items."
                status, answer = 422, {"message": message, "errors": {"statements": [message]}}
            elif seen.answer_next:
                status, answer = seen.answer_next.pop(0)
            elif invalid:  # GroupedSubmissionsService::sanitizePayload's errors, no message
                status, answer = 422, {"errors": invalid}
            elif repeated or held:
                errors = {"puid": [NOT_UNIQUE], "existing_puids": repeated or held}
                status, answer = 422, {"message": NOT_UNIQUE, "errors": errors}
            else:
                seen.puids.update(puids)
                seen.stored += puids
                if seen.drop_next:  # stored, but the answer is lost
                    seen.drop_next -= 1
                    self.close_connection = True
                    return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server, seen


@contextlib.contextmanager
def running_database() -> Iterator[Database]:
    server, seen = stub_database()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def database() -> Iterator[Database]:
    with running_database() as seen:
        yield seen


@pytest.fixture
def profile(tmp_path: Path, database: Database) -> Path:
    path = tmp_path / "dsa-tdb.yaml"
    path.write_text(
        "profile: 1\nname: dsa-tdb\n"
        f"base_url: {{env: DSA_TDB_URL, default: '{database.url}'}}\n"
        "auth: {type: bearer, secret: {env: DSA_TDB_TOKEN}}\n"
    )
    return path


def statements_file(
    cli: CliRunner, store: AuditStore, directory: Path, count: int
) -> tuple[str, Path]:
    """An incident with one ad-hoc run that froze ``count`` accounts (its records only), and
    its statements file from ``report -f dsa``."""
    opened = cli("--json", "incident", "open", "Flood", "-s", "P1")
    incident = str(json.loads(opened.stdout)["id"])
    targets = [f"acc_{i:07d}" for i in range(count)]
    run = "RUN-20261128-SUBMIT"
    freeze = {
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "content_type": ["CONTENT_TYPE_VIDEO"],
    }
    store.append(NewRecord("run.started", incident=incident, run=run, params={
        "action": "accounts.freeze", "profile": "sandbox", "dsa_decision": freeze,
        "targets": targets}))  # fmt: skip
    group = {"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 3, "error": None}
    store.append(NewRecord("action.outcome", incident=incident, run=run,
                           params={"action": "accounts.freeze"},
                           outcome={"groups": [{**group, "targets": targets}]}))  # fmt: skip
    file = directory / "statements.jsonl"
    written = cli("report", incident, "-f", "dsa", *REASONS, "-o", str(file))
    assert written.exit_code == 0, written.stderr
    return incident, file


def test_statements_go_100_a_call_and_are_not_sent_twice(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    incident, file = statements_file(cli, store, tmp_path, 250)
    database.answer_next = [(500, {"message": "Server Error"})]
    env = {"DSA_TDB_TOKEN": TOKEN}

    first = cli("dsa", "submit", str(file), "--profile", str(profile), "--incident", incident,
                env=env)  # fmt: skip

    assert first.exit_code == 1, first.stderr
    assert [len(call) for call in database.calls] == [100, 100, 50]
    assert database.authorizations == [f"Bearer {TOKEN}"] * 3
    assert "150 of 250 statements sent were accepted" in first.stdout
    assert "HTTP 500: Server Error" in first.stdout
    records = list(store.records(RecordFilter(kinds=("dsa.submitted",))))
    assert [r.outcome["status"] for r in records] == [500, 201, 201]
    assert [len(r.params["puids"]) for r in records] == [100, 100, 50]
    assert all(r.incident == incident for r in records)
    assert TOKEN not in json.dumps([r.as_dict() for r in records])

    again = cli("--json", "dsa", "submit", str(file), "--profile", str(profile), env=env)

    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["skipped"] == 150  # accepted the first time: not sent again
    assert [b["statements"] for b in summary["batches"]] == [100]
    assert [len(call) for call in database.calls] == [100, 100, 50, 100]
    assert len(database.puids) == 250


def test_the_same_profile_pointed_at_another_database_sends_everything_there(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 150)
    submit = ("dsa", "submit", str(file), "--profile", str(profile))
    sandbox = cli(*submit, env={"DSA_TDB_TOKEN": TOKEN})
    assert sandbox.exit_code == 0, sandbox.stderr

    with running_database() as production:
        moved = cli("--json", *submit, env={"DSA_TDB_TOKEN": TOKEN, "DSA_TDB_URL": production.url})
        again = cli("--json", *submit, env={"DSA_TDB_TOKEN": TOKEN, "DSA_TDB_URL": production.url})

    assert moved.exit_code == 0, moved.stderr
    assert json.loads(moved.stdout)["skipped"] == 0  # accepted by the sandbox, not by this one
    assert [len(call) for call in production.calls] == [100, 50]
    assert production.puids == database.puids
    assert json.loads(again.stdout)["skipped"] == 150  # accepted at this URL now
    assert len(production.calls) == 2
    records = list(store.records(RecordFilter(kinds=("dsa.submitted",))))
    assert [r.params["url"] for r in records] == [f"{database.url}/api/v1/statements"] * 2 + [
        f"{production.url}/api/v1/statements"
    ] * 2


def test_a_batch_stored_without_an_answer_completes_on_the_next_run(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 150)
    database.drop_next = 1  # the first call is stored, then the connection drops
    submit = ("dsa", "submit", str(file), "--profile", str(profile))

    lost = cli(*submit, env={"DSA_TDB_TOKEN": TOKEN})

    assert lost.exit_code == 1, lost.stderr
    assert "no answer" in lost.stdout
    assert "0 of 100 statements sent were accepted; 50 not sent" in lost.stdout
    assert [len(call) for call in database.calls] == [100]  # the rest waits for an answer

    rerun = cli(*submit, env={"DSA_TDB_TOKEN": TOKEN})

    assert rerun.exit_code == 0, rerun.stderr
    assert "HTTP 422: 100 of 100 already in the database" in rerun.stdout
    assert "50 of 150 statements sent were accepted; 100 were already in the database" in (
        rerun.stdout
    )
    assert [len(call) for call in database.calls] == [100, 100, 50]
    lines = [json.loads(line)["puid"] for line in file.read_text().splitlines()]
    assert sorted(database.stored) == sorted(lines)  # each statement stored exactly once
    records = list(store.records(RecordFilter(kinds=("dsa.submitted",))))
    assert [(r.outcome["status"], len(r.outcome["held"])) for r in records] == [
        (None, 0),
        (422, 100),
        (201, 0),
    ]

    third = cli("--json", *submit, env={"DSA_TDB_TOKEN": TOKEN})

    assert json.loads(third.stdout)["skipped"] == 150  # accepted or held: nothing to send
    assert len(database.calls) == 3


def test_a_call_refused_for_puids_the_database_holds_is_sent_again_without_them(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 3)
    puids = [json.loads(line)["puid"] for line in file.read_text().splitlines()]
    database.puids.add(puids[1])  # stored by an earlier submission ircli has no record of

    result = cli("--json", "dsa", "submit", str(file), "--profile", str(profile),
                 env={"DSA_TDB_TOKEN": TOKEN})  # fmt: skip

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["held"], summary["ok"]) == (2, 1, True)
    assert [(b["batch"], b["statements"], b["status"], b["held"]) for b in summary["batches"]] == [
        (1, 3, 422, 1),
        (1, 2, 201, 0),
    ]
    assert summary["batches"][0]["error"] == (
        "HTTP 422: 1 of 3 already in the database; the other 2 sent again"
    )
    assert [[s["puid"] for s in call] for call in database.calls] == [
        puids,
        [puids[0], puids[2]],
    ]


def test_a_refusal_names_the_line_and_puid_of_each_statement_refused(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 4)
    puids = [json.loads(line)["puid"] for line in file.read_text().splitlines()]
    language = "The selected content language is invalid."
    database.invalid = {
        puids[0]: {"content_language": [language]},
        puids[2]: {
            "decision_ground_reference_url": ["The decision ground reference url field must be "
                                              "a valid URL.", "It must not be greater than 500 "
                                              "characters."],
            "content_language": [language],
        },
        puids[3]: {"content_language": [language]},
    }  # fmt: skip

    result = cli("--json", "dsa", "submit", str(file), "--profile", str(profile),
                 env={"DSA_TDB_TOKEN": TOKEN})  # fmt: skip

    assert result.exit_code == 1
    [batch] = json.loads(result.stdout)["batches"]
    assert batch["error"] == (
        f"HTTP 422: line 1 (puid {puids[0]}): content_language: {language} "
        f"line 3 (puid {puids[2]}): decision_ground_reference_url: The decision ground reference "
        "url field must be a valid URL. It must not be greater than 500 characters. "
        f"line 3 (puid {puids[2]}): content_language: {language} (and 1 more)"
    )
    [record] = store.records(RecordFilter(kinds=("dsa.submitted",)))
    assert record.outcome["error"] == batch["error"]
    assert database.puids == set()

    size = "The statements field must have between 1 and 100 items."  # Laravel's, for the call
    database.answer_next = [(422, {"message": size, "errors": {"statements": [size]}})]
    again = cli("--json", "dsa", "submit", str(file), "--profile", str(profile),
                env={"DSA_TDB_TOKEN": TOKEN})  # fmt: skip
    assert json.loads(again.stdout)["batches"][0]["error"] == f"HTTP 422: statements: {size}"


def test_a_file_that_breaks_the_rules_sends_nothing(
    cli: CliRunner, database: Database, profile: Path, tmp_path: Path
) -> None:
    good = {
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms 4.2",
        "incompatible_content_explanation": "A bot.",
        "content_type": ["CONTENT_TYPE_VIDEO"],
        "category": "STATEMENT_CATEGORY_VIOLENCE",
        "content_date": "2026-11-28",
        "application_date": "2026-11-28",
        "decision_facts": "Frozen.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "ircli-1",
    }
    bad = {**good, "puid": "ircli 2", "decision_facts": "x" * 5001}
    file = tmp_path / "statements.jsonl"
    file.write_text("\n".join(json.dumps(s) for s in (good, bad, good, "nope")) + "\n")

    result = cli("dsa", "submit", str(file), "--profile", str(profile))
    checked = cli("dsa", "submit", str(file.with_name("none.jsonl")), "--profile", str(profile))

    assert result.exit_code == 2
    assert f"{file}:2: decision_facts: String should have at most 5000 characters." in (
        result.stderr
    )
    assert f"{file}:2: puid: must be 1 to 500 letters" in result.stderr
    assert f"{file}:3: puid: the same as on line 1. (and 1 more) Nothing was sent." in (
        result.stderr
    )
    assert database.calls == []
    assert checked.exit_code == 2
    assert "cannot read the statements file" in checked.stderr


def test_lines_end_at_newlines_only_and_the_file_must_be_utf8(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 2)
    first, second = (json.loads(line) for line in file.read_text().splitlines())
    second["decision_facts"] = "Frozen.\u2028Line separator, \x85 next line, \x0c form feed."
    unescaped = json.dumps(second, ensure_ascii=False)  # the characters as they are
    file.write_text(json.dumps(first) + "\n" + unescaped + "\r\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(json.dumps(first).encode() + b'\n{"decision_facts": "Fr\xe9\xff"}\n')

    counted = cli("dsa", "submit", str(file), "--profile", str(profile), "--dry-run")
    refused = cli("dsa", "submit", str(broken), "--profile", str(profile), "--dry-run")

    assert counted.exit_code == 0, counted.stderr
    assert "2 valid statements, 1 call(s); not sent" in counted.stdout
    assert refused.exit_code == 2
    assert f"{broken}:2:23: not UTF-8 (byte 0xe9); nothing was sent." in refused.stderr


def test_a_dry_run_counts_the_calls(
    cli: CliRunner, store: AuditStore, database: Database, profile: Path, tmp_path: Path
) -> None:
    _incident, file = statements_file(cli, store, tmp_path, 101)
    result = cli("dsa", "submit", str(file), "--profile", str(profile), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "101 valid statements, 2 call(s); not sent" in result.stdout
    assert database.calls == []
