"""What a drill is asked to do (``DrillConfig``) and what it found (``DrillResult``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ircli.drill.criteria import Criterion, CriterionResult

if TYPE_CHECKING:
    from ircli.audit.chain import VerifyResult
    from ircli.audit.records import Anchor

__all__ = ["DEFAULT_WATCH_ATTACK_START", "DETECT_WITHIN", "DrillConfig", "DrillResult", "WorldSize"]

DEFAULT_WATCH_ATTACK_START = 30.0
"""A watch drill's quiet seconds before the attack, when ``--attack-start`` is not given."""
DETECT_WITHIN = 120.0


@dataclass(frozen=True)
class WorldSize:
    """The scale of the in-process sandbox world (``None``: the scenario's default)."""

    accounts: int | None = None
    streams: int | None = None
    bots: int | None = None
    compromised: int | None = None
    bot_rate: float | None = None
    attack_start: float | None = None
    """Seconds of quiet before a timed attack starts (``None``: it began before the start)."""


@dataclass(frozen=True)
class DrillConfig:
    """One drill: a playbook against a sandbox scenario, judged by criteria."""

    playbook: Path
    criteria: tuple[Criterion, ...]
    scenario: str = "live-flood"
    seed: int = 7
    faults: str | None = None
    """A fault spec (docs/sandbox.md#faults) for the in-process sandbox."""
    url: str | None = None
    """A running sandbox to use instead of starting one (its token from the environment)."""
    profile: str = "sandbox"
    """The platform profile the playbook runs through; it must talk to the sandbox."""
    world: WorldSize = field(default_factory=WorldSize)
    inputs: Mapping[str, str] = field(default_factory=dict)
    watch: Path | None = None
    """A watch file whose rule responds with the playbook: the drill runs the watch,
    pre-approved, instead of starting the playbook (``--watch``)."""
    detect_within: float = DETECT_WITHIN
    """A watch drill fails when no rule has fired this long after the attack starts."""


@dataclass(frozen=True)
class DrillResult:
    """The outcome of a drill: the incident, the run, the score and the verdict."""

    incident: str
    run: str | None
    run_status: str
    score: Mapping[str, Any]
    criteria: tuple[CriterionResult, ...]
    verification: VerifyResult
    head: Anchor | None
    sandbox_url: str
    steps: int = 0

    @property
    def passed(self) -> bool:
        """Whether every criterion held."""
        return all(result.passed for result in self.criteria)
