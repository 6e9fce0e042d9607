"""Property: whatever is put anywhere in a profile, loading gives a Profile or one located
InvalidInput sentence — never another exception."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from ircli.platform.model import Profile
from tests.platform.helpers import PROFILES

BASE = yaml.safe_load((PROFILES / "sandbox.yaml").read_text())
LOCATED = re.compile(r"^p\.yaml:\d+:\d+: [^\n]+$")


def yaml_values(
    words: list[str], keys: list[str], *, largest: int = 10_000
) -> st.SearchStrategy[Any]:
    """Any YAML value: scalars (with ``words`` that mean something here) and small lists and
    mappings (with ``keys`` that mean something here)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, largest),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(words),
        st.text(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys), inner, max_size=3)
        ),
        max_leaves=6,
    )


values = yaml_values(
    [
        "",
        "NO",
        "{target}",
        "{targets}",
        "{param.x}",
        "{tragets}",
        "/x/{target}",
        "GET",
        "done",
        "10s",
        "cursor",
        "http://127.0.0.1",
        "token",
    ],
    ["path", "method", "type", "x", "json", "env"],
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, item in data.items():
            found += paths(item, (*prefix, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += paths(item, (*prefix, index))
    return found


ALL_PATHS = [p for p in paths(BASE) if p]


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = replaced(data[path[0]], path[1:], value)
    return copy


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), values)
def test_any_value_anywhere_is_a_profile_or_one_located_sentence(
    path: tuple[Any, ...], value: Any
) -> None:
    text = yaml.safe_dump(replaced(BASE, path, value), allow_unicode=True)
    message = None
    try:
        assert isinstance(load_profile_text(text, "p.yaml"), Profile)
    except InvalidInput as exc:
        message = exc.message
    assert message is None or LOCATED.match(message), message
