"""Declared parameters: types, defaults, choices; given values are checked and converted."""

from __future__ import annotations

import pytest

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from ircli.platform.model import ActionSpec
from ircli.platform.params import bind_params

TEXT = """\
profile: 1
name: p
base_url: https://x.example
actions:
  flags.set:
    params:
      enabled: {type: boolean, required: false}
      percent: {type: integer, choices: [0, 1, 10, 50, 100]}
      weight: {type: number, default: 0.5}
      reason: {default: ""}
    request:
      method: PUT
      path: "/flags/{target}"
      json: {on: "{param.enabled}", p: "{param.percent}", w: "{param.weight}"}
    idempotent: true
  users.ban:
    params: [reason]
    request: {method: POST, path: "/u/{target}", json: {why: "{param.reason}"}}
    idempotent: true
"""


@pytest.fixture
def flags() -> ActionSpec:
    return load_profile_text(TEXT, "p.yaml").actions["flags.set"]


def test_strings_from_the_command_line_are_converted(flags: ActionSpec) -> None:
    assert bind_params(flags, {"enabled": "yes", "percent": "10", "weight": "0.25"}) == {
        "enabled": True,
        "percent": 10,
        "weight": 0.25,
        "reason": "",
    }


def test_typed_values_from_playbooks_pass(flags: ActionSpec) -> None:
    assert bind_params(flags, {"enabled": False, "percent": 100, "weight": 1}) == {
        "enabled": False,
        "percent": 100,
        "weight": 1.0,
        "reason": "",
    }


def test_optional_without_default_is_null(flags: ActionSpec) -> None:
    assert bind_params(flags, {"percent": 1})["enabled"] is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"percent": "1", "enabld": "true"},
            "the action 'flags.set' takes no parameter 'enabld' (did you mean 'enabled'?); its "
            "parameters: enabled, percent, weight, reason.",
        ),
        ({}, "the action 'flags.set' needs the parameter 'percent'."),
        (
            {"percent": "ten"},
            "the parameter 'percent' of 'flags.set' must be an integer, got 'ten'.",
        ),
        ({"percent": True}, "the parameter 'percent' of 'flags.set' must be an integer, got True."),
        (
            {"percent": "7"},
            "the parameter 'percent' of 'flags.set' must be one of 0, 1, 10, 50, 100, got '7'.",
        ),
        (
            {"percent": 1, "enabled": "maybe"},
            "the parameter 'enabled' of 'flags.set' must be true or false, got 'maybe'.",
        ),
        (
            {"percent": 1, "weight": "heavy"},
            "the parameter 'weight' of 'flags.set' must be a number, got 'heavy'.",
        ),
        (
            {"percent": 1, "reason": 5},
            "the parameter 'reason' of 'flags.set' must be a string, got 5.",
        ),
    ],
)
def test_bad_values_are_refused(flags: ActionSpec, given: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bind_params(flags, given)
    assert caught.value.message == message


def test_a_list_of_names_declares_required_strings() -> None:
    ban = load_profile_text(TEXT, "p.yaml").actions["users.ban"]
    assert bind_params(ban, {"reason": "spam"}) == {"reason": "spam"}
    with pytest.raises(InvalidInput, match="needs the parameter 'reason'"):
        bind_params(ban, {})
