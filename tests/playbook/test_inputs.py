"""Binding inputs: typed conversion, defaults, required and unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.errors import InvalidInput
from ircli.playbook.inputs import bind_inputs
from ircli.playbook.loader import load_playbook_text

TEXT = """\
playbook: 1
name: typed
inputs:
  reason: {type: string, required: true, description: Why.}
  threshold: {type: integer, default: 10}
  ratio: {type: number, default: 0.5}
  dry: {type: boolean, default: false}
  domains: {type: list, default: [a.xyz]}
  observe: {type: duration, default: 90s}
  mode: {choices: [fast, careful], default: careful}
steps:
  - id: n
    note: "${inputs.reason} ${inputs.threshold} ${inputs.domains}"
"""


@pytest.fixture
def source(tmp_path: Path) -> str:
    return str(tmp_path / "typed.yaml")


def test_defaults_fill_and_strings_convert(source: str) -> None:
    playbook = load_playbook_text(TEXT, source)
    assert bind_inputs(playbook, {"reason": "flood"}) == {
        "reason": "flood",
        "threshold": 10,
        "ratio": 0.5,
        "dry": False,
        "domains": ("a.xyz",),
        "observe": 90.0,
        "mode": "careful",
    }
    given = {
        "reason": "x",
        "threshold": "500",
        "ratio": "0.25",
        "dry": "yes",
        "domains": "b.xyz, c.top",
        "observe": "2m",
        "mode": "fast",
    }
    bound = bind_inputs(playbook, given)
    assert (bound["threshold"], bound["dry"]) == (500, True)
    assert (bound["domains"], bound["observe"]) == (("b.xyz", "c.top"), 120.0)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "the playbook 'typed' needs the input 'reason'."),
        (
            {"reason": "x", "treshold": "1"},
            "the playbook 'typed' has no input 'treshold' (did you "
            "mean 'threshold'?); its inputs: reason, threshold, ratio, dry, domains, observe, "
            "mode.",
        ),
        (
            {"reason": "x", "threshold": "ten"},
            "the input 'threshold' must be an integer, got 'ten'.",
        ),
        ({"reason": "x", "dry": "maybe"}, "the input 'dry' must be true or false, got 'maybe'."),
        ({"reason": "x", "ratio": "nan"}, "the input 'ratio' must be a number, got 'nan'."),
        (
            {"reason": "x", "observe": "soon"},
            "the input 'observe' must be a duration such as 90s or 5m, got 'soon'.",
        ),
        (
            {"reason": "x", "mode": "yolo"},
            "the input 'mode' must be one of fast, careful, got 'yolo'.",
        ),
    ],
)
def test_bad_inputs_are_refused(source: str, given: dict[str, str], message: str) -> None:
    playbook = load_playbook_text(TEXT, source)
    with pytest.raises(InvalidInput) as caught:
        bind_inputs(playbook, given)
    assert caught.value.message == f"{source}: {message}"
