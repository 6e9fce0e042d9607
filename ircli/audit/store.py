"""The audit store: an append-only, hash-chained table behind SQLAlchemy.

SQLite (the default) runs in WAL mode with a busy timeout; every write transaction starts
with ``BEGIN IMMEDIATE``, so concurrent writers queue instead of forking the chain. On
PostgreSQL every write transaction (appends and migrations) first takes a transaction-scoped
advisory lock. Unique ``prev_hash`` and ``hash`` columns make a fork impossible even if a writer
misbehaves; on both, triggers also refuse updates, deletes and non-extending inserts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    exc,
    func,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql import Select

from ircli.audit.chain import (
    VerifyResult,
    canonical_json,
    check_continues,
    check_json_value,
    hashed_content,
    link_records,
    verify_records,
)
from ircli.audit.credentials import check_no_password
from ircli.audit.engines import (
    DAMAGED_HINT,
    WRITE,
    configure_postgresql,
    configure_sqlite,
    create_private_file,
    database_error,
    driver_arguments,
)
from ircli.audit.leases import Leases
from ircli.audit.records import Anchor, AuditRecord, NewRecord, RecordFilter
from ircli.audit.schema import HEAD_REVISION, audit_records, audit_targets
from ircli.audit.targets import record_targets, write_target_index
from ircli.clock import Clock, format_utc, system_clock
from ircli.errors import (
    AuditIntegrityError,
    GuardRefused,
    InvalidInput,
)
from ircli.redaction import Redactor, mask_url_password

__all__ = ["AuditStore", "StoreMissing", "TargetIndexCheck", "open_store", "store_url"]

_STREAM_ROWS = 2000
"""Rows fetched at a time when records are streamed."""
_FORK_RETRIES = 5
_UNINDEXED = frozenset({"0001"})
"""Revisions before the target index: a read-only store at one of them is read as it is (a
``target`` filter scans the records)."""
_READABLE = frozenset({*_UNINDEXED, "0002", HEAD_REVISION})
"""Revisions a read-only store may be at: the records table is the same in all of them (0003
only adds PostgreSQL triggers)."""


def store_url(target: str) -> str:
    """A SQLAlchemy URL for ``target``: a URL as given, a path as a SQLite file URL."""
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).expanduser().resolve()}"


def open_store(
    target: str,
    *,
    operator: str,
    clock: Clock = system_clock,
    redactor: Redactor | None = None,
    create: bool = True,
    password: str | None = None,
) -> AuditStore:
    """Open (migrating as needed) the audit store at a path or URL.

    With ``create`` a missing store is created; without it (reading commands) a missing
    file, or a database without ircli's tables, is an error naming where ircli looked. A URL
    holding a password is refused: a server's ``password`` is passed here, from where
    ``ircli.audit.credentials`` says, and registered with the redactor.
    """
    redactor = redactor or Redactor()
    url: str | URL = store_url(target)
    shown = mask_url_password(str(url))
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise InvalidInput(f"{shown!r} is not a database URL or a file path.") from None
    check_no_password(parsed, shown)
    if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
        url = parsed = parsed.set(drivername="postgresql+psycopg")
    read_only = False
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if create:
            create_private_file(path, shown)
        elif not path.is_file():
            raise _missing(str(path))
        elif not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            # Not ours to write: read it, never write. A copy (no -wal/-shm beside it) is read
            # as it is; a live store someone else writes is read through its WAL, with locks.
            live = any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm"))
            mode = "mode=ro" if live else "mode=ro&immutable=1"
            url = f"sqlite:///file:{path.resolve()}?{mode}&uri=true"
            read_only = True
    arguments = driver_arguments(parsed.get_backend_name())
    if password and parsed.get_backend_name() != "sqlite":
        redactor.add_secret(password)
        arguments["password"] = password  # never into the URL, which is shown
    options: dict[str, Any] = {"connect_args": arguments}
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # One shared connection, or every thread would see its own empty database.
        from sqlalchemy.pool import StaticPool

        options["poolclass"] = StaticPool
    try:
        engine = create_engine(url, **options)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        hint = (
            "Install the driver: pip install 'ircli[postgres]'."
            if parsed.get_backend_name() == "postgresql"
            else None
        )
        raise InvalidInput(f"cannot use the audit store {shown}: {error}.", hint=hint) from None
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, read_only=read_only)
    elif engine.dialect.name == "postgresql":
        configure_postgresql(engine)
    store = AuditStore(engine, operator=operator, clock=clock, redactor=redactor)
    store.read_only = read_only
    try:
        if not create and store.revision() is None:
            engine.dispose()
            raise _missing(shown)
        revision = store.revision()
        if read_only and revision not in _READABLE:
            raise InvalidInput(
                f"the read-only store {shown} has a schema this ircli does not know "
                f"({revision}); read it with the ircli that wrote it."
            )
        if not read_only:
            store.migrate()
        store.indexed = not (read_only and revision in _UNINDEXED)
    except exc.DatabaseError as error:
        engine.dispose()
        raise database_error(shown, error) from None
    return store


def _selection(where: RecordFilter) -> Select[Any]:
    """The records ``where`` selects, unordered and unlimited."""
    table = audit_records
    query = select(table).where(table.c.seq > where.after_seq)
    if where.target is not None:
        query = query.join(audit_targets, audit_targets.c.seq == table.c.seq).where(
            audit_targets.c.target == where.target
        )
    if where.incident is not None:
        query = query.where(table.c.incident == where.incident)
    if where.run is not None:
        query = query.where(table.c.run == where.run)
    if where.kinds:
        exact = [kind for kind in where.kinds if not kind.endswith(".")]
        prefixes = [kind for kind in where.kinds if kind.endswith(".")]
        query = query.where(
            or_(
                table.c.kind.in_(exact),
                *(table.c.kind.startswith(prefix, autoescape=True) for prefix in prefixes),
            )
        )
    if where.params_contain:
        query = query.where(
            or_(*(table.c.params.contains(text, autoescape=True) for text in where.params_contain))
        )
    if where.since is not None:
        query = query.where(table.c.ts >= where.since)
    if where.until is not None:
        query = query.where(table.c.ts <= where.until)
    return query


def _revision(connection: Connection) -> str | None:
    """The schema revision as ``connection`` sees it (None: no ircli tables yet). Asks the
    catalog first, so that inside a transaction nothing fails (PostgreSQL would abort it)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


