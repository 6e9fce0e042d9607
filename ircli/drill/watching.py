"""A watch drill (``ircli drill PLAYBOOK --watch``): the watch starts the playbook, not the drill.

The sandbox starts quiet (``--attack-start``, 30 s by default) and the linked watch file runs
against it exactly as ``ircli watch`` would, but pre-approved for the drill: when its rule
fires, the watch opens the incident (titled as a drill) and runs the playbook at once, within
the file's guardrails. The drill stops once that response is over — or when no rule has fired
``detect_within`` seconds after the attack started, which fails the drill under an incident
opened to say so. The score gains ``detected_at_seconds``: when the first rule first held, on
the sandbox clock (seconds from the world's start), beside ``attack_started_at_seconds`` and
``contained_at_seconds``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ircli.errors import InvalidInput, IrcliError

if TYPE_CHECKING:
    from ircli.drill.model import DrillConfig, DrillResult
    from ircli.executor.service import Workspace
    from ircli.platform.model import Profile
    from ircli.playbook.model import Playbook
    from ircli.watch.loader import LoadedWatch

__all__ = ["check_watch", "linked_watch", "run_watch_drill"]


def linked_watch(playbook_path: Path, profile: Profile) -> Path | None:
    """The shipped watch file with a rule that responds with the playbook at
    ``playbook_path`` (``None`` when there is none)."""
    from ircli.watch.catalog import shipped_watch_dir
    from ircli.watch.loader import load_watch

    for path in sorted(shipped_watch_dir().glob("*.yaml")):
        if _responds_with(load_watch(path, profile=profile), path, playbook_path):
            return path
    return None


def _responds_with(loaded: LoadedWatch, watch_path: Path, playbook_path: Path) -> bool:
    from ircli.playbook.runner import resolve_playbook

    target = playbook_path.resolve()
    return any(
        rule.respond is not None
        and resolve_playbook(rule.respond.playbook, watch_path.parent).resolve() == target
        for rule in loaded.watch.rules.values()
    )


def check_watch(config: DrillConfig, profile: Profile) -> LoadedWatch:
    """The drill's watch file, loaded against the profile, with a rule that responds with the
    drill's playbook."""
    from ircli.watch.loader import load_watch

    if config.watch is None:  # pragma: no cover - only called for watch drills
        raise InvalidInput("this drill has no watch file.")
    loaded = load_watch(config.watch, profile=profile, webhooks=None)
    if not _responds_with(loaded, config.watch, config.playbook):
        raise InvalidInput(
            f"no rule of the watch file {config.watch} responds with the playbook "
            f"{config.playbook}; the drill would have nothing to start it."
        )
    return loaded


async def run_watch_drill(
    workspace: Workspace,
    config: DrillConfig,
    playbook: Playbook,
    *,
    stop: asyncio.Event | None,
    on_incident: Callable[[str], None] | None,
    on_message: Callable[[str, str], None] | None,
) -> DrillResult:
    """Run the watch drill end to end (see the module text)."""
    from ircli.drill.service import (
        DRILL_SEVERITY,
        drill_note,
        drill_title,
        fetch_score,
        judge,
        sandbox,
    )
    from ircli.executor.service import load_platform
    from ircli.incident.service import IncidentService
    from ircli.watch.service import WatchSession

    incidents = IncidentService(workspace.store)
    title = drill_title(config)

    def said(level: str, text: str) -> None:
        if on_message is not None:
            on_message(level, text)
        if on_incident is not None and text.startswith("rule ") and " fired: incident " in text:
            on_incident(text.split(" fired: incident ")[1].split(" ")[0])

    attack = config.world.attack_start or 0.0
    try:
        with sandbox(workspace, config) as (url, env):
            space = replace(workspace, env=env)
            loaded = load_platform(space, config.profile)
            watch = check_watch(config, loaded.profile)
            session = WatchSession(
                space,
                loaded,
                watch,
                stop=stop or asyncio.Event(),
                on_message=said,
                pre_approve=True,
                title_prefix=f"{title}: ",
            )
            summary = await session.run(
                until_responded=True, fire_within=attack + config.detect_within
            )
            score = dict(await fetch_score(space, config.profile))
    except IrcliError as exc:
        raise IrcliError(f"the watch drill stopped: {exc.message}") from exc
    response = session.responses[0] if session.responses else None
    if response is not None and response.incident is not None:
        incident = response.incident
        what = f"watch {watch.watch.name} (pre-approved for the drill), playbook {playbook.name}"
    else:
        incident = incidents.open(f"{title}: not detected", severity=DRILL_SEVERITY).id
        if on_incident is not None:
            on_incident(incident)
        what = f"watch {watch.watch.name}: {summary.status_reason}"
    incidents.add_note(incident, drill_note(config, what))
    score["detected_at_seconds"] = _detected_at(response, score)
    return judge(
        workspace,
        incident,
        run=None if response is None else response.run_id,
        run_status=(response.run_status or response.state) if response else "not_detected",
        steps=0,
        score=score,
        config=config,
        url=url,
    )


def _detected_at(response: Any, score: dict[str, Any]) -> float | None:
    """When the first rule first held, in seconds from the sandbox world's start."""
    started = score.get("started_at")
    if response is None or not isinstance(started, str):
        return None
    from ircli.clock import stored_time

    origin = stored_time(started).timestamp()
    return round(float(response.evidence.held_since) - origin, 3)
