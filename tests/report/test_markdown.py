"""Markdown: a stable snapshot, and hostile text that stays text when rendered."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ircli.report import Report, render_markdown
from ircli.report.text import md_inline
from tests.report.snapshots import assert_snapshot

markdown_it = pytest.importorskip("markdown_it")  # installed with rich

ALLOWED_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_TAGS |= {"em", "code"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def rendered(markdown: str) -> Tags:
    parser = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tags = Tags()
    tags.feed(parser.render(markdown))
    return tags


def test_markdown_snapshot(report: Report) -> None:
    assert_snapshot("report.md", render_markdown(report))


def test_markdown_has_the_post_mortem_sections(report: Report) -> None:
    text = render_markdown(report)
    headings = re.findall(r"^##? (.+)$", text, flags=re.MULTILINE)
    assert headings[1:] == [
        "Summary",
        "Impact",
        "Detection",
        "Response",
        "Timeline",
        "What went well",
        "What went badly",
        "Action items",
        "Metrics",
        "Runs",
        "Approvals",
        "Audit anchor",
    ]
    # The judgement sections are marked placeholders; the facts are filled in.
    assert text.count("_[placeholder] ") == 3
    assert "| 1 |  |  |  |  |  |" in text  # action items are left for humans


def test_report_ends_with_the_audit_head_and_its_verification(report: Report) -> None:
    lines = render_markdown(report).rstrip("\n").splitlines()
    head = f"{report.audit.head_seq}:{report.audit.head_hash}"
    assert lines[-3] == f"- Audit head (seq:hash): {head}"
    assert lines[-2] == f"- Re-check later: `ircli audit verify --anchor {head}`"
    assert lines[-1] == f"- Verification: {report.audit.total}/{report.audit.total} records valid"


def test_hostile_text_renders_as_text_only(report: Report) -> None:
    markdown = render_markdown(report)
    tags = rendered(markdown)
    assert set(tags.tags) <= ALLOWED_TAGS, set(tags.tags) - ALLOWED_TAGS
    text = "".join(tags.text)
    # The literal text survives, shown rather than interpreted.
    assert "<script>document.title='PWNED'</script>" in text
    assert "[link](javascript:alert(1))" in text
    assert "\\x1b[31mred" in text
    assert "\\u202eexe.txt" in text
    # GitHub would link bare URLs, www. names and e-mail addresses: they are defanged.
    assert not re.search(r"https?://|www\.[a-z]|\w@\w", markdown)
    assert "http[:]//127.0.0.1:9/beacon" in text
    # No raw control or bidi character anywhere.
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", markdown)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_md_inline_never_produces_markup(text: str) -> None:
    tags = rendered(f"- {md_inline(text)}\n")
    assert set(tags.tags) <= {"ul", "li", "p"}, (text, md_inline(text))
    assert tags.tags.count("ul") == 1
    assert tags.tags.count("li") == 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1. first", "1. first"),
        ("# heading", "# heading"),
        ("> quote", "> quote"),
        ("*emphasis* and _this_", "*emphasis* and _this_"),
        ("a | b", "a | b"),
        ("`code`", "`code`"),
        ("&amp; &lt;", "&amp; &lt;"),
        ("$x$ ~~gone~~", "$x$ ~~gone~~"),
    ],
)
def test_md_inline_shows_markdown_syntax_literally(text: str, shown: str) -> None:
    tags = rendered(f"| a |\n|---|\n| {md_inline(text)} |\n")
    assert "".join(tags.text).strip().endswith(shown)
