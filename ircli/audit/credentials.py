"""Where a server store's password comes from: never its URL.

A URL is shown, logged, kept in shell history and in ``ircli.yaml``; so a store URL holding a
password (``postgresql://ops:pw@…`` or ``?password=…``) is refused, and the password comes
from the first of these that has one:

1. ``IRCLI_DB_PASSWORD``, passed to the driver as a connect argument;
2. ``PGPASSWORD``, which libpq reads itself;
3. the OS keyring entry of service ``ircli`` and user ``USER@HOST:PORT/DATABASE`` (the URL's
   user, host, port — 5432 unless it names one — and database), passed as 1 is;
4. ``~/.pgpass`` (or the file ``PGPASSFILE`` names), which libpq reads itself.

The keyring is asked only when neither variable is set and the URL names a user. Every
password ircli sees is registered with the redactor, so no output or record can hold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import URL

from ircli.errors import InvalidInput

__all__ = [
    "KEYRING_SERVICE",
    "PASSWORD_ENV",
    "PASSWORD_HINT",
    "StorePassword",
    "check_no_password",
    "keyring_user",
    "store_password",
]

PASSWORD_ENV = "IRCLI_DB_PASSWORD"  # noqa: S105 - a variable's name, not a password
KEYRING_SERVICE = "ircli"
PASSWORD_HINT = (
    f"Give the password in {PASSWORD_ENV} or PGPASSWORD, a keyring entry (keyring set "
    f"{KEYRING_SERVICE} USER@HOST:PORT/DATABASE) or ~/.pgpass; 'ircli store info' says which "
    "one applies (docs/team.md)."
)


@dataclass(frozen=True)
class StorePassword:
    """Where a store's password comes from, and the value when ircli passes it itself."""

    source: str
    """For people: ``env IRCLI_DB_PASSWORD``, ``keyring ircli ops@db:5432/ircli``, …"""
    value: str | None = None
    """The password ircli passes to the driver; None when libpq finds it (``PGPASSWORD``,
    ``~/.pgpass``) or nothing does."""


def check_no_password(url: URL, shown: str) -> None:
    """Refuse a URL that holds a password (``shown`` is the URL with it masked)."""
    if url.password is not None or "password" in url.query:
        raise InvalidInput(
            f"the audit store URL {shown} holds a password, which ircli never takes in a URL.",
            hint=f"Remove it from the URL. {PASSWORD_HINT}",
        )


def keyring_user(url: URL) -> str | None:
    """The keyring user name of a store: ``USER@HOST:PORT/DATABASE`` (None without a user)."""
    if not url.username:
        return None
    host = url.host or str(url.query.get("host") or "localhost")
    port = url.port or (5432 if url.get_backend_name() == "postgresql" else None)
    where = host if port is None else f"{host}:{port}"
    return f"{url.username}@{where}/{url.database or ''}"


def store_password(url: URL, env: Mapping[str, str]) -> StorePassword:
    """Where the password of the server store at ``url`` comes from (see the module)."""
    if env.get(PASSWORD_ENV):
        return StorePassword(f"env {PASSWORD_ENV}", env[PASSWORD_ENV])
    if env.get("PGPASSWORD"):
        return StorePassword("env PGPASSWORD (read by libpq)")
    user = keyring_user(url)
    if user is not None:
        found = _from_keyring(user)
        if found is not None:
            return StorePassword(f"keyring {KEYRING_SERVICE} {user}", found)
    where = env.get("PGPASSFILE") or "~/.pgpass"
    return StorePassword(f"{where} if it has a line for this store (read by libpq)")


def _from_keyring(user: str) -> str | None:
    import keyring
    import keyring.errors

    try:
        value = keyring.get_password(KEYRING_SERVICE, user)
    except keyring.errors.NoKeyringError:
        return None  # no keyring on this machine (a server): not a place to look
    except keyring.errors.KeyringError as error:
        raise InvalidInput(
            f"the OS keyring could not be read for the audit store's password "
            f"({type(error).__name__}).",
            hint=f"Set {PASSWORD_ENV} or PGPASSWORD, which come before the keyring.",
        ) from None
    return str(value) if value else None
