"""The playbooks shipped with ircli (``playbooks/`` next to the package)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ircli
from ircli.errors import InvalidInput, IrcliError

__all__ = ["PlaybookEntry", "available_playbooks", "resolve_file", "shipped_playbooks_dir"]


@dataclass(frozen=True)
class PlaybookEntry:
    """A shipped playbook file and what it says about itself."""

    name: str
    path: Path
    description: str
    steps: int
    error: str | None = None
    """Why the file does not load, if it does not."""


def shipped_playbooks_dir() -> Path:
    """The shipped ``playbooks/``: inside the installed package (``ircli/shipped/``, from a
    wheel), or next to the package in a source checkout."""
    package = Path(ircli.__file__).resolve().parent
    installed = package / "shipped" / "playbooks"
    return installed if installed.is_dir() else package.parent / "playbooks"


def available_playbooks(directory: Path | None = None) -> list[PlaybookEntry]:
    """Every ``*.yaml`` playbook in ``directory`` (default: the shipped ones), by file name."""
    from ircli.playbook.loader import load_playbook

    folder = directory or shipped_playbooks_dir()
    entries: list[PlaybookEntry] = []
    if not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.yaml")):
        try:
            playbook = load_playbook(path)
        except IrcliError as exc:
            entries.append(PlaybookEntry(path.stem, path, "", 0, exc.message))
            continue
        entries.append(
            PlaybookEntry(playbook.name, path, playbook.description, len(playbook.steps))
        )
    return entries


def resolve_file(ref: str, cwd: Path, shipped: Path, what: str, hint: str) -> Path:
    """A file by path (relative to ``cwd``), or by the name of a shipped one in ``shipped``
    (``live-flood-containment``); ``what`` names it in the error (``playbook``)."""
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_file():
        return path
    candidate = shipped / f"{ref}.yaml"
    if "/" not in ref and candidate.is_file():
        return candidate
    raise InvalidInput(f"no {what} {ref!r}: not a file, nor a shipped {what}.", hint=hint)
