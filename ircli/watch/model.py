"""Watch files, declared once: the YAML shape, the JSON Schema and the model ``ircli watch`` runs.

A watch file names signals read through a profile's listings, rules over those signals, and
what to do when a rule fires (docs/watch.md)::

    WatchFile
    ├── signals: {name: Signal}      a listing count with filters, polled every N seconds
    └── rules: {name: Rule}          conditions that must all hold for ``for`` seconds
        ├── when: (Condition, ...)   above / below / above_baseline / rate_above
        └── respond: Response        the linked playbook, approved by a person or pre-approved
            └── guardrails: Guardrails

Nothing here performs I/O; ``ircli.watch.loader`` reads files into it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ircli.incident.lifecycle import SEVERITIES
from ircli.platform.model import Profile
from ircli.shapes import (
    Document,
    Duration,
    Integer,
    Located,
    Number,
    PositiveDuration,
    Shape,
    Text,
    Word,
    choice,
    document,
    format_version,
    json_schema,
    named,
    names_from_keys,
    nested,
    query_text,
)
from ircli.wording import did_you_mean, not_among

__all__ = [
    "APPROVALS",
    "CONDITION_KINDS",
    "Ago",
    "Condition",
    "Guardrails",
    "Response",
    "Rule",
    "Signal",
    "WatchDocument",
    "WatchFile",
    "watch_schema",
]

SCHEMA_ID = "https://ircli.invalid/schemas/watch-1.json"
SECRET_HINT = "Secrets belong in the profile's secret source or the configuration."  # noqa: S105 - a hint, not a secret
CONDITION_KINDS = ("above", "below", "above_baseline", "rate_above")
APPROVALS = ("person", "pre-approved")
MIN_EVERY = 1.0
"""Signals are polled at most once a second each."""
MAX_SIGNALS = 32
MAX_RULES = 32
_NAME = r"[a-z][a-z0-9_-]*"


@dataclass
class WatchDocument(Document):
    """Validation state while one watch file is read: the profile, webhooks, signals."""

    profile: Profile | None = None
    webhooks: Collection[str] | None = None
    """Configured webhook names; ``None`` when unknown (not checked)."""
    signals: Collection[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls, loaded: Any, *, profile: Profile | None, webhooks: Collection[str] | None
    ) -> WatchDocument:
        """The document for a loaded watch file."""
        return cls(loaded, "watch file", SECRET_HINT, profile=profile, webhooks=webhooks)


def watch_document(info: ValidationInfo) -> WatchDocument:
    """The watch file being read (watch shapes are only read from files)."""
    doc = document(info, WatchDocument)
    if not isinstance(doc, WatchDocument):  # pragma: no cover - a shape built in code
        raise TypeError("watch shapes are read from a WatchDocument")
    return doc


class Ago(Shape):
    """A moment relative to each poll: ``{ago: 1m}`` is sent as the UTC time one minute
    before the poll (``created_after: {ago: 1m}``: created in the last minute)."""

    ago: PositiveDuration


FilterValue = str | Ago


class Signal(Located):
    """A number read through the profile: how many items of ``listing`` match ``filters``."""

    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    name: str = Field(exclude=True)
    description: Text = ""
    listing: Word
    filters: Mapping[str, FilterValue] = Field(default_factory=dict)
    """Passed to the listing; a value ``{ago: DURATION}`` is the time that long before the poll."""
    every: Annotated[Duration, Field(ge=MIN_EVERY)] = 5.0
    """How often it is read (at least 1 s)."""
    baseline: PositiveDuration = 900.0
    """The rolling window ``above_baseline`` compares with (its median); 15 minutes."""
    min_baseline_samples: Annotated[Integer, Field(ge=1, le=10_000)] = 5
    """``above_baseline`` holds only once the window has this many samples."""
    max_items: Annotated[Integer, Field(ge=1, le=1_000_000)] = 10_000
    """Stop counting here (the value reads ``max_items``, marked capped): bounds each poll."""

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any, info: ValidationInfo) -> Any:
        doc = watch_document(info)
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            text = query_text(item)
            if isinstance(item, dict):
                out[str(key)] = nested(Ago, item, info)
            elif text is not None:
                out[str(key)] = text
            else:
                raise doc.wrong_type(doc.here("filters", key), item, "a string or {ago: DURATION}")
        return out

    def cross_check(self, doc: Any) -> None:
        profile = doc.profile
        if profile is None:
            return
        if self.listing not in profile.listings:
            raise doc.fail(doc.here("listing"), profile.no_listing(self.listing))
        listing = profile.listings[self.listing]
        for name in self.filters:
            if name not in listing.filters:
                raise doc.fail(doc.here("filters", name), listing.no_filter(name), at_key=True)


class Condition(Located):
    """One test of a signal's latest value; exactly one of the four kinds is given."""

    nullable: ClassVar[frozenset[str]] = frozenset(CONDITION_KINDS)
    signal: Word
    above: Number | None = None
    """Holds when the value is greater than this."""
    below: Number | None = None
    """Holds when the value is less than this."""
    above_baseline: Annotated[Number, Field(gt=0)] | None = None
    """Holds when the value is greater than this many times the baseline's median."""
    rate_above: Number | None = None
    """Holds when the value grows faster than this per minute (from the previous sample)."""

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any, info: ValidationInfo) -> Any:
        doc = watch_document(info)
        if isinstance(data, dict):
            given = [key for key in CONDITION_KINDS if data.get(key) is not None]
            if len(given) != 1:
                raise doc.fail(
                    doc.here(),
                    f"a condition gives exactly one of {', '.join(CONDITION_KINDS)}"
                    + (f"; this one gives {' and '.join(given)}." if given else "."),
                )
        return data

    @field_validator("signal")
    @classmethod
    def _a_signal(cls, name: str, info: ValidationInfo) -> str:
        doc = watch_document(info)
        if name not in doc.signals:
            raise doc.fail(
                doc.here("signal"),
                not_among(f"no signal {name!r}", name, sorted(doc.signals), "the signals"),
            )
        return name

    @property
    def kind(self) -> str:
        """Which test it is: above, below, above_baseline or rate_above."""
        return next(key for key in CONDITION_KINDS if getattr(self, key) is not None)

    @property
    def threshold(self) -> float:
        """The number it compares with."""
        return float(getattr(self, self.kind))

    def describe(self) -> str:
        """``young_streams > 25``, ``young_streams > 10× baseline`` …"""
        words = {
            "above": f"> {self.threshold:g}",
            "below": f"< {self.threshold:g}",
            "above_baseline": f"> {self.threshold:g}× baseline",
            "rate_above": f"rising > {self.threshold:g}/min",
        }
        return f"{self.signal} {words[self.kind]}"


