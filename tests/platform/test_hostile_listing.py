"""A listing with hostile objects: items whose id cannot name a target are skipped, counted
and reported, and containment goes on for the rest (over real HTTP, to a raw-socket peer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ircli.audit.records import RecordFilter
from ircli.audit.store import open_store
from tests.peers import RawServer, response, write_profile

GOOD = ["u1", "u2", 3]
HOSTILE = [{"id": ".."}, {"id": "."}, {"id": ""}, {"id": "a\r\nX-Injected: yes"},
           {"id": "x" * 600}, {"name": "no id"}, {"id": None}, {"id": True}]  # fmt: skip


def _answer(request: bytes) -> bytes:
    if request.startswith(b"GET /users"):
        items = [{"id": GOOD[0]}, *HOSTILE[:4], {"id": GOOD[1]}, *HOSTILE[4:], {"id": GOOD[2]}]
        return response(body=json.dumps(items).encode())
    return response(body=b'{"ok":true}')


def _profile(tmp_path: Path, url: str) -> Path:
    return write_profile(tmp_path, url, settings="limits: {retries: 0, concurrency: 2}\n")


def test_hostile_listing_items_are_skipped_counted_and_reported(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    with RawServer(_answer).running() as peer:
        profile = str(_profile(tmp_path, peer.url))
        result = cli("accounts", "freeze", "--where", "q=x", "--profile", profile, "--yes")
        sent = [r.split(b"\r\n", 1)[0].decode() for r in peer.requests]
    assert result.exit_code == 0, result.stderr
    assert "skipped 8 users whose id is missing or cannot name a target" in result.stderr
    assert "\r" not in result.stderr, "the hostile id is shown escaped, never raw"
    freezes = sorted(line for line in sent if line.startswith("POST"))
    assert freezes == [f"POST /users/{t}/freeze HTTP/1.1" for t in ("3", "u1", "u2")]
    with open_store(str(db_path), operator="checker") as store:
        (started,) = store.records(RecordFilter(kinds=("run.started",)))
    selection = started.params["selection"]
    assert selection["listing"] == "users"
    assert selection["filters"] == {"q": "x"}
    assert selection["skipped"] == 8
    assert "'..'" in selection["skipped_sample"]


def test_a_playbook_query_records_the_items_it_skipped(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    _profile(tmp_path, "http://127.0.0.1:9")  # rewritten below with the peer's URL
    playbook = tmp_path / "sweep.yaml"
    playbook.write_text(
        "playbook: 1\nname: sweep\nprofile: ./peer.yaml\n"
        "steps:\n"
        "  - id: found\n    query: {listing: users, filters: {q: x}}\n"
        "  - id: freeze\n    action: accounts.freeze\n    targets: {from: steps.found.ids}\n"
    )
    with RawServer(_answer).running() as peer:
        _profile(tmp_path, peer.url)
        result = cli("run", str(playbook), "--yes")
    assert result.exit_code == 0, result.stderr
    with open_store(str(db_path), operator="checker") as store:
        (found,) = store.records(RecordFilter(kinds=("query.result",)))
    assert found.params["count"] == 3
    assert found.params["skipped"] == 8
    assert "(8 skipped: unusable ids)" in found.params["summary"]
