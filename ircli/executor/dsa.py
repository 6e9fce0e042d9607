"""Sending a file of EU DSA statements of reasons to the Transparency Database, through a profile.

``read_statements`` reads the JSON Lines ``ircli report -f dsa`` writes (one statement a line)
and checks every line against the database's rules (``ircli.dsarules``) before anything is sent.
``submit_statements`` posts them, at most 100 a call, as ``{"statements": [...]}`` to the
profile's base URL + ``/api/v1/statements`` with the profile's auth, TLS and proxy; each call is
one ``dsa.submitted`` audit record (the URL, the puids sent, the answer). The database refuses
a whole call when it already holds one of its puids (``422``, naming them in
``existing_puids``): those are recorded as held and the rest of the call is sent again without
them. Statements an earlier submission to the same URL saw accepted (``201 Created``) or held
are not sent again. docs/dsa.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.dsarules import batches, check_statement
from ircli.errors import InvalidInput
from ircli.executor import service

if TYPE_CHECKING:
    from ircli.platform.client import PlatformClient

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
    lines: Mapping[str, int] = field(default_factory=dict)
    """puid → the line of the file it is on (a refusal names statements by their place in
    the call)."""


@dataclass(frozen=True)
class BatchResult:
    """One call: how many statements it carried and what the database answered."""

    number: int
    count: int
    status: int | None
    """The HTTP status; ``None`` when no answer came back."""
    error: str | None = None
    held: tuple[str, ...] = ()
    """The puids of this call the database already holds (``existing_puids`` of its 422):
    they are in the database, and the call's other statements are sent again without them."""

    @property
    def accepted(self) -> bool:
        """Whether the database created the batch (``201 Created``; all or none are)."""
        return self.status == 201


@dataclass
class SubmissionReport:
    """What a submission did."""

    total: int
    skipped: int
    """Statements an earlier submission to the same URL saw accepted or held."""
    batches: list[BatchResult] = field(default_factory=list)
    """Every call, in order; a batch sent again without its held statements is the same
    ``number`` again."""

    @property
    def accepted(self) -> int:
        return sum(b.count for b in self.batches if b.accepted)

    @property
    def held(self) -> int:
        """Statements the database answered it already holds."""
        return sum(len(b.held) for b in self.batches)

    @property
    def sent(self) -> int:
        """Statements sent, each once (the first call of each batch carried them all)."""
        first: dict[int, int] = {}
        for batch in self.batches:
            first.setdefault(batch.number, batch.count)
        return sum(first.values())

    @property
    def ok(self) -> bool:
        """Every statement is in the database now."""
        return self.accepted + self.held + self.skipped == self.total


def read_statements(path: Path) -> StatementsFile:
    """The statements of a JSON Lines file; ``InvalidInput`` naming ``file:LINE`` and the
    field of every problem (up to three) when a line breaks the database's rules, or
    ``file:LINE:COL`` of the first byte that is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read the statements file: {error.strerror}.") from None
    statements: list[Mapping[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    # JSON Lines ends lines with "\n" only: str.splitlines would also split at U+2028, U+0085
    # and others, which a JSON string may hold as they are.
    for number, line in enumerate(_text(path, raw).split("\n"), start=1):
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
    return StatementsFile(path, hashlib.sha256(raw).hexdigest(), tuple(statements), seen)


def _text(path: Path, raw: bytes) -> str:
    """``raw`` decoded as UTF-8; ``InvalidInput`` at the first byte that is not (replacing it
    would send text the file does not hold)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, start) + 1
        column = len(raw[start : error.start].decode("utf-8")) + 1
        raise InvalidInput(
            f"{path}:{line}:{column}: not UTF-8 (byte 0x{raw[error.start]:02x}); nothing was sent."
        ) from None


def _in_database(store: AuditStore, url: str) -> set[str]:
    """The puids earlier submissions to ``url`` saw accepted or held, whichever profile sent
    them: the same profile pointed at another database (its sandbox, then production) starts
    afresh."""
    known: set[str] = set()
    for record in store.records(RecordFilter(kinds=(RECORD_KIND,))):
        if record.params.get("url") != url:
            continue
        if record.outcome.get("status") == 201:
            known.update(p for p in record.params.get("puids") or () if isinstance(p, str))
        known.update(p for p in record.outcome.get("held") or () if isinstance(p, str))
    return known


