"""Sending a file of EU DSA statements of reasons to the Transparency Database, through a profile.

``read_statements`` reads the JSON Lines ``ircli report -f dsa`` writes (one statement a line)
and checks every line against the database's rules (``ircli.dsarules``) before anything is sent.
``submit_statements`` posts them, at most 100 a call, as ``{"statements": [...]}`` to the
profile's base URL + ``/api/v1/statements`` with the profile's auth, TLS and proxy; each call is
one ``dsa.submitted`` audit record (the URL, the puids sent, the answer). Statements an
earlier submission to the same URL saw accepted (``201 Created``) are not sent again: the
database refuses a puid it holds. docs/dsa.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.dsarules import batches, check_statement
from ircli.errors import InvalidInput
from ircli.executor import service

__all__ = [
    "ENDPOINT",
    "RECORD_KIND",
    "BatchResult",
    "StatementsFile",
    "SubmissionReport",
    "read_statements",
    "submit_statements",
]

ENDPOINT = "/api/v1/statements"
RECORD_KIND = "dsa.submitted"
_PROBLEMS_SHOWN = 3


@dataclass(frozen=True)
class StatementsFile:
    """A statements file, every line checked."""

    path: Path
    sha256: str
    statements: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class BatchResult:
    """One call: how many statements it carried and what the database answered."""

    number: int
    count: int
    status: int | None
    """The HTTP status; ``None`` when no answer came back."""
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the database created the batch (``201 Created``; all or none are)."""
        return self.status == 201


@dataclass
class SubmissionReport:
    """What a submission did."""

    total: int
    skipped: int
    """Statements accepted by an earlier submission to the same URL."""
    batches: list[BatchResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(b.count for b in self.batches if b.accepted)

    @property
    def ok(self) -> bool:
        """Every statement is in the database now."""
        return self.accepted + self.skipped == self.total


def read_statements(path: Path) -> StatementsFile:
    """The statements of a JSON Lines file; ``InvalidInput`` naming ``file:LINE`` and the
    field of every problem (up to three) when a line breaks the database's rules."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read the statements file: {error.strerror}.") from None
    statements: list[Mapping[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            problems.append(f"{path}:{number}: not a JSON object.")
            continue
        _statement, found = check_statement(data)
        problems += [f"{path}:{number}: {problem}" for problem in found]
        if not found:
            puid = data["puid"]
            if puid in seen:
                problems.append(f"{path}:{number}: puid: the same as on line {seen[puid]}.")
            seen.setdefault(puid, number)
            statements.append(data)
    if problems:
        more = len(problems) - _PROBLEMS_SHOWN
        shown = " ".join(problems[:_PROBLEMS_SHOWN]) + (f" (and {more} more)" if more > 0 else "")
        raise InvalidInput(f"{shown} Nothing was sent.")
    if not statements:
        raise InvalidInput(f"{path}: no statements in the file; nothing was sent.")
    return StatementsFile(path, hashlib.sha256(raw).hexdigest(), tuple(statements))


def _accepted_before(store: AuditStore, url: str) -> set[str]:
    """The puids earlier submissions to ``url`` saw accepted, whichever profile sent them: the
    same profile pointed at another database (its sandbox, then production) starts afresh."""
    accepted: set[str] = set()
    for record in store.records(RecordFilter(kinds=(RECORD_KIND,))):
        if record.params.get("url") == url and record.outcome.get("status") == 201:
            accepted.update(p for p in record.params.get("puids") or () if isinstance(p, str))
    return accepted


async def submit_statements(
    workspace: service.Workspace,
    loaded: service.LoadedProfile,
    file: StatementsFile,
    *,
    incident: str | None = None,
) -> SubmissionReport:
    """Post ``file``'s statements not yet accepted, 100 a call; one audit record a call.

    A call the database refuses (``422``: none of its statements are created) does not stop
    the others; a call that gets no answer stops the submission (the rest are not sent).
    """
    from ircli.platform import auth_headers
    from ircli.platform.client import TransportFailure
    from ircli.platform.render import PreparedRequest

    done = _accepted_before(workspace.store, loaded.profile.base_url + ENDPOINT)
    pending = [s for s in file.statements if s["puid"] not in done]
    total = len(file.statements)
    report = SubmissionReport(total=total, skipped=total - len(pending))
    chunks = list(batches(pending))
    profile = loaded.profile
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    async with service.platform_client(profile, headers, workspace.env, concurrency=1) as client:
        for number, chunk in enumerate(chunks, start=1):
            request = PreparedRequest("POST", ENDPOINT, {}, json={"statements": list(chunk)})
            try:
                reply = await client.send(request, kind="action")
                result = BatchResult(number, len(chunk), reply.status, _refusal(reply))
            except TransportFailure as failure:
                result = BatchResult(number, len(chunk), None, f"no answer ({failure})")
            report.batches.append(result)
            _record(workspace, loaded, file, result, len(chunks), chunk, incident)
            if result.status is None:
                break
    return report


def _refusal(reply: Any) -> str | None:
    """Why the database did not create a batch, in its own words (``None`` when it did)."""
    from ircli.platform.bodies import platform_says

    if reply.status == 201:
        return None
    body = reply.body
    errors = body.get("errors") if isinstance(body, dict) else None
    said: str | None
    if isinstance(errors, dict):  # {"statement_3": {"puid": ["… not unique …"]}, …}
        said = platform_says("; ".join(_indexed(errors)))
    else:
        said = platform_says(body)
    return f"HTTP {reply.status}" + (f": {said}" if said else "")


def _indexed(errors: Mapping[str, Any]) -> Iterator[str]:
    """``statement_3: puid: …`` for each field of each statement the database refused."""
    for where, fields in errors.items():
        if not isinstance(fields, dict):
            yield f"{where}: {fields}"
            continue
        for name, messages in fields.items():
            words = messages if isinstance(messages, list) else [messages]
            yield f"{where}: {name}: {' '.join(map(str, words))}"


def _record(
    workspace: service.Workspace,
    loaded: service.LoadedProfile,
    file: StatementsFile,
    result: BatchResult,
    of: int,
    chunk: Iterable[Mapping[str, Any]],
    incident: str | None,
) -> None:
    answer = "no answer" if result.status is None else f"HTTP {result.status}"
    workspace.store.append(
        NewRecord(
            kind=RECORD_KIND,
            incident=incident,
            params={
                "summary": f"DSA statements batch {result.number}/{of} "
                f"({result.count} statements): {answer}",
                "profile": loaded.ref,
                "url": loaded.profile.base_url + ENDPOINT,
                "file": str(file.path),
                "sha256": file.sha256,
                "batch": result.number,
                "batches": of,
                "puids": [str(s["puid"]) for s in chunk],
            },
            outcome={"status": result.status, "accepted": result.accepted, "error": result.error},
        )
    )