class Guardrails(Located):
    """Limits a pre-approved response runs under, on top of the playbook's own: the
    stricter of the two applies. Protected accounts always apply (docs/runs.md)."""

    nullable: ClassVar[frozenset[str]] = frozenset(
        {"max_targets_per_step", "max_failure_ratio", "canary_percent"}
    )
    max_targets_per_step: Annotated[Integer, Field(ge=1)] | None = None
    """An action step resolving more targets is refused (nothing sent)."""
    max_failure_ratio: Annotated[Number, Field(ge=0, le=1)] | None = None
    """An action step stops once more than this share of its targets failed."""
    canary_percent: Annotated[Number, Field(gt=0, le=100)] | None = None
    """Each action step without a canary of its own runs this share first and stops
    when more than ``max_failure_ratio`` (default 5 %) of it failed."""


class Response(Located):
    """What a firing rule does after opening the incident and notifying."""

    nullable: ClassVar[frozenset[str]] = frozenset({"guardrails", "profile"})
    playbook: Word
    """A playbook file (relative to the watch file) or a shipped playbook's name."""
    inputs: Mapping[str, str | int | float | bool] = Field(default_factory=dict)
    approval: Annotated[Literal["person", "pre-approved"], choice("approval", APPROVALS)] = "person"
    """``person`` (the default): plan the playbook and wait for ``ircli runs approve``;
    ``pre-approved``: run it at once, within ``guardrails``."""
    guardrails: Guardrails | None = None
    approval_timeout: PositiveDuration = 3600.0
    """How long a plan waits for its approval before the watch gives up on it."""
    max_drift: Annotated[Number, Field(ge=0, le=1)] = 0.5
    """When the approved plan is applied: the most its targets may have changed per step."""

    @model_validator(mode="after")
    def _guarded(self) -> Response:
        if self.approval == "pre-approved" and self.guardrails is None:
            raise ValueError(
                "a pre-approved response needs guardrails (max_targets_per_step, "
                "max_failure_ratio, canary_percent)."
            )
        return self


