"""Walk a profile's listing page by page: cursor, page number, offset, Link header, or none.

``iter_items`` reads with the ``httpx.AsyncClient`` it is given (the caller owns it and its
auth headers, or passes ``headers``), retries transient refusals (429, 5xx, transport errors)
within the profile's limits, honouring ``Retry-After``, and yields the items as dicts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

import httpx

from ircli.errors import InvalidInput, OperationFailed
from ircli.platform.bodies import MAX_BYTES, BodyTooLarge, parse_json, platform_says
from ircli.platform.classify import dig, found
from ircli.platform.ids import usable_id
from ircli.platform.model import ListingSpec, Profile, RequestTemplate
from ircli.platform.render import PreparedRequest, render

__all__ = ["Skipped", "check_filters", "iter_items", "listing_of", "listing_request"]

Sleep = Callable[[float], Awaitable[None]]
_TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class Skipped:
    """Listing items left out because their id is missing or could not name a target
    (empty, ``.``, ``..``, too long, control characters): one hostile object must not stop
    containment. ``sample`` holds a few of the ids, shortened, for the report."""

    count: int = 0
    sample: list[str] = field(default_factory=list)

    def add(self, value: Any) -> None:
        self.count += 1
        if len(self.sample) < 5:
            self.sample.append("(no id)" if value is None else repr(value)[:40])

    def as_params(self) -> dict[str, Any]:
        """For audit records: how many, and a few of them."""
        return {"skipped": self.count, "skipped_sample": list(self.sample)}


def listing_of(profile: Profile, name: str) -> ListingSpec:
    """The named listing, or ``InvalidInput`` naming the ones the profile has."""
    listing = profile.listings.get(name)
    if listing is None:
        raise InvalidInput(profile.no_listing(name))
    return listing


def check_filters(listing: ListingSpec, filters: Mapping[str, str]) -> None:
    """Refuse filter names the listing does not pass through (a typo must not widen a run)."""
    for name in filters:
        if name not in listing.filters:
            raise InvalidInput(listing.no_filter(name))


async def iter_items(
    client: httpx.AsyncClient,
    profile: Profile,
    listing_name: str,
    filters: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    sleep: Sleep = asyncio.sleep,
    skipped: Skipped | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of ``listing_name`` matching ``filters``, across all pages, in order.

    Items whose id is missing or unusable (``usable_id``) are left out and counted in
    ``skipped``."""
    listing = listing_of(profile, listing_name)
    check_filters(listing, filters)
    if profile.base_url.startswith("${"):
        raise InvalidInput(f"the base URL of profile {profile.name!r} is not resolved.")
    base = listing_request(profile, listing)
    url = profile.base_url + base.path
    query: dict[str, Any] = {**base.query, **filters}
    paging = listing.pagination
    if paging.kind != "none" and paging.limit_param:
        query[paging.limit_param] = paging.page_size
    reader = _Reader(client, profile, listing, dict(headers or {}), sleep)
    position: Any = {"page": paging.first_page, "offset": 0}.get(paging.kind)
    if position is not None:
        query[paging.param] = position
    seen_cursors: set[str] = set()
    while True:
        response, body = await reader.get(url, query)
        items = _items(listing, body)
        for item in items:
            value = item.get(listing.id)
            if isinstance(value, bool) or not isinstance(value, str | int):
                value = None
            if value is None or not usable_id(str(value)):
                if skipped is not None:
                    skipped.add(item.get(listing.id))
                continue
            yield item
        if paging.kind == "none" or not items:
            return
        if paging.kind == "cursor":
            cursor = dig(body, paging.next)
            if not found(cursor) or cursor in (None, ""):
                return
            if str(cursor) in seen_cursors:
                raise OperationFailed(
                    f"the listing {listing.name!r} returned the cursor {cursor!r} twice; "
                    "stopping instead of looping."
                )
            seen_cursors.add(str(cursor))
            query[paging.param] = cursor
        elif paging.kind == "link":
            link = _next_link(profile, listing, response)
            if not link:
                return
            url, query = link, {}
        else:
            if paging.limit_param and len(items) < paging.page_size:
                return
            position += 1 if paging.kind == "page" else len(items)
            query[paging.param] = position


def listing_request(profile: Profile, listing: ListingSpec) -> PreparedRequest:
    """The listing's read, rendered: ``GET`` its path with its fixed query (no filters, no
    paging yet)."""
    template = RequestTemplate.model_validate(
        {"method": "GET", "path": listing.path, "query": listing.query}
    )
    return render(template, variables=profile.variables)


