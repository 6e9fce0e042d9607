"""Property: a target id fills exactly one path segment, percent-encoded, and comes back whole."""

from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from ircli.platform.model import RequestTemplate
from ircli.platform.render import render

TEMPLATE = RequestTemplate.model_validate(
    {"method": "POST", "path": "/api/v1/accounts/{target}/freeze"}
)
# What RFC 3986 leaves unescaped in a segment when nothing is "safe": unreserved characters.
SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+")
ids = st.text(min_size=1, max_size=80).filter(lambda text: text not in (".", ".."))


@given(ids)
def test_a_target_fills_one_segment_and_round_trips(target: str) -> None:
    path = render(TEMPLATE, target=target).path
    prefix, suffix = "/api/v1/accounts/", "/freeze"
    assert path.startswith(prefix)
    assert path.endswith(suffix)
    segment = path[len(prefix) : -len(suffix)]
    assert SEGMENT.fullmatch(segment), segment
    assert segment not in (".", "..")
    assert unquote(segment, errors="strict") == target


def test_reserved_characters_stay_encoded() -> None:
    path = render(TEMPLATE, target="../a/b?c=d#e %").path
    assert path == "/api/v1/accounts/..%2Fa%2Fb%3Fc%3Dd%23e%20%25/freeze"
