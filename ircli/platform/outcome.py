"""How one attempt of an action on one target ended: the words the journal, the engine and
the run listings share. Kept apart from the profile model so that reading a run's records
(``runs list``) does not load pydantic."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Outcome"]


class Outcome(StrEnum):
    """How one attempt of an action on one target ended."""

    DONE = "done"
    """The platform applied the change."""
    ALREADY_DONE = "already_done"
    """The target was already in the requested state; nothing changed."""
    RETRYABLE = "retryable"
    """A transient refusal (429, 5xx, timeout): try again later, with the same key."""
    FAILED = "failed"
    """A permanent refusal (404, 403, 422 …): do not retry."""
    PROTECTED = "protected"
    """Never sent: the target is a protected account (``ircli.platform.protected``). ircli's
    own word, never the platform's: a profile cannot classify an answer as protected."""

    # Plain attributes, set below: enum properties cost a descriptor call on a hot path.
    final: bool
    """Whether no further attempt is needed."""
    succeeded: bool
    """Whether the target is now in the requested state."""


for _outcome in Outcome:
    _outcome.final = _outcome is not Outcome.RETRYABLE
    _outcome.succeeded = _outcome in (Outcome.DONE, Outcome.ALREADY_DONE)
