"""The TLS context for a profile's platform: verification on by default, mutual TLS on request.

The context is built once per run from ``profile.tls`` (docs/profiles.md, "TLS"). Problems are
one sentence naming the profile's ``tls`` line and the file, never the key material: a wrong
password or a malformed PEM shows OpenSSL's reason, which does not quote the file.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path

from ircli.errors import InvalidInput
from ircli.platform.model import Profile
from ircli.platform.secrets import check_private, expand_path

__all__ = ["ssl_context"]


def ssl_context(profile: Profile, env: Mapping[str, str]) -> ssl.SSLContext | None:
    """The context for ``https://`` base URLs; ``None`` for plain HTTP (no TLS is spoken)."""
    if not profile.base_url.startswith("https:"):
        return None
    tls = profile.tls
    where = tls.location
    base_dir = Path(profile.source).parent if profile.source else None

    def path_of(name: str) -> Path:
        return expand_path(name, env, base_dir)

    if tls.verify and tls.ca_bundle is not None:
        bundle = path_of(tls.ca_bundle)
        try:
            context = ssl.create_default_context(cafile=str(bundle))
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(
                f"{where}: cannot use the ca_bundle {bundle} ({_reason(exc)})."
            ) from None
    else:
        context = ssl.create_default_context()
        if not tls.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    if tls.client_cert is not None:
        cert = path_of(tls.client_cert)
        key = path_of(tls.client_key) if tls.client_key is not None else None
        check_private(key or cert, "the client key file")
        try:
            context.load_cert_chain(str(cert), str(key) if key else None, password=_no_password)
        except _Encrypted:
            raise InvalidInput(
                f"{where}: the client key {key or cert} is encrypted; ircli cannot ask for its "
                "passphrase mid-run.",
                hint="Give it an unencrypted copy, readable only by you (chmod 600).",
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(
                f"{where}: cannot use the client certificate {cert}"
                f"{f' with the key {key}' if key else ''} ({_reason(exc)})."
            ) from None
    return context


class _Encrypted(Exception):
    """OpenSSL asked for the key's passphrase."""


def _no_password() -> str:
    # An encrypted key would otherwise make OpenSSL prompt on the terminal mid-run.
    raise _Encrypted


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or "not a valid PEM file"
    return exc.strerror or type(exc).__name__
