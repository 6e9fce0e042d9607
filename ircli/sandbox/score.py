"""The drill's score and ground truth, computed from the platform's running counters."""

from __future__ import annotations

from typing import Any

from ircli.clock import format_epoch
from ircli.sandbox.platform import FLAG_LIVE, Platform
from ircli.sandbox.world import BOT, COMPROMISED, LIVE

__all__ = ["score", "truth"]


def score(platform: Platform, now: float) -> dict[str, Any]:
    """The score document served at ``GET /_sandbox/score`` (definitions in docs/sandbox.md)."""
    world = platform.world
    kind = world.kind
    malicious = world.s_malicious
    compromised = [a for a in platform.password_resets if kind[a] == COMPROMISED]
    revoked = [a for a in platform.revoked if kind[a] == COMPROMISED]
    honest_resets = [
        a for a in platform.password_resets if kind[a] != COMPROMISED and kind[a] != BOT
    ]
    malicious_total = sum(malicious)
    blocked_malicious = sum(
        1
        for d in platform.blocklist
        if d in world.domains and world.domains.index(d) in world.malicious_domains
    )
    live_flag = platform.flags[FLAG_LIVE]
    exposure = (
        platform.exposure_closed + platform.exposure_viewers * now - platform.exposure_weighted
    )
    return {
        "scenario": platform.config.scenario,
        "seed": platform.config.seed,
        "elapsed_seconds": round(now - platform.started_at, 3),
        "malicious_live_streams": platform.mal_live,
        "malicious_streams_suspended": platform.mal_suspended,
        "malicious_streams_ended": malicious_total - platform.mal_live - platform.mal_suspended,
        "malicious_streams_total": malicious_total,
        "attacker_streams_started": platform.spawned,
        "malicious_accounts": world.config.bot_accounts,
        "malicious_accounts_frozen": platform.bots_frozen,
        "compromised_accounts": world.config.compromised_accounts,
        "compromised_accounts_reset": len(platform.locked_out),
        "compromised_accounts_password_reset": len(compromised),
        "compromised_accounts_sessions_revoked": len(revoked),
        "collateral_streams": len(platform.collateral_streams),
        "collateral_accounts": len(platform.collateral_accounts),
        "collateral_password_resets": len(honest_resets),
        "honest_live_streams": platform.honest_live,
        "honest_streams_ended_by_kill_switch": platform.killed_honest,
        "exposure_viewer_seconds": round(max(exposure, 0.0), 1),
        "attack_started_at_seconds": platform.config.attack_start_seconds,
        "contained_at_seconds": (
            None if platform.contained_at is None else round(platform.contained_at, 3)
        ),
        "duplicate_effects": platform.duplicate_effects,
        "kill_switch": {
            "enabled": live_flag.enabled,
            "rollout_percent": live_flag.rollout_percent,
        },
        "blocked_domains": {
            "malicious": blocked_malicious,
            "other": len(platform.blocklist) - blocked_malicious,
        },
        "requests": dict(sorted(platform.requests.items())),
        "requests_total": sum(platform.requests.values()),
        "started_at": format_epoch(platform.started_at),
        "malicious_live_series": [list(point) for point in platform.mal_live_series],
    }


def truth(platform: Platform) -> dict[str, Any]:
    """The ground truth served at ``GET /_sandbox/truth``."""
    world = platform.world
    kind = world.kind
    malicious = world.s_malicious
    status = world.s_status
    return {
        "bot_account_ids": [f"acc_{a:07d}" for a in range(world.account_count) if kind[a] == BOT],
        "compromised_account_ids": [
            f"acc_{a:07d}" for a in range(world.account_count) if kind[a] == COMPROMISED
        ],
        "malicious_stream_ids": [f"str_{s:07d}" for s in range(world.stream_count) if malicious[s]],
        "malicious_live_stream_ids": [
            f"str_{s:07d}" for s in range(world.stream_count) if malicious[s] and status[s] == LIVE
        ],
        "malicious_domains": sorted(world.domains[d] for d in world.malicious_domains),
    }
