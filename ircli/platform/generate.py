"""Values generated per target (a new password a platform takes in the reset request).

Each value is derived from a random per-run key and the target: HMAC-SHA256 in counter mode,
mapped onto the alphabet without bias (bytes past the last whole multiple of its size are
skipped). The same key and target always give the same value, so a retried or resumed request
is identical; different targets, or another run, get unrelated values. The key never leaves
this machine (``ircli.executor.delivery`` keeps it in a private file for ``runs resume``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
from collections.abc import Mapping
from urllib.parse import quote, quote_plus

from ircli.platform.actions import GenerateSpec

__all__ = ["ALPHABETS", "GENERATED", "KEY_BYTES", "Generator", "shown"]

GENERATED = "[GENERATED]"
"""What a generated value looks like everywhere but the request and the delivery."""
KEY_BYTES = 32
ALPHABETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "printable": string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_{|}~",
}


def shown(specs: Mapping[str, GenerateSpec]) -> dict[str, str]:
    """Stand-ins for previews: every value as ``[GENERATED]``."""
    return dict.fromkeys(specs, GENERATED)


def masked(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each of ``values`` replaced by ``[GENERATED]``, in every form a platform
    could echo it: as sent, JSON-escaped, percent-encoded (``+`` for spaces too)."""
    for value in values.values():
        forms = {value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, GENERATED)
    return text


class Generator:
    """The generated values of one run."""

    def __init__(self, specs: Mapping[str, GenerateSpec], key: bytes | None = None) -> None:
        self.specs = dict(specs)
        self.key = key if key is not None else secrets.token_bytes(KEY_BYTES)
        if len(self.key) != KEY_BYTES:
            raise ValueError("a generation key has 32 bytes")

    def values(self, target: str) -> dict[str, str]:
        """The values for ``target``: the same on every call, for every attempt."""
        return {name: self._value(name, spec, target) for name, spec in self.specs.items()}

    def _value(self, name: str, spec: GenerateSpec, target: str) -> str:
        alphabet = ALPHABETS[spec.alphabet]
        usable = 256 - 256 % len(alphabet)
        chars: list[str] = []
        counter = 0
        while len(chars) < spec.length:
            message = f"{name}\0{target}\0{counter}".encode()
            block = hmac.new(self.key, message, hashlib.sha256).digest()
            chars += [alphabet[b % len(alphabet)] for b in block if b < usable]
            counter += 1
        return "".join(chars[: spec.length])
