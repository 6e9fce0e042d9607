"""Bearer tokens with scopes.

The sandbox has one configured token, which carries every scope. Narrower tokens are derived
from it by appending ``:`` and ``+``-separated scopes: with the token ``T``, ``T:read`` may only
read and ``T:read+streams`` may also suspend and resume streams. Anything else is unknown (401).
"""

from __future__ import annotations

__all__ = ["DEFAULT_TOKEN", "SCOPES", "TokenRegistry"]

DEFAULT_TOKEN = "sandbox-dev-token"  # noqa: S105 - documented, for local drills only
"""The development token used when neither ``--token`` nor ``IRCLI_SANDBOX_TOKEN`` is set."""

SCOPES = frozenset({"read", "streams", "accounts", "flags", "domains", "admin"})
_CACHE_LIMIT = 256


class TokenRegistry:
    """Maps a presented token to its scopes (or ``None`` when it is not a token of ours)."""

    def __init__(self, token: str) -> None:
        if not token or any(c in token for c in " \t\r\n:+"):
            raise ValueError("a sandbox token must be non-empty without spaces, ':' or '+'.")
        self._token = token
        self._known: dict[str, frozenset[str]] = {token: SCOPES}

    def scopes(self, presented: str) -> frozenset[str] | None:
        """The scopes of ``presented``, or ``None`` if the token is unknown."""
        found = self._known.get(presented)
        if found is not None:
            return found
        base, sep, wanted = presented.partition(":")
        if not sep or base != self._token:
            return None
        scopes = frozenset(wanted.split("+"))
        if not scopes <= SCOPES:
            return None
        if len(self._known) < _CACHE_LIMIT:
            self._known[presented] = scopes
        return scopes
