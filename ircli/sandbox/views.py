"""What the API shows: JSON shapes of objects, listing filters and cursor pagination.

Listings walk rows in index (creation) order; the cursor is the index to continue from, so a
listing sees every object that existed for its whole duration exactly once, however statuses
change and however many new streams appear meanwhile (they are appended at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ircli.sandbox.platform import (
    REASON_NAMES,
    STATUS_NAMES,
    Platform,
    account_index,
    stream_index,
)
from ircli.sandbox.world import REPORT_REASONS, World

__all__ = [
    "ACCOUNT_FILTERS",
    "REPORT_FILTERS",
    "STREAM_FILTERS",
    "BadRequest",
    "Page",
    "iso",
    "list_accounts",
    "list_reports",
    "list_streams",
    "render_account",
    "render_report",
    "render_stream",
    "world_summary",
]

Predicate = Callable[[int], bool]
Page = dict[str, Any]
DEFAULT_LIMIT = 100


class BadRequest(Exception):
    """A request the API answers with 422 and this one-sentence message."""

    def __init__(self, message: str, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def iso(moment: float) -> str:
    """Epoch seconds as ``2026-11-28T21:04:00.123Z``."""
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_iso(name: str, text: str) -> float:
    """An ISO-8601 query value as epoch seconds (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO-8601 time, got {text[:40]!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _int(name: str, text: str, low: int = 0, high: int = 2**31) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {text[:40]!r}.") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}.")
    return value


def _float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {text[:40]!r}.") from None
    if value != value:
        raise BadRequest(f"{name} must be a number, got {text[:40]!r}.")
    return value


def _bool(name: str, text: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise BadRequest(f"{name} must be true or false, got {text[:40]!r}.")


def _page_args(query: Mapping[str, str], max_page: int) -> tuple[int, int]:
    limit = _int("limit", query["limit"], 1, max_page) if "limit" in query else DEFAULT_LIMIT
    cursor = query.get("cursor")
    start = 0
    if cursor:
        if not cursor.startswith("c") or not cursor[1:].isdigit() or not cursor.isascii():
            raise BadRequest("cursor is not a cursor this API returned.", "invalid_cursor")
        start = int(cursor[1:])
    return limit, start


def _check_known(query: Mapping[str, str], known: frozenset[str]) -> None:
    for name in query:
        if name not in known:
            raise BadRequest(f"unknown query parameter {name[:40]!r}.")


def _scan(
    candidates: Iterable[int], end: int, preds: list[Predicate], limit: int
) -> tuple[list[int], str | None]:
    found: list[int] = []
    for index in candidates:
        for pred in preds:
            if not pred(index):
                break
        else:
            found.append(index)
            if len(found) >= limit:
                return found, (f"c{index + 1}" if index + 1 < end else None)
    return found, None


# -- streams -------------------------------------------------------------------------------

STREAM_FILTERS = (
    "status",
    "created_after",
    "created_before",
    "min_reports",
    "min_moderation_score",
    "max_moderation_score",
    "min_viewers",
    "account",
    "link_domain",
    "account_created_after",
)
"""The streams listing's filters, in the order the documentation gives them."""
_STREAM_QUERY = frozenset({"limit", "cursor", *STREAM_FILTERS})


def render_stream(platform: Platform, index: int) -> dict[str, Any]:
    """The public JSON shape of a stream."""
    world = platform.world
    account = world.s_account[index]
    domain = world.s_domain[index]
    return {
        "id": f"str_{index:07d}",
        "account_id": f"acc_{account:07d}",
        "title": world.stream_title(index),
        "status": STATUS_NAMES[world.s_status[index]],
        "status_reason": REASON_NAMES[platform.s_reason[index]],
        "created_at": iso(world.s_created[index]),
        "viewers": world.s_viewers[index],
        "moderation_score": world.s_score[index],
        "report_count": world.s_reports[index],
        "link_domains": [world.domains[domain]] if domain >= 0 else [],
        "account_created_at": iso(world.acc_created[account]),
    }


def list_streams(platform: Platform, query: Mapping[str, str]) -> Page:
    """One page of streams matching the query's filters."""
    _check_known(query, _STREAM_QUERY)
    world = platform.world
    limit, start = _page_args(query, platform.config.max_page)
    preds: list[Predicate] = []
    status_arr, created, reports, score = (
        world.s_status,
        world.s_created,
        world.s_reports,
        world.s_score,
    )
    if "status" in query:
        if query["status"] not in STATUS_NAMES:
            raise BadRequest("status must be one of live, suspended, ended.")
        code = STATUS_NAMES.index(query["status"])
        preds.append(lambda i: status_arr[i] == code)
    if "created_after" in query:
        after = parse_iso("created_after", query["created_after"])
        preds.append(lambda i: created[i] > after)
    if "created_before" in query:
        before = parse_iso("created_before", query["created_before"])
        preds.append(lambda i: created[i] < before)
    if "min_reports" in query:
        min_reports = _int("min_reports", query["min_reports"])
        preds.append(lambda i: reports[i] >= min_reports)
    if "min_moderation_score" in query:
        low = _float("min_moderation_score", query["min_moderation_score"])
        preds.append(lambda i: score[i] >= low)
    if "max_moderation_score" in query:
        high = _float("max_moderation_score", query["max_moderation_score"])
        preds.append(lambda i: score[i] <= high)
    if "min_viewers" in query:
        min_viewers = _int("min_viewers", query["min_viewers"])
        viewers = world.s_viewers
        preds.append(lambda i: viewers[i] >= min_viewers)
    if "link_domain" in query:
        name = query["link_domain"]
        wanted = world.domains.index(name) if name in world.domains else -2
        domains = world.s_domain
        preds.append(lambda i: domains[i] == wanted)
    if "account_created_after" in query:
        acc_after = parse_iso("account_created_after", query["account_created_after"])
        acc_created, owner = world.acc_created, world.s_account
        preds.append(lambda i: acc_created[owner[i]] > acc_after)
    end = world.stream_count
    candidates: Iterable[int] = range(start, end)
    if "account" in query:
        account = account_index(world, query["account"])
        candidates = [s for s in platform.acc_streams.get(account, ()) if s >= start]
    found, cursor = _scan(candidates, end, preds, limit)
    return {"items": [render_stream(platform, i) for i in found], "next_cursor": cursor}


# -- accounts ------------------------------------------------------------------------------

ACCOUNT_FILTERS = (
    "status",
    "created_after",
    "created_before",
    "min_reports",
    "device_cluster",
    "ip_cluster",
    "min_device_cluster_size",
    "min_ip_cluster_size",
    "has_live_stream",
    "verified",
)
"""The accounts listing's filters, in the order the documentation gives them."""
_ACCOUNT_QUERY = frozenset({"limit", "cursor", *ACCOUNT_FILTERS})


def render_account(platform: Platform, index: int) -> dict[str, Any]:
    """The public JSON shape of an account."""
    world = platform.world
    device, address = world.acc_device[index], world.acc_ip[index]
    status = world.s_status
    streams = platform.acc_streams.get(index, ())
    return {
        "id": f"acc_{index:07d}",
        "display_name": world.account_name(index),
        "status": "frozen" if world.acc_frozen[index] else "active",
        "created_at": iso(world.acc_created[index]),
        "report_count": world.acc_reports[index],
        "device_cluster": f"dev_{device:07d}",
        "device_cluster_size": world.device_sizes[device],
        "ip_cluster": f"ipc_{address:07d}",
        "ip_cluster_size": world.ip_sizes[address],
        "sessions_active": world.acc_sessions[index],
        "password_reset_required": index in platform.password_resets,
        "verified": bool(world.acc_verified[index]),
        "live_stream_ids": [f"str_{s:07d}" for s in streams if status[s] == 0],
    }


def _cluster(name: str, text: str, prefix: str) -> int:
    if not text.startswith(prefix) or not text[len(prefix) :].isdigit():
        raise BadRequest(f"{name} must look like {prefix}0000042.")
    return int(text[len(prefix) :])


def list_accounts(platform: Platform, query: Mapping[str, str]) -> Page:
    """One page of accounts matching the query's filters."""
    _check_known(query, _ACCOUNT_QUERY)
    world = platform.world
    limit, start = _page_args(query, platform.config.max_page)
    preds: list[Predicate] = []
    created, reports = world.acc_created, world.acc_reports
    device, address = world.acc_device, world.acc_ip
    if "status" in query:
        if query["status"] not in ("active", "frozen"):
            raise BadRequest("status must be active or frozen.")
        frozen_code = int(query["status"] == "frozen")
        frozen = world.acc_frozen
        preds.append(lambda i: frozen[i] == frozen_code)
    if "created_after" in query:
        after = parse_iso("created_after", query["created_after"])
        preds.append(lambda i: created[i] > after)
    if "created_before" in query:
        before = parse_iso("created_before", query["created_before"])
        preds.append(lambda i: created[i] < before)
    if "min_reports" in query:
        min_reports = _int("min_reports", query["min_reports"])
        preds.append(lambda i: reports[i] >= min_reports)
    if "device_cluster" in query:
        dev = _cluster("device_cluster", query["device_cluster"], "dev_")
        preds.append(lambda i: device[i] == dev)
    if "ip_cluster" in query:
        ipc = _cluster("ip_cluster", query["ip_cluster"], "ipc_")
        preds.append(lambda i: address[i] == ipc)
    if "min_device_cluster_size" in query:
        min_dev = _int("min_device_cluster_size", query["min_device_cluster_size"])
        dev_sizes = world.device_sizes
        preds.append(lambda i: dev_sizes[device[i]] >= min_dev)
    if "min_ip_cluster_size" in query:
        min_ip = _int("min_ip_cluster_size", query["min_ip_cluster_size"])
        ip_sizes = world.ip_sizes
        preds.append(lambda i: ip_sizes[address[i]] >= min_ip)
    if "has_live_stream" in query:
        wanted = _bool("has_live_stream", query["has_live_stream"])
        status, acc_streams = world.s_status, platform.acc_streams
        preds.append(lambda i: any(status[s] == 0 for s in acc_streams.get(i, ())) == wanted)
    if "verified" in query:
        verified_code = int(_bool("verified", query["verified"]))
        verified = world.acc_verified
        preds.append(lambda i: verified[i] == verified_code)
    end = world.account_count
    found, cursor = _scan(range(start, end), end, preds, limit)
    return {"items": [render_account(platform, i) for i in found], "next_cursor": cursor}


# -- reports -------------------------------------------------------------------------------

REPORT_FILTERS = ("stream", "account", "reason", "status", "created_after")
"""The reports listing's filters."""
_REPORT_QUERY = frozenset({"limit", "cursor", *REPORT_FILTERS})


def render_report(platform: Platform, index: int) -> dict[str, Any]:
    """The public JSON shape of a user report."""
    world = platform.world
    stream = world.r_stream[index]
    return {
        "id": f"rep_{index:07d}",
        "stream_id": f"str_{stream:07d}",
        "account_id": f"acc_{world.s_account[stream]:07d}",
        "reporter_id": f"acc_{world.r_reporter[index]:07d}",
        "reason": REPORT_REASONS[world.r_reason[index]],
        "text": world.report_text(index),
        "created_at": iso(world.r_created[index]),
        "status": "open" if world.s_status[stream] == 0 else "actioned",
    }


def list_reports(platform: Platform, query: Mapping[str, str]) -> Page:
    """One page of the user-report queue."""
    _check_known(query, _REPORT_QUERY)
    world = platform.world
    limit, start = _page_args(query, platform.config.max_page)
    preds: list[Predicate] = []
    r_stream, s_status = world.r_stream, world.s_status
    if "stream" in query:
        stream = stream_index(world, query["stream"])
        preds.append(lambda i: r_stream[i] == stream)
    if "account" in query:
        account = account_index(world, query["account"])
        owner = world.s_account
        preds.append(lambda i: owner[r_stream[i]] == account)
    if "reason" in query:
        if query["reason"] not in REPORT_REASONS:
            raise BadRequest(f"reason must be one of {', '.join(REPORT_REASONS)}.")
        reason = REPORT_REASONS.index(query["reason"])
        r_reason = world.r_reason
        preds.append(lambda i: r_reason[i] == reason)
    if "status" in query:
        if query["status"] not in ("open", "actioned"):
            raise BadRequest("status must be open or actioned.")
        want_open = query["status"] == "open"
        preds.append(lambda i: (s_status[r_stream[i]] == 0) == want_open)
    if "created_after" in query:
        after = parse_iso("created_after", query["created_after"])
        r_created = world.r_created
        preds.append(lambda i: r_created[i] > after)
    end = len(world.r_stream)
    found, cursor = _scan(range(start, end), end, preds, limit)
    return {"items": [render_report(platform, i) for i in found], "next_cursor": cursor}


def world_summary(world: World) -> dict[str, int]:
    """Sizes of the world, for the reset answer and the CLI's ready line."""
    return {
        "accounts": world.account_count,
        "streams": world.stream_count,
        "reports": len(world.r_stream),
    }
