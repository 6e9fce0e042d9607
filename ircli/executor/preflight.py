"""One read before a run writes anything: a wrong token or a platform that is down is said at
once, with the URL and the cause, instead of after thousands of doomed requests.

The read is the action's listing with a page of one (an authenticated read, so a token the
platform refuses shows up here), or the profile's ``health`` request when the action names no
listing. It is made once, without retries, within ``PREFLIGHT_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ircli.errors import OperationFailed
from ircli.platform.client import PlatformClient, TransportFailure
from ircli.platform.listing import listing_request
from ircli.platform.model import ActionSpec, Profile
from ircli.platform.render import PreparedRequest, render
from ircli.platform.secrets import secret_source

__all__ = ["PREFLIGHT_TIMEOUT", "preflight", "preflight_request"]

PREFLIGHT_TIMEOUT = 10.0
"""Seconds the preflight read may take, connection included."""
SKIP_HINT = "For a platform without a cheap read, --skip-preflight skips this check."


def preflight_request(profile: Profile, action: ActionSpec) -> PreparedRequest | None:
    """The read to make: the action's listing (a page of one), else ``health``, else none."""
    listing = profile.listings.get(action.target_kind)
    if listing is not None:
        read = listing_request(profile, listing)
        paging = listing.pagination
        if paging.kind != "none" and paging.limit_param:
            read = replace(read, query={**read.query, paging.limit_param: 1})
        return read
    if profile.health is not None:
        return render(profile.health, variables=profile.variables)
    return None


async def preflight(profile: Profile, action: ActionSpec, client: PlatformClient) -> None:
    """Make the read; ``OperationFailed`` (exit 1) when the platform cannot be reached or
    refuses the credentials. Any other answer lets the run go on (the executor handles
    a platform that is busy or failing)."""
    request = preflight_request(profile, action)
    if request is None:
        return
    url = profile.base_url + request.path
    try:
        reply = await asyncio.wait_for(client.send(request, kind="probe"), PREFLIGHT_TIMEOUT)
    except TimeoutError:
        raise OperationFailed(
            f"cannot reach {url}: no answer within {PREFLIGHT_TIMEOUT:g} s; nothing was sent.",
            hint=SKIP_HINT,
        ) from None
    except TransportFailure as failure:
        raise OperationFailed(
            f"cannot reach {url}: {failure.detail}; nothing was sent.",
            hint="Check the profile's base_url (and any proxy in HTTP(S)_PROXY). " + SKIP_HINT,
        ) from None
    if reply.status in (401, 403):
        auth = profile.auth
        source = secret_source(auth.secret) if auth.secret is not None else "no credentials"
        raise OperationFailed(
            f"{url} answered {reply.status}: the platform refused the credentials of profile "
            f"{profile.name!r} (the token from {source}); nothing was sent.",
            hint="Check that the token is current and allowed to act (an admin scope), "
            "then run again.",
        )