class Rule(Located):
    """Conditions over signals; when all hold for ``for``, the rule fires."""

    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    nullable: ClassVar[frozenset[str]] = frozenset({"respond"})
    name: str = Field(exclude=True)
    description: Text = ""
    title: Text = ""
    """The incident's title (default: the rule's description, else its name)."""
    severity: Annotated[str, choice("severity", SEVERITIES)] = "P1"
    when: Annotated[tuple[Condition, ...], Field(min_length=1, max_length=16)]
    hold: Annotated[Duration, Field(alias="for")] = 0.0
    """How long the conditions must hold before the rule fires (so it does not flap)."""
    cooldown: Duration = 1800.0
    """After firing, the rule fires again only once it has been clear this long."""
    notify: tuple[Word, ...] = ()
    """Webhook names (``webhooks:`` in ircli.yaml, or ``IRCLI_WEBHOOK_NAME``)."""
    respond: Response | None = None

    @field_validator("notify")
    @classmethod
    def _webhooks(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        doc = watch_document(info)
        if doc.webhooks is not None:
            for index, name in enumerate(names):
                if name not in doc.webhooks:
                    raise doc.fail(
                        doc.here("notify", index),
                        f"no webhook {name!r}{did_you_mean(name, doc.webhooks)}.",
                        hint="Name it under webhooks: in ircli.yaml (or set IRCLI_WEBHOOK_NAME).",
                    )
        return names

    @property
    def incident_title(self) -> str:
        """The title of the incidents it opens."""
        return self.title or self.description.strip().split("\n")[0] or f"Watch rule {self.name}"

    @property
    def signals(self) -> tuple[str, ...]:
        """The signals its conditions read, once each."""
        return tuple(dict.fromkeys(c.signal for c in self.when))


_signals_by_key = names_from_keys("signals")
_rules_by_key = names_from_keys("rules")


def _remember_signals(value: Any, info: ValidationInfo) -> Any:
    doc = watch_document(info)
    if isinstance(value, dict):
        if len(value) > MAX_SIGNALS:
            raise doc.fail(doc.here("signals"), f"a watch file has at most {MAX_SIGNALS} signals.")
        doc.signals = frozenset(str(k) for k in value)
    return _signals_by_key(value, info)


SignalName = Annotated[str, named(_NAME, "a signal name (lower-case letters, digits, '-', '_')")]
RuleName = Annotated[str, named(_NAME, "a rule name (lower-case letters, digits, '-', '_')")]


class WatchFile(Located):
    """A validated watch file."""

    derived: ClassVar[frozenset[str]] = frozenset({"source"})
    nullable: ClassVar[frozenset[str]] = frozenset({"profile"})
    watch: Annotated[Literal[1], format_version("watch file")] = Field(
        description="The watch file format version."
    )
    name: Annotated[
        Word, named(r"[a-z0-9][a-z0-9_-]*", "a watch name (lower-case letters, digits, '-', '_')")
    ]
    description: Text = ""
    profile: Word | None = None
    """The default profile (``--profile`` overrides it)."""
    signals: Annotated[
        Mapping[SignalName, Signal],
        BeforeValidator(_remember_signals, json_schema_input_type=dict[SignalName, Signal]),
        Field(min_length=1),
    ]
    rules: Annotated[
        Mapping[RuleName, Rule],
        BeforeValidator(_rules_by_key, json_schema_input_type=dict[RuleName, Rule]),
        Field(min_length=1, max_length=MAX_RULES),
    ]
    source: str = Field("", exclude=True)


def watch_schema() -> Any:
    """The JSON Schema (draft 2020-12) of the watch file format, generated from ``WatchFile``."""
    return json_schema(
        WatchFile,
        schema_id=SCHEMA_ID,
        title="ircli watch file",
        description="What ircli watch reads, and what it does when a rule fires (format 1); "
        "see docs/watch.md.",
    )


def conditions_of(rules: Mapping[str, Rule]) -> dict[str, list[Condition]]:
    """Every condition by the signal it reads."""
    found: dict[str, list[Condition]] = {}
    for rule in rules.values():
        for condition in rule.when:
            found.setdefault(condition.signal, []).append(condition)
    return found
