"""``ircli audit``: the chain's head, verification, log, exports and copies."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ircli.cli.display import Column, safe, short_time
from ircli.cli.helptext import CONTEXT_SETTINGS, example
from ircli.cli.state import CliState, state_of
from ircli.errors import AuditIntegrityError, InvalidInput

if TYPE_CHECKING:
    from ircli.audit.records import Anchor, AuditRecord, RecordFilter

__all__ = ["app"]

app = typer.Typer(
    help="Inspect, verify, export and copy the tamper-evident audit store.",
    epilog=example("ircli audit verify", "ircli audit log --incident INC-20261128-7QK2"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)

IncidentFilter = Annotated[
    str | None, typer.Option("--incident", metavar="ID", help="Only this incident.")
]
RunFilter = Annotated[str | None, typer.Option("--run", metavar="RUN", help="Only this run.")]
KindFilter = Annotated[
    list[str] | None,
    typer.Option("--kind", help="Only this kind; 'action.' matches a prefix. Repeatable."),
]
SinceFilter = Annotated[
    str | None, typer.Option("--since", metavar="TIME", help="Recorded at or after TIME.")
]
UntilFilter = Annotated[
    str | None, typer.Option("--until", metavar="TIME", help="Recorded at or before TIME.")
]


@app.command("head", epilog=example("ircli audit head", "ircli --json audit head"))
def head(ctx: typer.Context) -> None:
    """Print the newest record's seq and hash: an anchor to keep elsewhere."""
    from ircli.audit.chain import GENESIS_HASH

    state = state_of(ctx)
    anchor = state.store().head()
    seq, digest = (anchor.seq, anchor.hash) if anchor else (0, GENESIS_HASH)
    if state.display.json_mode:
        state.display.json({"seq": seq, "hash": digest})
    else:
        state.display.result(f"{seq}:{digest}")


@app.command(
    "verify",
    epilog=example("ircli audit verify", "ircli audit verify --anchor 1042:9f2c…e1"),
)
def verify(
    ctx: typer.Context,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head printed earlier; also detects a truncated tail.",
        ),
    ] = None,
) -> None:
    """Verify the whole chain, then the target index; exit 4 at the first bad record. A ts
    earlier than the record before it is reported as a warning."""
    state = state_of(ctx)
    pinned = parse_anchor(anchor) if anchor else None  # bad input first: nothing opened
    store = state.store()
    result = store.verify(pinned)
    index = store.check_target_index() if result.ok else None
    if state.display.json_mode:
        state.display.json(
            {
                "ok": result.ok,
                "total": result.total,
                "valid": result.valid,
                "first_bad_seq": result.first_bad_seq,
                "reason": result.reason,
                "head": None
                if result.head is None
                else {"seq": result.head.seq, "hash": result.head.hash},
                "time_decreases": result.time_decreases,
                "first_time_decrease_seq": result.first_time_decrease_seq,
                "target_index": None
                if index is None
                else {
                    "ok": index.ok,
                    "expected_rows": index.expected,
                    "indexed_rows": index.indexed,
                },
            }
        )
    if result.time_decreases:
        state.display.warning(
            f"{result.time_decreases:,} record(s) carry an earlier ts than the record before "
            f"them (first at seq {result.first_time_decrease_seq}): a clock stepped back or "
            "the writers' clocks disagree; the chain itself is not affected."
        )
    if not result.ok:
        raise AuditIntegrityError(
            f"audit chain broken at seq {result.first_bad_seq}: {result.reason} "
            f"({result.valid}/{result.total} records valid)."
        )
    if index is not None and not index.ok:
        raise AuditIntegrityError(
            f"the target index disagrees with the records ({index.expected} entries expected, "
            f"{index.indexed} indexed); the chain itself verifies ({result.valid}/"
            f"{result.total} records valid).",
            hint="The index is derived from the records: rebuild it as docs/audit.md says "
            "('The target index'); until then 'audit log --target' may miss records.",
        )
    if not state.display.json_mode:
        state.display.result(f"{result.valid}/{result.total} records valid")


def parse_anchor(text: str) -> Anchor:
    """``SEQ:HASH`` → ``Anchor``; anything else is invalid input."""
    from ircli.audit.records import Anchor

    seq_text, _, digest = text.partition(":")
    digest = digest.strip().lower()
    if not seq_text.strip().isdigit() or len(digest) != 64 or not _is_hex(digest):
        raise InvalidInput(
            f"invalid anchor {text!r}: expected SEQ:HASH as printed by 'ircli audit head'."
        )
    return Anchor(int(seq_text), digest)


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def _filter(
    state: CliState,
    incident: str | None,
    run: str | None,
    kind: list[str] | None,
    since: str | None,
    until: str | None,
    limit: int | None = None,
    target: str | None = None,
) -> RecordFilter:
    from ircli.audit.records import RecordFilter
    from ircli.clock import format_utc, parse_time

    now = state.environment.clock()
    return RecordFilter(
        incident=incident,
        run=run,
        kinds=tuple(kind or ()),
        since=format_utc(parse_time(since, now=now, what="--since time")) if since else None,
        until=format_utc(parse_time(until, now=now, what="--until time")) if until else None,
        limit=limit,
        target=target,
    )


