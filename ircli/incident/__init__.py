"""Incidents and their timelines, rebuilt from the audit chain."""

from ircli.incident.lifecycle import MILESTONES, SEVERITIES, STATUSES
from ircli.incident.model import NOTE_KINDS, Incident, TimelineEntry

__all__ = ["MILESTONES", "NOTE_KINDS", "SEVERITIES", "STATUSES", "Incident", "TimelineEntry"]
