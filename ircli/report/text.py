"""Making attacker-controlled text inert in each output format.

Everything a report shows that came from a platform or a person (titles, names, notes, report
texts, targets) passes through one of these before it is written:

* ``visible`` — control, bidirectional and zero-width characters become visible escapes
  (``\\x1b``, ``\\u202e``), so no terminal sequence runs and no line reads differently from
  what it holds;
* ``md_inline`` / ``md_cell`` — Markdown that renders as the literal text: no emphasis, code,
  links, images, HTML, autolinks, tables breaking or list items starting;
* ``html_text`` — HTML text content (``html.escape`` after ``visible``).
"""

from __future__ import annotations

import html
import re

from ircli.inert import visible

__all__ = ["html_text", "md_cell", "md_inline", "one_line", "visible"]

# Inline Markdown syntax (CommonMark + GFM tables, strikethrough; GitHub math).
_MD_INLINE = re.compile(r"([\\`*_{}\[\]()<>!|~&$])")
# What would start a block (heading, list, quote, setext underline, numbered list) at the start.
_MD_BLOCK_START = re.compile(r"^(?:([#>+=-])|(\d+)([.)]))")
# Bare URLs and e-mail addresses that GitHub-flavoured Markdown links on its own.
_AUTOLINK_SCHEME = re.compile(r"(?i)(?<=[a-z0-9])://")
_AUTOLINK_WWW = re.compile(r"(?i)\bwww\.")
_AUTOLINK_EMAIL = re.compile(r"(?<=[\w.+-])@(?=[\w-]+\.)")
_NEWLINES = re.compile(r"\r\n|\r|\n|\t")


def one_line(value: object) -> str:
    """``visible`` text on a single line (newlines and tabs become spaces)."""
    return _NEWLINES.sub(" ", visible(value))


def md_inline(value: object) -> str:
    """Markdown for ``value`` that renders as exactly that text, on one line.

    Bare URLs are defanged the way incident responders share indicators
    (``http[:]//evil``, ``www[.]evil``, ``name[@]host``), because GitHub-flavoured Markdown
    links them even without any syntax.
    """
    text = one_line(value).strip()
    text = _AUTOLINK_SCHEME.sub("[:]//", text)
    text = _AUTOLINK_WWW.sub(lambda m: m.group()[:-1] + "[.]", text)
    text = _AUTOLINK_EMAIL.sub("[@]", text)
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_BLOCK_START.sub(_escape_block_start, text, count=1)


def _escape_block_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"  # "1." → "1\." (a digit cannot be escaped)


def md_cell(value: object) -> str:
    """``md_inline`` for a table cell; an empty cell becomes ``-``."""
    text = md_inline(value)
    return text if text.strip() else "-"


def html_text(value: object) -> str:
    """HTML text content (safe in element bodies and quoted attribute values)."""
    return html.escape(visible(value), quote=True)