def _items(listing: ListingSpec, body: Any) -> list[dict[str, Any]]:
    items = dig(body, listing.items) if listing.items else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        where = f"at {listing.items!r}" if listing.items else "as the body"
        raise OperationFailed(
            f"the listing {listing.name!r} did not answer with a list of objects {where}."
        )
    return items


def _next_link(profile: Profile, listing: ListingSpec, response: httpx.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    target = urljoin(str(response.url), link)
    wanted, got = urlsplit(profile.base_url), urlsplit(target)
    if (wanted.scheme, wanted.netloc) != (got.scheme, got.netloc):
        raise OperationFailed(
            f"the next page of {listing.name!r} is on {got.scheme}://{got.netloc}, not on the "
            "profile's base URL; not following it with the profile's credentials.",
            hint="Set base_url to the platform's canonical address.",
        )
    return target


class _Reader:
    """GET with bounded retries on transient refusals."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        profile: Profile,
        listing: ListingSpec,
        headers: dict[str, str],
        sleep: Sleep,
    ) -> None:
        self.client = client
        self.limits = profile.limits
        self.listing = listing
        self.headers = headers
        self.sleep = sleep

    async def get(self, url: str, query: Mapping[str, Any]) -> tuple[httpx.Response, Any]:
        limits = self.limits
        for attempt in range(limits.retries + 1):
            last = attempt == limits.retries
            try:
                response, content = await self._fetch(url, query)
            except httpx.TransportError as exc:
                if last:
                    tries = f"{attempt + 1} attempts" if attempt else "1 attempt"
                    raise OperationFailed(
                        f"reading the listing {self.listing.name!r} at {url} failed after "
                        f"{tries}: {_cause(exc)}."
                    ) from None
                await self.sleep(self._backoff(attempt))
                continue
            if response.status_code in _TRANSIENT and not last:
                await self.sleep(self._delay(response, attempt))
                continue
            if content is None:
                raise OperationFailed(
                    f"reading the listing {self.listing.name!r} at {url} failed: the answer is "
                    f"larger than {MAX_BYTES:,} bytes."
                )
            if not response.is_success:
                self._refused(url, response, content)
            try:
                return response, parse_json(content)
            except BodyTooLarge as exc:
                raise OperationFailed(
                    f"reading the listing {self.listing.name!r} at {url} failed: {exc}."
                ) from None
            except ValueError:
                raise OperationFailed(
                    f"the listing {self.listing.name!r} at {url} did not answer with JSON."
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch(
        self, url: str, query: Mapping[str, Any]
    ) -> tuple[httpx.Response, bytes | None]:
        """The response and its body, or ``None`` for a body past ``MAX_BYTES`` (counted as
        it arrives: the rest is never read)."""
        async with self.client.stream(
            "GET",
            url,
            params=dict(query) or None,
            headers=self.headers,
            timeout=self.limits.timeout,
        ) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    return response, None
                chunks.append(chunk)
            return response, b"".join(chunks)

    def _refused(self, url: str, response: httpx.Response, content: bytes) -> NoReturn:
        """The platform refused the read: its own words quoted; a 400 or 422 (a filter the
        platform does not take, a value it rejects) is bad input, exit 2."""
        try:
            body = parse_json(content) if content else None
        except ValueError:
            body = None
        said = platform_says(body, None if body is not None else content)
        message = (
            f"reading the listing {self.listing.name!r} at {url} failed: the platform answered "
            f"{response.status_code} {response.reason_phrase}" + (f': "{said}".' if said else ".")
        )
        if response.status_code in (400, 422):
            raise InvalidInput(message, hint="Check the --where filters and their values.")
        raise OperationFailed(message)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.limits.backoff_max, self.limits.backoff_base * 2**attempt))

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        wait = retry_after_seconds(response.headers.get("Retry-After"), response)
        if wait is None:
            return self._backoff(attempt)
        if wait > self.limits.max_retry_after:
            raise OperationFailed(
                f"the platform asked to wait {wait:.0f}s before reading {self.listing.name!r} "
                f"again, more than the profile's max_retry_after "
                f"({self.limits.max_retry_after:g}s)."
            )
        return wait


def _cause(exc: httpx.TransportError) -> str:
    detail = " ".join(str(exc).split())[:300]  # one line, bounded: it may quote the answer
    name = type(exc).__name__
    return f"{name}: {detail}" if detail else name


def retry_after_seconds(value: str | None, response: httpx.Response | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date (vs ``Date``)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    reference = response.headers.get("Date") if response is not None else None
    try:
        now = parsedate_to_datetime(reference) if reference else None
    except (TypeError, ValueError):
        now = None
    if now is None:
        return None
    return max(0.0, (when - now).total_seconds())
