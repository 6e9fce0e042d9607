"""Making attacker-controlled text inert wherever it is shown: one definition for every layer.

``visible`` turns control, bidirectional and zero-width characters into visible escapes
(``\\x1b``, ``\\u202e``), so no terminal sequence runs and no line reads differently from what
it holds. The terminal tables, the reports and the audit CSV export all go through it.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

# C0/C1 controls (except tab and newline), DEL, zero-width and bidi/format controls, line and
# paragraph separators, the BOM.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as text with every invisible or terminal-active character made visible."""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(_escape_char, text)
