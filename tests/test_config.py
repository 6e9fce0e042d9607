"""Settings precedence (flag > env > file > default) and config-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.config import resolve_settings
from ircli.errors import InvalidInput


def resolve(
    tmp_path: Path, flags: dict[str, object] | None = None, env: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    return resolve_settings(
        flags=flags or {},
        env=env or {"USER": "osuser"},
        cwd=tmp_path / "work",
        user_config_dir=tmp_path / "config",
        user_data_dir=tmp_path / "data",
    )


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "config").mkdir()


def test_defaults(tmp_path: Path) -> None:
    settings = resolve(tmp_path)
    assert settings.db == str(tmp_path / "data" / "audit.db")
    assert settings.operator == "osuser"
    assert settings.sources["db"] == "default"
    assert settings.config_file is None


def test_precedence_flag_env_file_default(tmp_path: Path) -> None:
    (tmp_path / "config" / "ircli.yaml").write_text("operator: from-user-file\ndb: file.db\n")
    assert resolve(tmp_path).operator == "from-user-file"
    (tmp_path / "work" / "ircli.yaml").write_text("operator: from-cwd-file\n")
    settings = resolve(tmp_path)
    assert settings.operator == "from-cwd-file"
    assert settings.db == str(tmp_path / "data" / "audit.db")  # only the first file is read
    env = {"IRCLI_OPERATOR": "from-env", "USER": "osuser"}
    assert resolve(tmp_path, env=env).operator == "from-env"
    assert resolve(tmp_path, flags={"operator": "from-flag"}, env=env).operator == "from-flag"
    assert resolve(tmp_path, flags={"operator": "from-flag"}, env=env).sources["operator"] == "flag"


def test_unknown_key_is_located_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "work" / "ircli.yaml"
    path.write_text("db: x.db\nopertor: dana\n")
    with pytest.raises(InvalidInput) as caught:
        resolve(tmp_path)
    assert caught.value.message == (
        f"{path}:2:1: opertor: unknown setting (did you mean 'operator'?)."
    )


def test_wrong_type_is_located(tmp_path: Path) -> None:
    path = tmp_path / "work" / "ircli.yaml"
    path.write_text("max_targets: lots\n")
    with pytest.raises(InvalidInput, match=r"ircli.yaml:1:14: max_targets: expected an integer"):
        resolve(tmp_path)


def test_yaml_1_1_boolean_is_refused_for_a_string(tmp_path: Path) -> None:
    (tmp_path / "work" / "ircli.yaml").write_text("operator: no\n")
    with pytest.raises(InvalidInput) as caught:
        resolve(tmp_path)
    assert "expected a string, got False" in caught.value.message
    assert caught.value.hint == "Quote the value."


def test_bad_env_integer(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="IRCLI_MAX_TARGETS='many' is not an integer"):
        resolve(tmp_path, env={"IRCLI_MAX_TARGETS": "many"})


def test_cli_reads_config_file_in_working_dir(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ircli.yaml").write_text("operator: carol\n")
    opened = cli("--json", "incident", "open", "Flood", "-s", "P2", env={"IRCLI_OPERATOR": ""})
    assert opened.exit_code == 0, opened.stderr
    assert '"opened_by": "carol"' in opened.stdout
