"""Help-text conventions shared by every command module."""

from __future__ import annotations

__all__ = ["CONTEXT_SETTINGS", "example"]

# A fixed width keeps --help identical everywhere, so docs/cli.md can be checked against it.
CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
    "terminal_width": 100,
}


def example(*lines: str) -> str:
    """An ``Example:`` epilog that click prints verbatim at the end of ``--help``."""
    body = "\n".join(f"  {line}" for line in lines)
    return f"\b\nExample:\n{body}"