@app.command(
    "log",
    epilog=example(
        "ircli audit log --incident INC-20261128-7QK2 --kind incident. --since 2026-11-28T21:00Z",
        "ircli audit log --target acc_0001234 --kind action.outcome",
    ),
)
def log(
    ctx: typer.Context,
    incident: IncidentFilter = None,
    run: RunFilter = None,
    kind: KindFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many records.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            metavar="ID",
            help="Only records concerning this target (intents and outcomes naming it, "
            "alone or in a batch), each with this target's own result.",
        ),
    ] = None,
) -> None:
    """Show audit records, oldest first, as a table (or JSON with --json)."""
    state = state_of(ctx)
    where = _filter(state, incident, run, kind, since, until, limit, target)
    records = state.store().records(where)
    if target is not None:
        _log_target(state, target, records)
        return
    if state.display.json_mode:
        state.display.json([record.as_dict() for record in records])
        return
    state.display.table(
        (
            "seq",
            "recorded",
            Column("operator", drop=2),
            "kind",
            Column("incident", drop=3),
            Column("target", drop=1),
            "details",
        ),
        (
            (
                r.seq,
                r.ts,
                r.operator,
                r.kind,
                r.incident or "",
                r.target or "",
                _details(r.params, r.outcome),
            )
            for r in records
        ),
    )


def _log_target(state: CliState, target: str, records: Iterable[AuditRecord]) -> None:
    """What each record says of ``target``: its own outcome, not its batch's."""
    from ircli.audit.targets import target_entry

    entries = [target_entry(record, target) for record in records]
    if state.display.json_mode:
        state.display.json([entry.as_json() for entry in entries])
        return
    state.display.table(
        (
            "seq",
            "recorded",
            "kind",
            Column("run", drop=2),
            "action",
            "outcome",
            Column("status", drop=1),
            Column("attempts", drop=3),
            Column("latency", drop=3),
            Column("targets in record", drop=4),
            "error",
        ),
        (
            (
                e.seq,
                short_time(e.recorded_at),
                e.kind,
                e.run or "",
                e.action or "",
                e.outcome or "",
                "" if e.status is None else e.status,
                "" if e.attempts is None else e.attempts,
                "" if e.latency_ms is None else f"{e.latency_ms} ms",
                f"{e.targets_in_record:,}",
                e.error or "",
            )
            for e in entries
        ),
        title=f"records concerning target {target!r}",
    )


def _details(params: dict[str, object], outcome: dict[str, object]) -> str:
    from ircli.audit.chain import canonical_json

    merged = {**params, **({"outcome": outcome} if outcome else {})}
    return safe(canonical_json(merged), limit=120)


@app.command(
    "export",
    epilog=example(
        "ircli audit export --format csv -o audit.csv",
        "ircli audit export --format jsonl --incident INC-20261128-7QK2 > audit.jsonl",
        "ircli audit export --format ocsf -o audit.ocsf.jsonl",
    ),
)
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or ocsf.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (0600), not stdout.")
    ] = None,
    incident: IncidentFilter = None,
    run: RunFilter = None,
    kind: KindFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
) -> None:
    """Export audit records as JSON Lines, CSV (formula-safe) or OCSF 1.x events (JSONL)."""
    from ircli.audit import export as exporters
    from ircli.audit.ocsf import to_ocsf

    writers = {"jsonl": exporters.to_jsonl, "csv": exporters.to_csv, "ocsf": to_ocsf}
    writer = writers.get(fmt)
    if writer is None:
        raise InvalidInput(f"unknown export format {fmt!r}; expected jsonl, csv or ocsf.")
    state = state_of(ctx)
    records = state.store().records(_filter(state, incident, run, kind, since, until))
    if output is None:
        stream = state.environment.stdout
        for chunk in writer(records):
            stream.write(chunk)
        stream.flush()
        return
    count = write_private(output, writer(records))
    state.display.info(f"wrote {output} ({count} bytes)")


@app.command(
    "copy",
    epilog=example(
        "ircli --db ~/.local/share/ircli/audit.db audit copy --to "
        "postgresql+psycopg://dana@db.internal/ircli",
        "ircli audit copy --to offline.db",
    ),
)
def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL|PATH",
            help="The store to copy into: empty (a new file is created), or an earlier copy "
            "of this one, to which only the newer records are appended.",
        ),
    ],
) -> None:
    """Copy the store into another, record for record: the same hashes and anchors.

    SQLite to PostgreSQL and back; into an earlier copy only the newer records go. Exit 3,
    copying nothing, when the target holds other records."""
    import time

    from ircli.audit.chain import GENESIS_HASH
    from ircli.audit.copy import copy_records

    state = state_of(ctx)
    source = state.store()
    began = time.monotonic()

    def progress(copied: int, total: int) -> None:
        if total >= _PROGRESS_FROM:
            rate = copied / max(time.monotonic() - began, 1e-9)
            state.display.info(f"copied {copied:,} of {total:,} records ({rate:,.0f}/s)")

    with state.open_store(to, create=True) as target:
        target.check()  # a damaged target is not written to
        result = copy_records(source, target, progress=progress)
    elapsed = time.monotonic() - began
    seq, digest = (result.head.seq, result.head.hash) if result.head else (0, GENESIS_HASH)
    if state.display.json_mode:
        state.display.json(
            {
                "source": state.store_key(),
                "target": target.url,
                "copied_records": result.copied,
                "skipped_records": result.skipped,
                "head": {"seq": seq, "hash": digest},
                "elapsed_seconds": round(elapsed, 3),
            }
        )
        return
    state.display.result(
        f"copied {result.copied:,} records to {target.url} ({result.skipped:,} were there "
        f"already) in {elapsed:.1f} s; head {seq}:{digest}"
    )


_PROGRESS_FROM = 20_000
"""Copies of this many records say how far they are after each batch."""


def write_private(path: Path, chunks: Iterable[str]) -> int:
    """Write text chunks to a new 0600 file (replacing it atomically); returns bytes written."""
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    written = 0
    try:
        descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                written += len(chunk.encode("utf-8"))
                handle.write(chunk)
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {error.strerror}.") from None
    return written
