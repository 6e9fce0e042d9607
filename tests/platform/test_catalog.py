"""Finding profiles by name or path."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.errors import InvalidInput
from ircli.platform.catalog import (
    available_profiles,
    profile_search_dirs,
    resolve_profile,
    shipped_profiles_dir,
)
from tests.platform.helpers import PROFILES

MINIMAL = "profile: 1\nname: {name}\ndescription: {text}\nbase_url: https://x.example\n"


def test_shipped_dir_is_the_repository_profiles_dir() -> None:
    assert shipped_profiles_dir() == PROFILES


def test_names_resolve_user_dir_first(tmp_path: Path) -> None:
    dirs = profile_search_dirs(tmp_path)
    assert resolve_profile("sandbox", dirs) == PROFILES / "sandbox.yaml"
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "sandbox.yaml").write_text(MINIMAL.format(name="sandbox", text="mine"))
    (user / "broken.yml").write_text("profile: 1\n")
    assert resolve_profile("sandbox", dirs) == user / "sandbox.yaml"
    assert resolve_profile("broken", dirs) == user / "broken.yml"
    entries = {(e.name, e.origin): e for e in available_profiles(dirs)}
    assert entries[("sandbox", "user")].description == "mine"
    assert entries[("sandbox", "shipped")].shadowed
    assert entries[("broken", "user")].error is not None
    assert {"mastodon", "keycloak"} <= {name for name, _origin in entries}


def test_paths_resolve_against_cwd(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(MINIMAL.format(name="mine", text="x"))
    assert resolve_profile("mine.yaml", (), cwd=tmp_path) == tmp_path / "mine.yaml"
    assert resolve_profile("./mine.yaml", (), cwd=tmp_path) == tmp_path / "./mine.yaml"
    with pytest.raises(InvalidInput, match=r"other\.yaml: no such profile file\."):
        resolve_profile("other.yaml", (), cwd=tmp_path)


def test_unknown_name_suggests_and_lists(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_profile("sandbx", profile_search_dirs(tmp_path))
    assert caught.value.message == (
        "no profile named 'sandbx' (did you mean 'sandbox'?); known profiles: keycloak, "
        "mastodon, sandbox."
    )
    with pytest.raises(InvalidInput, match="neither a profile name nor a path"):
        resolve_profile("Bad Name", ())


def test_public_api_is_exported_lazily() -> None:
    import subprocess
    import sys

    import ircli.platform as platform

    for name in platform.__all__:
        assert callable(getattr(platform, name)), name
    probe = "import sys, ircli.platform.model; print('httpx' in sys.modules, 'yaml' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"
