"""A separate writer process for the concurrency and crash tests.

``python -m tests.audit.writer DB COUNT NAME [BATCH]`` appends COUNT records (in batches of
BATCH, default 1) and prints ``seq hash`` for each record once ``append`` has returned,
i.e. once it is acknowledged as durable.
"""

from __future__ import annotations

import sys

from ircli.audit.records import NewRecord
from ircli.audit.store import open_store


def main() -> None:
    db, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    with open_store(db, operator=name) as store:
        written = 0
        while written < count:
            size = min(batch, count - written)
            records = store.append_many(
                [NewRecord(kind="test.append", target=f"{name}-{written + i}") for i in range(size)]
            )
            written += size
            sys.stdout.write("".join(f"{r.seq} {r.hash}\n" for r in records))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
