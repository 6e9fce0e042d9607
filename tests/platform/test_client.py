"""The client's own request serialisation sends what httpx would."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from hypothesis import given
from hypothesis import strategies as st

from ircli.platform.client import _query_values

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
queries = st.dictionaries(
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=6),
    scalars | st.lists(st.booleans() | st.integers() | st.text(max_size=5), max_size=3),
    max_size=4,
)


@given(queries)
def test_query_strings_match_httpx(query: dict[str, object]) -> None:
    ours = urlencode(_query_values(query), doseq=True)
    theirs = httpx.Request("GET", "http://h/p", params=query).url.query.decode()
    assert httpx.QueryParams(ours) == httpx.QueryParams(theirs)
