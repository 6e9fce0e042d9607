"""The located YAML loader refuses what it must, with file:line:col."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ircli.errors import InvalidInput
from ircli.yamlfile import load_yaml_bytes, load_yaml_text
from tests.conftest import CliRunner


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "x.yaml:2:1: duplicate key 'a' (first defined at line 1)."),
        ("a: &x [1]\nb: *x\n", "x.yaml:1:4: YAML anchors and aliases are not allowed."),
        ("a: !!python/object:os.system x\n", "x.yaml:1:4: the YAML tag"),
        ("a: 1\n---\nb: 2\n", "x.yaml:2:1: the file holds more than one YAML document"),
        ("a: [1\n", "x.yaml:2:1: invalid YAML"),
        ("a:\tb\n\tc: d\n", "x.yaml:2:1: invalid YAML"),
        ("a: b\0\n", "x.yaml:1:5: the file contains a NUL byte."),
        ("[" * 40 + "]" * 40, "x.yaml:1:34: the document nests deeper than 32 levels."),
    ],
)
def test_hostile_yaml_is_refused_with_a_location(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml_text(text, "x.yaml")
    assert caught.value.message.startswith(message)


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(InvalidInput, match="anchors and aliases are not allowed"):
        load_yaml_text("\n".join(lines), "laughs.yaml")


def test_invalid_utf8_is_located() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml_bytes(b"a: 1\nb: \xff\n", "bad.yaml")
    assert caught.value.message == "bad.yaml:2:4: the file is not valid UTF-8."


def test_locations_and_plain_scalars_are_recorded() -> None:
    loaded = load_yaml_text("steps:\n  - id: one\n    enabled: off\n    name: 'off'\n", "p.yaml")
    assert loaded.data == {"steps": [{"id": "one", "enabled": False, "name": "off"}]}
    assert str(loaded.where(("steps", 0, "enabled"))) == "p.yaml:3:14"
    assert loaded.plain_scalars[("steps", 0, "enabled")] == "off"
    assert ("steps", 0, "name") not in loaded.plain_scalars
    error = loaded.error(("steps", 0, "enabled"), "expected a string.")
    assert error.message == "p.yaml:3:14: steps -> 0 -> enabled: expected a string."


def test_an_integer_past_the_digit_limit_is_located(cli: CliRunner, tmp_path: Path) -> None:
    digits = sys.get_int_max_str_digits() + 700
    path = tmp_path / "big.yaml"
    path.write_text(f"profile: 1\nname: x\nlimits: {{concurrency: {'9' * digits}}}\n")
    result = cli("profile", "validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {path}:3:23: the number is longer than {sys.get_int_max_str_digits()} digits."
    )