class StoreMissing(InvalidInput):
    """There is no audit store where a reading command looked (exit 2; nothing created)."""


def _missing(where: str) -> StoreMissing:
    return StoreMissing(
        f"there is no audit store at {where}; nothing was read.",
        hint="Check --db / IRCLI_DB ('ircli store info' shows the store in use); "
        "a writing command such as 'ircli incident open' creates a new one.",
    )


class AuditStore:
    """Append records to the chain, read them back, and verify the chain."""

    def __init__(self, engine: Engine, *, operator: str, clock: Clock, redactor: Redactor) -> None:
        self._engine = engine
        self.operator = operator
        self.clock = clock
        self.redactor = redactor
        self.url = mask_url_password(engine.url.render_as_string(hide_password=True))
        self.leases = Leases(engine)
        """One process per run: ``leases.hold(run, now)`` while it executes."""
        self.read_only = False
        """Opened read-only (a read-only file or mount): reading commands only."""
        self.indexed = True
        """Whether the store has the target index (a read-only store of an older revision
        may not: ``records`` then finds a target by reading the records)."""
        # Writers in this process take turns (threads of the executor share the store; an
        # in-memory database even shares one connection). Other processes queue in SQLite.
        self._write_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to ``HEAD_REVISION`` (a no-op, without Alembic, when current)."""
        if self.revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("ircli.audit") / "migrations")
        )
        with self._writer() as connection:
            # Several processes opening a new store all saw it unmigrated and queued here:
            # only the first migrates, the rest find it current and let go of the lock at
            # once (loading Alembic under the lock, one after another, took whole seconds).
            if _revision(connection) == HEAD_REVISION:
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema revision the store is at (None: no ircli tables yet)."""
        with self._engine.connect() as connection:
            return _revision(connection)

    def close(self) -> None:
        """Release all connections."""
        self._engine.dispose()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def _writer(self) -> Any:
        connection = self._engine.connect().execution_options(**{WRITE: True})
        return _Transaction(connection, self._write_lock)

    def append(self, record: NewRecord) -> AuditRecord:
        """Append one record durably and return it as stored."""
        return self.append_many([record])[0]

    def append_many(self, records: Sequence[NewRecord]) -> list[AuditRecord]:
        """Append records in one transaction, in order; all or none are stored."""
        if not records:
            return []
        contents = [self._content(record) for record in records]  # ts is set under the lock
        for attempt in range(_FORK_RETRIES):
            try:
                return self._append_contents(contents)
            except exc.IntegrityError:
                # Another writer won the race for this head (only possible on databases
                # without a head lock); read the new head and link again.
                if attempt == _FORK_RETRIES - 1:
                    raise
            except exc.DatabaseError as error:
                raise database_error(self.url, error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _content(self, record: NewRecord) -> dict[str, Any]:
        redact = self.redactor
        params = redact.value(dict(record.params))
        outcome = redact.value(dict(record.outcome))
        check_json_value(params, "params")
        check_json_value(outcome, "outcome")
        return hashed_content(
            seq=0,
            ts="",  # set when the write lock is held (_append_contents)
            operator=redact.text(self.operator),
            kind=record.kind,
            incident=record.incident,
            run=record.run,
            step=None if record.step is None else redact.text(record.step),
            target=None if record.target is None else redact.text(record.target),
            params=params,
            outcome=outcome,
            prev_hash="",
        )

    @contextlib.contextmanager
    def _chain_writer(self) -> Iterator[Connection]:
        """A write transaction holding the head: no other writer appends until it ends."""
        with self._writer() as connection:  # on PostgreSQL it began with the advisory lock
            yield connection

    def _append_contents(self, contents: list[dict[str, Any]]) -> list[AuditRecord]:
        with self._chain_writer() as connection:
            # The time is read holding the write lock: a later seq never has an earlier ts.
            ts = format_utc(self.clock())
            for content in contents:
                content["ts"] = ts
            linked = link_records(_head(connection), contents)
            rows = [
                {
                    **{key: content[key] for key in _PLAIN_COLUMNS},
                    "seq": seq,
                    "params": canonical_json(content["params"]),
                    "outcome": canonical_json(content["outcome"]),
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
                for seq, prev_hash, digest, content in linked
            ]
            connection.execute(_INSERT, rows)
            write_target_index(connection, linked)
        return [
            AuditRecord(
                **{key: content[key] for key in _PLAIN_COLUMNS},
                seq=seq,
                params=content["params"],
                outcome=content["outcome"],
                prev_hash=prev_hash,
                hash=digest,
            )
            for seq, prev_hash, digest, content in linked
        ]

    def append_stored(self, rows: Sequence[Mapping[str, Any]]) -> Anchor | None:
        """Append records exactly as another store holds them (``stored_rows``: the same seq,
        ts, text and hashes), in one transaction with their target index rows; returns the
        new head. They must start right after this store's head (else ``GuardRefused``) and
        each be linked and hashed as the chain says (else ``AuditIntegrityError``); otherwise
        nothing of them is written: a copy cannot make a chain that does not verify."""
        if not rows:
            return self.head()
        try:
            records = [_record_from_row(row) for row in rows]
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise AuditIntegrityError(f"a stored record cannot be decoded: {error}.") from None
        try:
            with self._chain_writer() as connection:
                head = _head(connection)
                start = head.seq + 1 if head else 1
                if records[0].seq != start:  # another writer appended, or a wrong batch
                    raise GuardRefused(
                        f"cannot append to the audit store {self.url}: its next record is seq "
                        f"{start}, but these start at seq {records[0].seq}; nothing of this "
                        "batch was written."
                    )
                reason = check_continues(head, records)
                if reason is not None:
                    raise AuditIntegrityError(
                        f"cannot append to the audit store {self.url}: {reason}; "
                        "nothing of this batch was written."
                    )
                connection.execute(_INSERT, [dict(row) for row in rows])
                write_target_index(connection, [
                    (r.seq, r.prev_hash, r.hash,
                     {"kind": r.kind, "target": r.target, "params": r.params,
                      "outcome": r.outcome})
                    for r in records
                ])  # fmt: skip
        except exc.DatabaseError as error:
            raise database_error(self.url, error) from None
        return Anchor(records[-1].seq, records[-1].hash)

    # -- reading ---------------------------------------------------------------------------

    def stored_rows(self, after_seq: int = 0) -> Generator[dict[str, Any], None, None]:
        """The records after ``after_seq`` as stored, column by column (``params`` and
        ``outcome`` as their text), in ``seq`` order, streamed: what ``append_stored``
        takes."""
        query = (
            select(audit_records)
            .where(audit_records.c.seq > after_seq)
            .order_by(audit_records.c.seq)
        )
        with (
            self._reading() as connection,
            connection.execution_options(yield_per=_STREAM_ROWS).execute(query) as result,
        ):
            for row in result.mappings():
                yield dict(row)

    @property
    def backend(self) -> str:
        """The database and its driver, e.g. ``sqlite (pysqlite)``."""
        return f"{self._engine.dialect.name} ({self._engine.dialect.driver})"

    def head(self) -> Anchor | None:
        """The newest (seq, hash), or None for an empty store."""
        with self._reading() as connection:
            return _head(connection)

    def count(self, where: RecordFilter | None = None) -> int:
        """How many records the store holds (that ``where`` selects: its ``limit`` aside)."""
        selected = audit_records if where is None else _selection(where).subquery()
        with self._reading() as connection:
            return int(connection.execute(select(func.count()).select_from(selected)).scalar_one())

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for reading; a database error becomes ours (damaged: exit 4)."""
        try:
            with self._engine.connect() as connection:
                yield connection
        except exc.DatabaseError as error:
            raise database_error(self.url, error) from None

    def check(self, tail: int = 64) -> None:
        """Before a run writes: the file's structure (SQLite ``quick_check``) and the links
        and hashes of the newest ``tail`` records. ``AuditIntegrityError`` (exit 4) if either
        fails: nothing may act on the platform with a store that cannot be trusted."""
        from ircli.audit.chain import verify_tail

        with self._reading() as connection:
            if connection.dialect.name == "sqlite":
                verdict = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check")]
                if verdict != ["ok"]:
                    raise AuditIntegrityError(
                        f"the audit store {self.url} is damaged: {'; '.join(verdict[:3])}.",
                        hint=DAMAGED_HINT,
                    )
            head = _head(connection)
        if head is None:
            return
        reason = verify_tail(list(self.records(RecordFilter(after_seq=max(0, head.seq - tail)))))
        if reason is not None:
            raise AuditIntegrityError(
                f"the audit store {self.url} fails its check: {reason}.", hint=DAMAGED_HINT
            )

    def records(self, where: RecordFilter | None = None) -> Iterator[AuditRecord]:
        """Records matching ``where``, in ``seq`` order (or newest first), streamed. A
        ``target`` is found through the target index."""
        where = where or RecordFilter()
        if where.target is not None and not self.indexed:
            yield from _concerning(self.records(replace(where, target=None, limit=None)),
                                   where.target, where.limit)  # fmt: skip
            return
        table = audit_records
        query = _selection(where).order_by(
            table.c.seq.desc() if where.newest_first else table.c.seq
        )
        if where.limit is not None:
            query = query.limit(where.limit)
        # The result is closed even when the reader stops early (verify at a break, ``next``):
        # on PostgreSQL, yield_per reads through a server-side cursor.
        with (
            self._reading() as connection,
            connection.execution_options(yield_per=_STREAM_ROWS).execute(query) as result,
        ):
            for row in result.mappings():
                yield _record_from_row(row)

    def verify(self, anchor: Anchor | None = None) -> VerifyResult:
        """Walk the whole chain (see ``ircli.audit.chain.verify_records``). A store damaged
        past some record is a failed verification at the first record that cannot be read."""
        read: list[int] = []

        def tracked() -> Iterator[AuditRecord]:
            for record in self.records():
                read.append(record.seq)
                yield record

        try:
            return verify_records(tracked(), anchor)
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise AuditIntegrityError(f"a stored record cannot be decoded: {error}.") from None
        except AuditIntegrityError as damaged:
            last = read[-1] if read else 0
            # The same rows again (a LIMIT of as many as were read: nothing past the damage).
            partial = verify_records(self.records(RecordFilter(limit=len(read)))) if read else None
            if partial is not None and not partial.ok:  # a break before the damage comes first
                return VerifyResult(len(read), partial.valid, partial.first_bad_seq,
                                    partial.reason)  # fmt: skip
            valid = partial.valid if partial is not None else 0
            return VerifyResult(len(read), valid, last + 1, damaged.message.rstrip("."))

    def check_target_index(self) -> TargetIndexCheck | None:
        """Compare the target index with what the records say it holds (one pass over each;
        None for a store without the index). Reading records that cannot be decoded is the
        chain's business: ``verify`` reports them."""
        if not self.indexed:
            return None
        expected = indexed = 0
        expected_sum = indexed_sum = 0
        for record in self.records():
            for target in record_targets(record.kind, record.target, record.params,
                                         record.outcome):  # fmt: skip
                expected += 1
                expected_sum += hash((target, record.seq))
        with self._reading() as connection:
            rows = connection.execution_options(yield_per=10_000).execute(_INDEX_ROWS)
            for target, seq in rows:
                indexed += 1
                indexed_sum += hash((target, int(seq)))
        # Sums of salted hashes: the same multiset of rows, barring a collision nobody can aim
        # for (the salt is this process's).
        same = expected == indexed and expected_sum == indexed_sum
        return TargetIndexCheck(expected=expected, indexed=indexed, ok=same)


@dataclass(frozen=True)
class TargetIndexCheck:
    """The target index compared with the records: how many rows each says it holds."""

    expected: int
    """Rows the records call for (``ircli.audit.targets.record_targets``)."""
    indexed: int
    """Rows the index holds."""
    ok: bool


_PLAIN_COLUMNS = ("ts", "operator", "kind", "incident", "run", "step", "target")


class _Transaction:
    """``with`` a write connection: commit on success, roll back on error, always close."""

    def __init__(self, connection: Connection, lock: threading.Lock) -> None:
        self._connection = connection
        self._lock = lock

    def __enter__(self) -> Connection:
        self._lock.acquire()
        try:
            self._connection.begin()
        except BaseException:
            self._lock.release()
            raise
        return self._connection

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        try:
            if exc_type is None:
                self._connection.commit()
            else:
                self._connection.rollback()
        finally:
            self._connection.close()
            self._lock.release()


# Built once: constructing statements per append costs more than running them.
_HEAD_QUERY = (
    select(audit_records.c.seq, audit_records.c.hash).order_by(audit_records.c.seq.desc()).limit(1)
)
_INSERT = insert(audit_records)
_INDEX_ROWS = select(audit_targets.c.target, audit_targets.c.seq)
_Linked = list[tuple[int, str, str, dict[str, Any]]]
"""Records being appended: (seq, prev_hash, hash, content), as ``link_records`` gives them."""


def _head(connection: Connection) -> Anchor | None:
    row = connection.execute(_HEAD_QUERY).first()
    return Anchor(int(row.seq), str(row.hash)) if row else None


def _concerning(
    records: Iterator[AuditRecord], target: str, limit: int | None
) -> Iterator[AuditRecord]:
    """The records that concern ``target``, read without the index (at most ``limit``)."""
    found = (
        record
        for record in records
        if target in record_targets(record.kind, record.target, record.params, record.outcome)
    )
    return itertools.islice(found, limit)


def _record_from_row(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        ts=row["ts"],
        operator=row["operator"],
        kind=row["kind"],
        incident=row["incident"],
        run=row["run"],
        step=row["step"],
        target=row["target"],
        params=json.loads(row["params"]),
        outcome=json.loads(row["outcome"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
