"""Property: whatever is put anywhere in a playbook, loading gives a Playbook or one located
InvalidInput sentence — never another exception, checked against the profile or not."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircli.errors import InvalidInput
from ircli.playbook.catalog import shipped_playbooks_dir
from ircli.playbook.loader import load_playbook_text
from ircli.playbook.model import Playbook
from tests.platform.test_loader_properties import paths, replaced, yaml_values
from tests.playbook.queries import sandbox_profile

BASE = yaml.safe_load((shipped_playbooks_dir() / "live-flood-containment.yaml").read_text())
LOCATED = re.compile(r"^p\.yaml:\d+:\d+: [^\n]+$")
ALL_PATHS = [p for p in paths(BASE) if p]

values = yaml_values(
    [
        "",
        "NO",
        "${inputs.reason}",
        "${steps.nope.ids}",
        "steps.bot_streams.ids",
        "inputs.kill_switch_threshold",
        "count > 0",
        "count >",
        "__import__('os')",
        "10s",
        "streams",
        "streams.suspend",
        "abort",
        "rollback",
        "$",
    ],
    ["id", "query", "action", "note", "listing", "where", "message", "from", "x"],
    largest=100_000,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), values, st.booleans())
def test_any_value_anywhere_is_a_playbook_or_one_located_sentence(
    path: tuple[Any, ...], value: Any, with_profile: bool
) -> None:
    text = yaml.safe_dump(replaced(BASE, path, value), allow_unicode=True)
    profile = sandbox_profile() if with_profile else None
    message = None
    try:
        assert isinstance(load_playbook_text(text, "p.yaml", profile=profile), Playbook)
    except InvalidInput as exc:
        message = exc.message
    assert message is None or LOCATED.match(message), message
