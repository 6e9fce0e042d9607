"""The profile JSON Schema: generated from the model, kept in docs/, and true of shipped files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import pytest

from ircli.platform.model import profile_schema
from ircli.yamlfile import load_yaml_file
from tests.conftest import CliRunner
from tests.platform.helpers import PROFILES

SCHEMA_FILE = PROFILES.parent / "docs" / "profile.schema.json"
SHIPPED = sorted(PROFILES.glob("*.yaml"))


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def unknown_keys(errors: Iterable[jsonschema.ValidationError]) -> list[str]:
    """The keys refused as additional properties, anywhere among the errors and their causes
    (a key inside a union member is reported under the union)."""
    found: list[str] = []
    for error in errors:
        if error.validator == "additionalProperties":
            found += [k for k in error.instance if k not in error.schema.get("properties", {})]
        found += unknown_keys(error.context or [])
    return sorted(set(found))


def test_the_schema_file_is_what_the_cli_prints(cli: CliRunner) -> None:
    result = cli("profile", "schema")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == profile_schema()
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == printed, (
        "docs/profile.schema.json is stale: run `make docs`"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_profile_conforms_and_names_the_schema(path: Path) -> None:
    errors = [e.message for e in validator().iter_errors(load_yaml_file(path).data)]
    assert errors == []
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../docs/profile.schema.json"


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ((), "descripton"),
        (("limits",), "concurency"),
        (("actions", "streams.suspend"), "idempotnet"),
        (("actions", "streams.suspend", "request"), "jsno"),
        (("listings", "streams", "pagination"), "page_sise"),
    ],
)
def test_a_misspelled_key_is_rejected(where: tuple[str, ...], key: str) -> None:
    data = load_yaml_file(PROFILES / "sandbox.yaml").data
    node = data
    for part in where:
        node = node[part]
    node[key] = 1
    assert key in unknown_keys(validator().iter_errors(data))


def test_a_wrong_type_is_rejected() -> None:
    data = load_yaml_file(PROFILES / "sandbox.yaml").data
    data["limits"]["concurrency"] = "lots"
    assert list(validator().iter_errors(data))


def test_a_bad_variable_name_is_rejected() -> None:
    data = load_yaml_file(PROFILES / "keycloak.yaml").data
    data["variables"]["bad-name"] = "x"
    assert list(validator().iter_errors(data))
