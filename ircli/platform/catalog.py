"""Find profiles by name: the user's own (config dir ``profiles/``) before the shipped ones."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ircli
from ircli.errors import InvalidInput, IrcliError
from ircli.wording import did_you_mean

__all__ = [
    "ProfileEntry",
    "available_profiles",
    "looks_like_path",
    "profile_search_dirs",
    "resolve_profile",
    "shipped_profiles_dir",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ProfileEntry:
    """A profile found in a search directory."""

    name: str
    path: Path
    origin: str
    """``user`` or ``shipped``."""
    description: str
    error: str | None = None
    """Why the file does not load, if it does not."""
    shadowed: bool = False
    """A profile of the same name earlier in the search order wins."""


def shipped_profiles_dir() -> Path:
    """The shipped ``profiles/``: inside the installed package (``ircli/shipped/``, from a
    wheel), or next to the package in a source checkout."""
    package = Path(ircli.__file__).resolve().parent
    installed = package / "shipped" / "profiles"
    return installed if installed.is_dir() else package.parent / "profiles"


def profile_search_dirs(user_config_dir: Path) -> tuple[Path, ...]:
    """Where names are looked up, in order: the user's ``profiles/``, then the shipped ones."""
    return (user_config_dir / "profiles", shipped_profiles_dir())


def looks_like_path(text: str) -> bool:
    """Whether a profile reference is a path (``./x.yaml``) rather than a name (``sandbox``)."""
    return "/" in text or "\\" in text or text.endswith(_SUFFIXES)


def resolve_profile(
    name_or_path: str, search_dirs: Sequence[Path], *, cwd: Path | None = None
) -> Path:
    """The file of a profile given by path (``./x.yaml``) or by name (``sandbox``)."""
    if looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if cwd is not None and not path.is_absolute():
            path = cwd / path
        if not path.is_file():
            raise InvalidInput(f"{name_or_path}: no such profile file.")
        return path
    if not _NAME.fullmatch(name_or_path):
        raise InvalidInput(f"{name_or_path!r} is neither a profile name nor a path to one.")
    for directory in search_dirs:
        for suffix in _SUFFIXES:
            candidate = directory / f"{name_or_path}{suffix}"
            if candidate.is_file():
                return candidate
    known = sorted({name for name, _path, _origin in _scan(search_dirs)})
    listed = ", ".join(known) or "none"
    raise InvalidInput(
        f"no profile named {name_or_path!r}{did_you_mean(name_or_path, known)}; "
        f"known profiles: {listed}.",
        hint="Give a path to a profile file, or see: ircli profile list.",
    )


def _scan(search_dirs: Sequence[Path]) -> list[tuple[str, Path, str]]:
    found: list[tuple[str, Path, str]] = []
    shipped = shipped_profiles_dir()
    for directory in search_dirs:
        if not directory.is_dir():
            continue
        origin = "shipped" if directory.resolve() == shipped else "user"
        for path in sorted(directory.iterdir()):
            if path.suffix in _SUFFIXES and path.is_file() and _NAME.fullmatch(path.stem):
                found.append((path.stem, path, origin))
    return found


def available_profiles(search_dirs: Sequence[Path]) -> list[ProfileEntry]:
    """Every profile in the search directories, in search order, each loaded for its text."""
    from ircli.platform.loader import load_profile

    entries: list[ProfileEntry] = []
    seen: set[str] = set()
    for name, path, origin in _scan(search_dirs):
        try:
            description, error = load_profile(path).description, None
        except IrcliError as exc:
            description, error = "", exc.message
        entries.append(ProfileEntry(name, path, origin, description, error, name in seen))
        seen.add(name)
    return entries
