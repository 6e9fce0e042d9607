"""The redaction layer: secrets are removed before anything is stored, logged or shown.

Two complementary mechanisms:

* **known values** — secrets ircli itself handles (a profile's token, a database password)
  are registered with ``Redactor.add_secret`` and replaced wherever they appear;
* **shapes** — keys that name secrets (``password``, ``token``, ``authorization`` …) have their
  values replaced, and free text is scrubbed of ``key=value`` / ``key: value`` pairs with such
  keys, ``Bearer``/``Basic`` credentials, and the password part of URLs.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "Redactor", "is_secret_key", "mask_url_password", "url_password"]

REDACTED = "[REDACTED]"

_SECRET_WORDS = frozenset(
    {
        "pass", "password", "passwd", "passphrase", "secret", "token", "apikey", "auth",
        "authorization", "cookie", "credential", "credentials", "otp", "pin", "privatekey",
        "sessionid", "sessionkey", "signature",
    }
)  # fmt: skip
_NOT_SECRET_KEYS = frozenset({"reset_password", "password_reset", "token_scopes"})
# A key whose last word is one of these names a fact *about* a secret, not the secret:
# ``password_reset_at``, ``token_env``, ``secret_count``, ``auth_method``.
_ABOUT_WORDS = frozenset(
    {
        "at", "time", "date", "ts", "count", "total", "scope", "scopes", "type", "kind",
        "method", "name", "env", "file", "path", "source", "length", "expires", "expiry",
        "expired", "changed", "reset", "required", "status", "url", "endpoint", "hint",
    }
)  # fmt: skip
# A key that starts with one of these verbs names an action (``accounts.reset_password``,
# ``force_password_reset``) unless it ends in a noun that holds a credential (``reset_token``).
_ACTION_VERBS = frozenset({"reset", "force", "revoke", "rotate", "expire", "require", "invalidate"})
_CREDENTIAL_NOUNS = frozenset({"token", "key", "secret", "cookie", "otp", "pin", "signature"})
_KEY_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_KEY_VALUE = re.compile(
    # A key whose words (split on _ or -) include a secret word: "password", "client_secret",
    # "X-Auth-Token" — but not "passed" or "bypass".
    r"(?P<key>\b(?:[A-Za-z0-9]+[_.-])*(?:password|passwd|passphrase|pass|secret|token"
    r"|api[_-]?key|apikey|authorization|cookie|credentials?|private[_-]?key)"
    r"(?:[_.-][A-Za-z0-9]+)*\b)"
    r"(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"'&,;]+)",
    re.IGNORECASE,
)
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)\s+(?P<value>[A-Za-z0-9._~+/=-]{4,})")
_URL_PASSWORD = re.compile(r"(?P<prefix>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<value>[^@\s/]+)@")
_QUERY_PASSWORD = re.compile(r"(?P<prefix>[?&]password=)(?P<value>[^&#\s]+)", re.IGNORECASE)

_MIN_SECRET_LENGTH = 4

# "Authorization: Basic [REDACTED]" — the scheme word is not the secret.
_KEEP_VALUES = frozenset({REDACTED, "Bearer", "Basic", "Token", "bearer", "basic", "token"})


def _may_hold_secret(text: str) -> bool:
    """Whether ``text`` could match a shape above: every one needs a separator (``=`` or
    ``:``) or a case-sensitive scheme word. Most text (ids, titles) has none of them, and
    substring tests are far cheaper than a regular expression over long joined id lists."""
    return "=" in text or ":" in text or "Bearer" in text or "Basic" in text or "Token" in text


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a field named ``key`` holds a secret: a secret word names its value
    (``password``, ``client_secret``, ``X-Auth-Token``), not an action or a fact about one.

    A dotted key is judged by its last part (``accounts.reset_password`` is an action).
    """
    key = key.rsplit(".", 1)[-1]
    if key.lower() in _NOT_SECRET_KEYS:
        return False
    parts = [part.lower() for part in _KEY_PARTS.findall(key)]
    if not parts or parts[-1] in _ABOUT_WORDS:
        return False
    if parts[0] in _ACTION_VERBS and parts[-1] not in _CREDENTIAL_NOUNS:
        return False
    joined = {a + b for a, b in itertools.pairwise(parts)}
    return any(part in _SECRET_WORDS for part in parts) or bool(joined & _SECRET_WORDS)


def mask_url_password(url: str) -> str:
    """``postgresql://u:pw@h/db`` → ``postgresql://u:[REDACTED]@h/db``; a ``password=``
    query parameter is masked too."""
    url = _URL_PASSWORD.sub(lambda m: f"{m['prefix']}{REDACTED}@", url)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['prefix']}{REDACTED}", url)


def url_password(url: str) -> str | None:
    """The password of a URL's userinfo or ``password=`` query parameter, if any (to
    register it as a secret)."""
    match = _URL_PASSWORD.search(url) or _QUERY_PASSWORD.search(url)
    return match["value"] if match else None


class Redactor:
    """Scrubs secrets out of text and JSON-like values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        """Register a secret value to be replaced wherever it appears."""
        if len(secret) >= _MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def known(self, text: str) -> str:
        """``text`` with every registered secret replaced, also as JSON writes it (escaped,
        ASCII-only); nothing else is touched. For output whose fields name secrets' sources
        (``secret_source``), where redaction by key would hide facts."""
        for secret in self._secrets:
            for form in (secret, json.dumps(secret)[1:-1]):
                if form in text:
                    text = text.replace(form, REDACTED)
        return text

    def text(self, text: str) -> str:
        """``text`` with every known secret and secret-shaped fragment replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if not _may_hold_secret(text):
            return text
        text = _URL_PASSWORD.sub(lambda m: f"{m['prefix']}{REDACTED}@", text)
        text = _AUTH_SCHEME.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
        return _KEY_VALUE.sub(
            lambda m: (
                f"{m['key']}{m['sep']}{m['quote']}{REDACTED}"
                if m["value"] not in _KEEP_VALUES and is_secret_key(m["key"])
                else m.group()
            ),
            text,
        )

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with secrets removed (by key and by content)."""
        kind = type(value)
        # Exact type checks first: this runs over every field of every audit record, and
        # isinstance against the Mapping ABC costs more than the rest of the work.
        if kind is str:
            return self.text(value)
        if kind is int or kind is bool or value is None:
            return value
        if kind is dict or isinstance(value, Mapping):
            redacted: dict[Any, Any] = {}
            for key, item in value.items():
                if type(key) is str and item is not None and is_secret_key(key):
                    redacted[key] = REDACTED
                elif type(item) is str:
                    redacted[key] = self.text(item)
                elif item is None or type(item) is int:
                    redacted[key] = item
                else:
                    redacted[key] = self.value(item)
            return redacted
        if isinstance(value, list | tuple):
            # Long id lists (a run's targets) are checked in one pass when nothing can match.
            if value and all(type(item) is str for item in value):
                joined = "\n".join(value)
                if not _may_hold_secret(joined) and not any(s in joined for s in self._secrets):
                    return list(value)
            return [self.value(item) for item in value]
        if isinstance(value, str):  # a str subclass
            return self.text(value)
        return value