async def submit_statements(
    workspace: service.Workspace,
    loaded: service.LoadedProfile,
    file: StatementsFile,
    *,
    incident: str | None = None,
) -> SubmissionReport:
    """Post ``file``'s statements not yet in the database, 100 a call; one audit record a call.

    A call the database refuses (``422``: none of its statements are created) does not stop
    the others; when it refused it for puids it already holds, the rest of the call is sent
    again without them. A call that gets no answer stops the submission (the rest are not
    sent): the database may have stored it, which the next submission learns from its 422.
    """
    from ircli.platform import auth_headers

    known = _in_database(workspace.store, loaded.profile.base_url + ENDPOINT)
    pending = [s for s in file.statements if s["puid"] not in known]
    total = len(file.statements)
    report = SubmissionReport(total=total, skipped=total - len(pending))
    chunks = list(batches(pending))
    profile = loaded.profile
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    async with service.platform_client(profile, headers, workspace.env, concurrency=1) as client:
        for number, chunk in enumerate(chunks, start=1):
            sending = list(chunk)
            while sending:  # each round sends fewer: only what was not held
                result = await _post(client, number, sending, file.lines)
                report.batches.append(result)
                _record(workspace, loaded, file, result, len(chunks), sending, incident)
                if result.status is None:
                    return report
                held = set(result.held)
                sending = [s for s in sending if s["puid"] not in held] if held else []
    return report


async def _post(
    client: PlatformClient,
    number: int,
    statements: list[Mapping[str, Any]],
    lines: Mapping[str, int],
) -> BatchResult:
    """One call of batch ``number`` and what the database answered (``lines``: each puid's
    line in the file)."""
    from ircli.platform.client import TransportFailure
    from ircli.platform.render import PreparedRequest

    request = PreparedRequest("POST", ENDPOINT, {}, json={"statements": statements})
    try:
        reply = await client.send(request, kind="action")
    except TransportFailure as failure:
        return BatchResult(number, len(statements), None, f"no answer ({failure})")
    held = _held(reply, statements)
    if held:
        rest = len(statements) - len(held)
        again = f"; the other {rest} sent again" if rest else ""
        said = f"HTTP 422: {len(held)} of {len(statements)} already in the database{again}"
        return BatchResult(number, len(statements), reply.status, said, held)
    return BatchResult(number, len(statements), reply.status, _refusal(reply, statements, lines))


def _held(reply: Any, statements: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """The puids of ``statements`` a 422 says the database already holds: its
    ``{"errors": {"puid": [...], "existing_puids": [...]}}`` (``PuidNotUniqueMultipleException``
    in the database's source)."""
    body = reply.body
    errors = body.get("errors") if reply.status == 422 and isinstance(body, dict) else None
    existing = errors.get("existing_puids") if isinstance(errors, dict) else None
    if not isinstance(existing, list):
        return ()
    named = {p for p in existing if isinstance(p, str)}
    return tuple(str(s["puid"]) for s in statements if s["puid"] in named)


def _refusal(
    reply: Any, statements: list[Mapping[str, Any]], lines: Mapping[str, int]
) -> str | None:
    """Why the database did not create a batch, in its own words, on one line (``None`` when
    it did): each refused field of ``{"errors": {"statement_3": {"puid": [...]}}}`` with the
    statement's line and puid, up to three."""
    from ircli.platform.bodies import platform_says

    if reply.status == 201:
        return None
    body = reply.body
    errors = body.get("errors") if isinstance(body, dict) else None
    said: str | None
    if isinstance(errors, dict) and errors:
        found = list(_problems(errors, statements, lines))
        more = len(found) - _PROBLEMS_SHOWN
        said = " ".join(found[:_PROBLEMS_SHOWN]) + (f" (and {more} more)" if more > 0 else "")
    else:
        said = platform_says(body)
    return f"HTTP {reply.status}" + (f": {said}" if said else "")


def _problems(
    errors: Mapping[str, Any], statements: list[Mapping[str, Any]], lines: Mapping[str, int]
) -> Iterator[str]:
    """``line 12 (puid ircli-…): decision_facts: The … field is required.`` for each field of
    each statement the database refused (``statement_N``: the call's N-th, from 0), and
    ``statements: …`` for a refusal of the call itself."""
    for key, fields in errors.items():
        where = str(key)
        if (index := re.fullmatch(r"statement_(\d+)", where)) and int(index[1]) < len(statements):
            puid = str(statements[int(index[1])]["puid"])
            where = f"line {lines.get(puid, '?')} (puid {puid})"
        if not isinstance(fields, dict):
            yield f"{where}: {_words(fields)}"
            continue
        for name, messages in fields.items():
            yield f"{where}: {name}: {_words(messages)}"


def _words(messages: Any) -> str:
    """A field's messages as one line of text: a list joined, anything but text as JSON, each
    message at most ``MAX_QUOTE`` characters."""
    from ircli.platform.bodies import platform_says

    items = messages if isinstance(messages, list) else [messages]
    texts = (item if isinstance(item, str) else json.dumps(item) for item in items)
    return " ".join(said for said in map(platform_says, texts) if said)


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
    if result.held:
        answer += f", {len(result.held)} already in the database"
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
            outcome={
                "status": result.status,
                "accepted": result.accepted,
                "error": result.error,
                "held": list(result.held),
            },
        )
    )
