"""How error messages name things: values, near misses, and the names that would do.

Small and dependency-free, so that any layer can word a one-sentence error the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

__all__ = ["describe", "did_you_mean", "not_among"]


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def not_among(subject: str, name: str, known: Collection[str], label: str) -> str:
    """``SUBJECT (did you mean 'x'?); LABEL: a, b.`` for a name that is not one of ``known``."""
    listed = ", ".join(known) or "none"
    return f"{subject}{did_you_mean(name, known)}; {label}: {listed}."


def describe(value: Any) -> str:
    """A value as an error message names it: ``the string 'x'``, ``a number (3)`` …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    return "a mapping"
