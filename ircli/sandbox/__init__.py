"""The sandbox platform: a simulated live-streaming platform's admin API under attack.

Build a world with ``WorldConfig``, serve it in-process with ``create_app`` (ASGI) or over
loopback HTTP with ``run_server``; score a response at ``GET /_sandbox/score``. The HTTP API,
the scenario and the score are documented in docs/sandbox.md.
"""

from __future__ import annotations

from ircli.sandbox.app import SandboxApp, create_app
from ircli.sandbox.auth import DEFAULT_TOKEN, SCOPES
from ircli.sandbox.faults import FaultConfig, faults_from_mapping, parse_faults
from ircli.sandbox.server import RunningServer, run_server, serve_app
from ircli.sandbox.world import SCENARIOS, WorldConfig

__all__ = [
    "DEFAULT_TOKEN",
    "SCENARIOS",
    "SCOPES",
    "FaultConfig",
    "RunningServer",
    "SandboxApp",
    "WorldConfig",
    "create_app",
    "faults_from_mapping",
    "parse_faults",
    "run_server",
    "serve_app",
]
