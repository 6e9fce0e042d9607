"""Fault injection: latency, 5xx, 429 with Retry-After, a global rate limit, timeouts, drops.

A spec is comma-separated ``key=value`` pairs (``5xx=0.05,429=0.02,latency=5ms,rate=5000``)
or the same keys in a JSON object. Fractions are of API requests; durations take ``us``, ``ms``
or ``s`` (a bare number is seconds). Draws come from a generator seeded with the world's seed,
so the same requests in the same order meet the same faults.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.utils import formatdate
from typing import Any

from ircli.errors import InvalidInput

__all__ = ["FaultConfig", "FaultDecision", "FaultInjector", "faults_from_mapping", "parse_faults"]

_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(us|ms|s)?$")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, None: 1.0}
RETRY_AFTER_FORMS = ("alternate", "seconds", "date")

# spec key -> (field name, kind)
_KEYS: dict[str, tuple[str, str]] = {
    "5xx": ("error_5xx", "fraction"),
    "429": ("error_429", "fraction"),
    "latency": ("latency", "duration"),
    "jitter": ("jitter", "duration"),
    "timeout": ("timeout", "fraction"),
    "timeout_delay": ("timeout_delay", "duration"),
    "drop": ("drop", "fraction"),
    "rate": ("rate", "number"),
    "burst": ("burst", "number"),
    "retry_after": ("retry_after", "number"),
    "retry_after_form": ("retry_after_form", "form"),
}


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject; the default injects none."""

    error_5xx: float = 0.0
    error_429: float = 0.0
    latency: float = 0.0
    jitter: float = 0.0
    timeout: float = 0.0
    timeout_delay: float = 3.0
    drop: float = 0.0
    rate: float = 0.0
    """Requests per second the global token bucket admits; 0 means unlimited."""
    burst: float = 0.0
    """Bucket capacity; 0 means a tenth of a second's worth (at least 1)."""
    retry_after: float = 1.0
    retry_after_form: str = "alternate"

    @property
    def active(self) -> bool:
        """Whether any fault can happen at all (the fast path skips everything otherwise)."""
        return bool(
            self.error_5xx
            or self.error_429
            or self.latency
            or self.jitter
            or self.timeout
            or self.drop
            or self.rate
        )

    def to_spec(self) -> dict[str, Any]:
        """The non-default settings under their spec keys (what ``GET /_sandbox/faults`` shows)."""
        values = asdict(self)
        default = FaultConfig()
        return {
            key: values[name]
            for key, (name, _kind) in _KEYS.items()
            if values[name] != getattr(default, name)
        }


def _convert(key: str, kind: str, value: object) -> object:
    text = str(value).strip() if not isinstance(value, bool) else ""
    if kind == "form":
        if text not in RETRY_AFTER_FORMS:
            raise InvalidInput(
                f"fault {key} must be one of {', '.join(RETRY_AFTER_FORMS)}, got {text[:40]!r}."
            )
        return text
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif kind == "duration" and (match := _DURATION.match(text)):
        number = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        try:
            number = float(text)
        except ValueError:
            what = "a duration such as 5ms" if kind == "duration" else "a number"
            raise InvalidInput(f"fault {key} must be {what}, got {text[:40]!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(f"fault {key} must be a finite, non-negative value, got {text[:40]!r}.")
    if kind == "fraction" and number > 1:
        raise InvalidInput(f"fault {key} must be a fraction between 0 and 1, got {text[:40]!r}.")
    if kind == "duration" and number > 600:
        raise InvalidInput(f"fault {key} must be at most 600 seconds, got {text[:40]!r}.")
    return number


def faults_from_mapping(values: Mapping[str, object]) -> FaultConfig:
    """A ``FaultConfig`` from spec keys (``{}`` means no faults); ``InvalidInput`` if invalid."""
    settings: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _KEYS:
            raise InvalidInput(
                f"unknown fault {str(key)[:40]!r}; known faults: {', '.join(_KEYS)}."
            )
        name, kind = _KEYS[key]
        settings[name] = _convert(key, kind, value)
    config = FaultConfig(**settings)
    if config.error_5xx + config.error_429 + config.timeout + config.drop > 1:
        raise InvalidInput("the fault fractions 5xx, 429, timeout and drop add up to more than 1.")
    return config


def parse_faults(spec: str) -> FaultConfig:
    """Parse ``5xx=0.05,429=0.02,latency=5ms,...``; an empty spec means no faults."""
    values: dict[str, str] = {}
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(
                f"invalid fault {item[:40]!r}: expected key=value pairs such as "
                "5xx=0.05,latency=5ms,rate=5000."
            )
        values[key.strip()] = value.strip()
    return faults_from_mapping(values)


# What to do with one request.
PASS, RATE_LIMITED, TOO_MANY, UNAVAILABLE = 0, 1, 2, 3
NO_DROP, DROP_BEFORE, DROP_AFTER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """The faults one request meets."""

    outcome: int = PASS
    delay: float = 0.0
    timeout: bool = False
    drop: int = NO_DROP
    retry_after: float = 0.0


NO_FAULT = FaultDecision()


class FaultInjector:
    """Draws the faults for each API request from a seeded generator and a token bucket."""

    def __init__(self, config: FaultConfig, *, seed: int, now: float) -> None:
        self.seed = seed
        self.configure(config, now=now)

    def configure(self, config: FaultConfig, *, now: float) -> None:
        """Replace the fault settings (and restart the generator and the bucket)."""
        self.config = config
        self.rng = random.Random(self.seed * 31 + 17)
        self.capacity = config.burst or max(1.0, config.rate / 10)
        self.tokens = self.capacity
        self.refilled_at = now
        self.answers_429 = 0

    def decide(self, now: float) -> FaultDecision:
        """The faults for the next request arriving at ``now``."""
        config = self.config
        if not config.active:
            return NO_FAULT
        if config.rate:
            self.tokens = min(self.capacity, self.tokens + (now - self.refilled_at) * config.rate)
            self.refilled_at = now
            if self.tokens < 1:
                wait = (1 - self.tokens) / config.rate
                return FaultDecision(RATE_LIMITED, retry_after=max(1.0, math.ceil(wait)))
            self.tokens -= 1
        draw = self.rng.random()
        delay = config.latency
        if config.jitter:
            delay = max(0.0, delay + self.rng.uniform(-config.jitter, config.jitter))
        if draw < config.error_429:
            return FaultDecision(TOO_MANY, delay, retry_after=config.retry_after)
        draw -= config.error_429
        if draw < config.error_5xx:
            return FaultDecision(UNAVAILABLE, delay)
        draw -= config.error_5xx
        if draw < config.timeout:
            return FaultDecision(PASS, delay, timeout=True)
        draw -= config.timeout
        if draw < config.drop:
            where = DROP_BEFORE if self.rng.random() < 0.5 else DROP_AFTER
            return FaultDecision(PASS, delay, drop=where)
        return FaultDecision(PASS, delay) if delay else NO_FAULT

    def retry_after_header(self, seconds: float, now: float) -> str:
        """``Retry-After`` in seconds or as an HTTP-date (alternating unless configured)."""
        form = self.config.retry_after_form
        if form == "alternate":
            self.answers_429 += 1
            form = "date" if self.answers_429 % 2 == 0 else "seconds"
        whole = max(1, math.ceil(seconds))
        if form == "date":
            return formatdate(math.ceil(now) + whole, usegmt=True)
        return str(whole)
