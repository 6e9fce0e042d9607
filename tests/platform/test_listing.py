"""Pagination styles, filters, retries and refusals of ``iter_items``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ircli.errors import InvalidInput, OperationFailed
from ircli.platform.listing import iter_items, retry_after_seconds
from ircli.platform.loader import load_profile_text
from ircli.platform.model import Profile
from tests.platform.helpers import run

ITEMS = [{"id": f"o{i:03d}", "n": i} for i in range(23)]


def profile_with(listing: str, limits: str = "{retries: 3}") -> Profile:
    text = (
        "profile: 1\nname: p\nbase_url: https://api.test\n"
        f"limits: {limits}\nlistings:\n  things: {listing}\n"
    )
    return load_profile_text(text, "p.yaml")


def handler_for(kind: str, seen: list[httpx.Request]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        q = request.url.params
        if kind == "page":
            size, page = int(q.get("per_page", 10)), int(q["page"])
            return httpx.Response(200, json={"data": ITEMS[(page - 1) * size : page * size]})
        if kind == "offset":
            first, size = int(q["first"]), int(q["max"])
            return httpx.Response(200, json=ITEMS[first : first + size])
        if kind == "cursor":
            start = int(q.get("after", 0))
            size = int(q["limit"])
            nxt = start + size if start + size < len(ITEMS) else None
            return httpx.Response(
                200, json={"page": {"items": ITEMS[start : start + size], "next": nxt}}
            )
        return httpx.Response(200, json={"items": ITEMS})

    return handle


def collect(
    profile: Profile,
    handler: Any,
    filters: dict[str, str] | None = None,
    sleeps: list[float] | None = None,
) -> list[str]:
    async def sleep(seconds: float) -> None:
        (sleeps if sleeps is not None else []).append(seconds)

    async def go() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return [
                i["id"]
                async for i in iter_items(
                    client, profile, "things", filters or {}, headers={"X-T": "1"}, sleep=sleep
                )
            ]

    return run(go())


EVERY = [i["id"] for i in ITEMS]


def test_page_numbers() -> None:
    seen: list[httpx.Request] = []
    profile = profile_with(
        "{path: /things, items: data, pagination: {type: page, limit_param: per_page, "
        "page_size: 10}}"
    )
    assert collect(profile, handler_for("page", seen)) == EVERY
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"]
    assert all(r.headers["X-T"] == "1" for r in seen)


def test_page_numbers_without_a_limit_stop_on_an_empty_page() -> None:
    seen: list[httpx.Request] = []
    profile = profile_with(
        "{path: /things, items: data, pagination: {type: page, limit_param: null, first_page: 1}}"
    )
    assert collect(profile, handler_for("page", seen)) == EVERY
    assert len(seen) == 4


def test_offsets() -> None:
    seen: list[httpx.Request] = []
    profile = profile_with(
        "{path: /things, pagination: {type: offset, param: first, limit_param: max, page_size: 5}}"
    )
    assert collect(profile, handler_for("offset", seen)) == EVERY
    assert [r.url.params["first"] for r in seen] == ["0", "5", "10", "15", "20"]


def test_cursor_at_a_dotted_path() -> None:
    seen: list[httpx.Request] = []
    profile = profile_with(
        "{path: /things, items: page.items, pagination: {type: cursor, param: after, "
        "next: page.next, page_size: 7}}"
    )
    assert collect(profile, handler_for("cursor", seen)) == EVERY
    assert [r.url.params.get("after") for r in seen] == [None, "7", "14", "21"]


def test_cursor_that_repeats_is_refused() -> None:
    def same(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": ITEMS[:1], "next_cursor": "c1"})

    profile = profile_with("{path: /things, items: items, pagination: {type: cursor}}")
    with pytest.raises(OperationFailed, match="returned the cursor 'c1' twice"):
        collect(profile, same)


def test_no_pagination_and_static_query_plus_filters() -> None:
    seen: list[httpx.Request] = []
    profile = profile_with(
        "{path: /things, items: items, query: {kind: live, status: any}, filters: [status, owner]}"
    )
    assert collect(profile, handler_for("none", seen), {"status": "new"}) == EVERY
    assert dict(seen[0].url.params) == {"kind": "live", "status": "new"}
    assert str(seen[0].url).startswith("https://api.test/things?")


def test_unknown_filter_lists_the_allowed_ones() -> None:
    profile = profile_with("{path: /things, filters: [status, owner]}")
    with pytest.raises(InvalidInput) as caught:
        collect(profile, handler_for("none", []), {"stauts": "x"})
    assert caught.value.message == (
        "the listing 'things' has no filter 'stauts' (did you mean 'status'?); its filters: "
        "status, owner."
    )


def test_unknown_listing() -> None:
    with pytest.raises(InvalidInput, match="has no listing 'thing' \\(did you mean 'things'\\?\\)"):
        run(_first(profile_with("{path: /things}"), "thing"))


async def _first(profile: Profile, name: str) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler_for("none", []))) as c:
        async for _item in iter_items(c, profile, name, {}):
            break


def test_transient_refusals_are_retried_with_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503),
            httpx.Response(200, json={"items": ITEMS}),
        ]
    )
    sleeps: list[float] = []
    profile = profile_with("{path: /things, items: items}", "{retries: 3, backoff_base: 100ms}")
    assert collect(profile, lambda r: next(answers), sleeps=sleeps) == EVERY
    assert sleeps == [2.0, 0.2]


def test_too_long_retry_after_stops_instead_of_sleeping() -> None:
    profile = profile_with("{path: /things}", "{max_retry_after: 10s}")
    refuse = httpx.Response(429, headers={"Retry-After": "3600"})
    with pytest.raises(OperationFailed, match="asked to wait 3600s"):
        collect(profile, lambda r: refuse)


def test_persistent_failure_and_errors() -> None:
    profile = profile_with("{path: /things}", "{retries: 2}")
    with pytest.raises(OperationFailed, match="answered 503 Service Unavailable"):
        collect(profile, lambda r: httpx.Response(503))
    with pytest.raises(OperationFailed, match="answered 403 Forbidden"):
        collect(profile, lambda r: httpx.Response(403))
    with pytest.raises(OperationFailed, match="did not answer with JSON"):
        collect(profile, lambda r: httpx.Response(200, text="<html>"))
    with pytest.raises(OperationFailed, match="did not answer with a list of objects as the body"):
        collect(profile, lambda r: httpx.Response(200, json={"items": []}))

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(
        OperationFailed, match=r"at https://api\.test/things failed after 3 attempts: ConnectError"
    ):
        collect(profile, broken)


def test_retry_after_forms() -> None:
    dated = httpx.Response(429, headers={"Date": "Sat, 28 Nov 2026 22:00:00 GMT"})
    assert retry_after_seconds("Sat, 28 Nov 2026 22:00:02 GMT", dated) == 2.0
    assert retry_after_seconds("7", None) == 7.0
    assert retry_after_seconds("soon", None) is None
    assert retry_after_seconds(None, None) is None
