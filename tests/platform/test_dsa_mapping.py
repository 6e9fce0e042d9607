"""A profile action's DSA decision (``dsa:``), checked where the profile writes it."""

from __future__ import annotations

import pytest

from ircli.dsarules import DecisionMapping
from ircli.errors import InvalidInput
from ircli.platform import load_profile, load_profile_text
from ircli.platform.catalog import shipped_profiles_dir


def test_a_profile_mapping_is_checked_where_it_is_written() -> None:
    text = """\
profile: 1
name: demo
base_url: http://127.0.0.1:1
actions:
  posts.hide:
    request: {method: POST, path: "/posts/{target}/hide"}
    idempotent: true
    dsa:
      decision_visibility: [DECISION_VISIBILITY_OTHER]
      content_type: [CONTENT_TYPE_TEXT]
"""
    with pytest.raises(InvalidInput) as caught:
        load_profile_text(text, "demo.yaml")
    assert caught.value.message == (
        "demo.yaml:9:7: actions -> posts.hide -> dsa -> decision_visibility_other: required "
        "when decision_visibility is DECISION_VISIBILITY_OTHER."
    )
    typo = text.replace("CONTENT_TYPE_TEXT", "CONTENT_TYPE_TXT")
    with pytest.raises(InvalidInput, match=r"demo.yaml:10:22: .*did you mean 'CONTENT_TYPE_TEXT'"):
        load_profile_text(typo, "demo.yaml")
    fixed = text.replace("[DECISION_VISIBILITY_OTHER]", "[DECISION_VISIBILITY_CONTENT_DEMOTED]")
    mapping = load_profile_text(fixed, "demo.yaml").actions["posts.hide"].dsa
    assert mapping == DecisionMapping(
        decision_visibility=["DECISION_VISIBILITY_CONTENT_DEMOTED"],
        content_type=["CONTENT_TYPE_TEXT"],
    )


def test_the_sandbox_profile_maps_suspensions_and_freezes_only() -> None:
    actions = load_profile(shipped_profiles_dir() / "sandbox.yaml").actions
    mapped = {name: action.dsa for name, action in actions.items() if action.dsa is not None}
    assert set(mapped) == {"streams.suspend", "accounts.freeze"}
    assert mapped["streams.suspend"].decision_visibility == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert mapped["accounts.freeze"].decision_account == "DECISION_ACCOUNT_SUSPENDED"
