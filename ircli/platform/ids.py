"""What may name a target in a request, from any source: the command line, ids files,
playbook inputs and listings."""

from __future__ import annotations

import re

__all__ = ["MAX_ID_LENGTH", "all_usable", "usable_id"]

MAX_ID_LENGTH = 512
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 and C1 controls, and the Unicode line and paragraph separators."""
_NOT_IDS = (".", "..")
"""Path segments that would act on the parent resource (or the collection itself)."""


def usable_id(target: str) -> bool:
    """Whether ``target`` can name an object in a request: not empty, not ``.`` or ``..``,
    at most ``MAX_ID_LENGTH`` characters, no control characters (C0, DEL, C1, U+2028/9)."""
    return (
        bool(target)
        and len(target) <= MAX_ID_LENGTH
        and target not in _NOT_IDS
        and not _CONTROL.search(target)
    )


def all_usable(ids: list[str]) -> bool:
    """``usable_id`` for every one of ``ids`` (non-empty), in a few passes at C speed."""
    return (
        max(map(len, ids), default=0) <= MAX_ID_LENGTH
        and not _CONTROL.search("".join(ids))
        and not any(target in ids for target in _NOT_IDS)
    )
