"""What a platform answers is bounded: depth and size, with a clean error past them."""

from __future__ import annotations

import httpx
import pytest

from ircli.errors import OperationFailed
from ircli.platform import bodies
from ircli.platform.bodies import MAX_DEPTH, BodyTooLarge, parse_json
from tests.platform.test_listing import collect, profile_with


def nested(levels: int) -> bytes:
    return b'{"a":' * (levels - 1) + b"[1]" + b"}" * (levels - 1)


def test_json_up_to_the_depth_limit_is_read() -> None:
    value = parse_json(nested(MAX_DEPTH))
    for _ in range(MAX_DEPTH - 1):
        value = value["a"]
    assert value == [1]


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 200_000])
def test_json_past_the_depth_limit_is_refused(levels: int) -> None:
    with pytest.raises(BodyTooLarge, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse_json(b"[" * levels + b"]" * levels)


def test_json_past_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "MAX_BYTES", 10)
    assert parse_json(b'{"a": 1}') == {"a": 1}
    with pytest.raises(BodyTooLarge, match="larger than 10 bytes"):
        parse_json(b'{"a": 12345}')


def test_a_listing_that_nests_200000_deep_is_a_clean_error() -> None:
    def hostile(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" * 200_000 + b"]" * 200_000)

    with pytest.raises(OperationFailed) as caught:
        collect(profile_with("{path: /things}"), hostile)
    assert str(caught.value) == (
        "reading the listing 'things' at https://api.test/things failed: the answer nests "
        f"deeper than {MAX_DEPTH} levels."
    )
