"""The incident lifecycle: statuses, the milestones they stamp, and allowed moves.

::

    detected → acknowledged → investigating → mitigating → mitigated → resolved → closed

Moving forward may skip statuses. ``mitigated`` and ``resolved`` may fall back to
``investigating`` or ``mitigating`` (the attack came back); ``closed`` is final.
Entering ``detected``, ``acknowledged``, ``mitigated``, ``resolved`` or ``closed`` stamps the
milestone of that name (first time only); ``impact_started`` is set when the incident is opened.
"""

from __future__ import annotations

from ircli.errors import InvalidInput

__all__ = [
    "MILESTONES",
    "SEVERITIES",
    "STATUSES",
    "check_transition",
    "milestone_for",
    "parse_severity",
    "parse_status",
]

STATUSES: tuple[str, ...] = (
    "detected",
    "acknowledged",
    "investigating",
    "mitigating",
    "mitigated",
    "resolved",
    "closed",
)
MILESTONES: tuple[str, ...] = (
    "impact_started",
    "detected",
    "acknowledged",
    "mitigated",
    "resolved",
    "closed",
)
SEVERITIES: tuple[str, ...] = ("P0", "P1", "P2", "P3", "P4")
_REOPENABLE = {"mitigated", "resolved"}
_REOPEN_TO = {"investigating", "mitigating"}


def parse_status(text: str) -> str:
    """Normalise a status name or raise ``InvalidInput`` listing the valid ones."""
    status = text.strip().lower()
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {text!r}; expected one of {', '.join(STATUSES)}.")
    return status


def parse_severity(text: str) -> str:
    """Normalise ``p1``/``P1`` or raise ``InvalidInput``."""
    severity = text.strip().upper()
    if severity not in SEVERITIES:
        raise InvalidInput(f"unknown severity {text!r}; expected one of P0, P1, P2, P3, P4.")
    return severity


def milestone_for(status: str) -> str | None:
    """The milestone a status stamps, if any."""
    return status if status in MILESTONES else None


def check_transition(current: str, new: str) -> None:
    """Raise ``InvalidInput`` unless the lifecycle allows ``current`` → ``new``."""
    if current == "closed":
        raise InvalidInput("the incident is closed; open a new incident instead.")
    if new == current:
        raise InvalidInput(f"the incident is already {current}.")
    forward = STATUSES.index(new) > STATUSES.index(current)
    if forward or (current in _REOPENABLE and new in _REOPEN_TO):
        return
    raise InvalidInput(
        f"cannot move an incident from {current} back to {new}; "
        "only mitigated or resolved incidents may return to investigating or mitigating."
    )
