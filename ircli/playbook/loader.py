"""Load a playbook (YAML) into a ``Playbook``, validating everything before anything runs.

The shape and its rules live on the model (``ircli.playbook.model``); this module reads files
and follows includes. Every problem is one ``InvalidInput`` sentence at ``file:line:col`` with
the path to the bad value and, where useful, a hint (``did you mean …?``, "quote it"). The
YAML itself is read by ``ircli.yamlfile`` (no duplicate keys, anchors, tags, multiple
documents; bounded size and depth). Included playbooks are loaded and validated with the
including one; cycles and nesting deeper than ``MAX_INCLUDE_DEPTH`` are refused. The format
is in docs/playbooks.md.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from ircli.errors import InvalidInput
from ircli.platform.model import Profile
from ircli.playbook.document import PlaybookDocument
from ircli.playbook.inputs import bind_inputs
from ircli.playbook.model import MAX_STEPS, Playbook
from ircli.shapes import read_document
from ircli.yamlfile import FieldPath, LoadedYaml, load_yaml_file, load_yaml_text

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "MAX_STEPS",
    "bind_inputs",
    "load_playbook",
    "load_playbook_text",
    "parse_playbook",
]

MAX_INCLUDE_DEPTH = 4


def load_playbook(
    path: Path,
    *,
    profile: Profile | None = None,
    listing_fields: Mapping[str, Collection[str]] | None = None,
    webhooks: Collection[str] | None = None,
) -> Playbook:
    """Load and validate the playbook at ``path``.

    With ``profile``, listings, filters, actions, parameters and batch sizes are checked
    against it; ``listing_fields`` (listing → item field names) lets ``where`` filters be
    name-checked; ``webhooks`` (configured names) checks ``notify`` steps. Inputs are bound
    separately with ``bind_inputs(playbook, given)``.
    """
    return _Loader(profile, listing_fields or {}, webhooks).load_file(path, (), 0)


def load_playbook_text(
    text: str,
    source: str = "<playbook>",
    *,
    profile: Profile | None = None,
    listing_fields: Mapping[str, Collection[str]] | None = None,
    webhooks: Collection[str] | None = None,
) -> Playbook:
    """Like ``load_playbook`` for YAML text (includes resolve against the current directory)."""
    loader = _Loader(profile, listing_fields or {}, webhooks)
    return loader.parse(load_yaml_text(text, source), (), 0)


def parse_playbook(
    loaded: LoadedYaml,
    *,
    profile: Profile | None = None,
    listing_fields: Mapping[str, Collection[str]] | None = None,
    webhooks: Collection[str] | None = None,
) -> Playbook:
    """A ``Playbook`` from an already loaded YAML document."""
    return _Loader(profile, listing_fields or {}, webhooks).parse(loaded, (), 0)


class _Loader:
    """Loads one playbook and, recursively, the ones it includes."""

    def __init__(
        self,
        profile: Profile | None,
        listing_fields: Mapping[str, Collection[str]],
        webhooks: Collection[str] | None,
    ) -> None:
        self.profile = profile
        self.listing_fields = dict(listing_fields)
        self.webhooks = webhooks

    def load_file(self, path: Path, chain: tuple[Path, ...], depth: int) -> Playbook:
        return self.parse(load_yaml_file(path), chain, depth)

    def parse(self, loaded: LoadedYaml, chain: tuple[Path, ...], depth: int) -> Playbook:
        here = (*chain, Path(loaded.source).resolve())

        def include(doc: PlaybookDocument, path: FieldPath, written: str) -> tuple[Path, Playbook]:
            return self._include(doc, path, written, here, depth)

        doc = PlaybookDocument.of(
            loaded,
            profile=self.profile,
            listing_fields=self.listing_fields,
            webhooks=self.webhooks,
            include=include,
        )
        if loaded.data is None:
            raise doc.fail((), "the playbook is empty.")
        playbook = read_document(Playbook, doc)
        return playbook.model_copy(update={"source": loaded.source, "include_depth": depth})

    def _include(
        self,
        doc: PlaybookDocument,
        path: FieldPath,
        written: str,
        chain: tuple[Path, ...],
        depth: int,
    ) -> tuple[Path, Playbook]:
        try:
            target = (doc.base / written).resolve()
            found = target.is_file()
        except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop
            reason = getattr(exc, "strerror", None) or "a symlink loop"
            raise doc.fail(path, f"cannot read the playbook file {written!r} ({reason}).") from None
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain[chain.index(target) :], target))
            raise doc.fail(path, f"the include makes a cycle ({cycle}).")
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise doc.fail(path, f"includes nest deeper than {MAX_INCLUDE_DEPTH} levels.")
        if not found:
            raise doc.fail(path, f"no such playbook file {written!r}.")
        try:
            return target, self.load_file(target, chain, depth + 1)
        except InvalidInput as exc:
            location = doc.loaded.where(path)
            included = InvalidInput(
                f"{exc.message.rstrip('.')} (included from {location}).", hint=exc.hint
            )
            raise doc.refusal(included, path) from None
