"""Load a playbook (YAML) into a ``Playbook``, validating everything before anything runs.

Every problem is one ``InvalidInput`` sentence at ``file:line:col`` with the path to the bad
value and, where useful, a hint (``did you mean …?``, "quote it"). The YAML itself is read by
``ircli.yamlfile`` (no duplicate keys, anchors, tags, multiple documents; bounded size and
depth). Included playbooks are loaded and validated with the including one; cycles and
nesting deeper than ``MAX_INCLUDE_DEPTH`` are refused. The format is in docs/playbooks.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.fields import ANY_KEY
from ircli.platform.fields import Path as FieldPath
from ircli.platform.model import Profile
from ircli.playbook.checks import Checker, PlaybookFields
from ircli.playbook.inputs import bind_inputs, read_inputs
from ircli.playbook.model import FORMAT_VERSION, Playbook, Step
from ircli.playbook.steps import STEP_ID, IncludeLoader, read_approvals, read_step
from ircli.yamlfile import LoadedYaml, load_yaml_file, load_yaml_text

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "MAX_STEPS",
    "bind_inputs",
    "load_playbook",
    "load_playbook_text",
    "parse_playbook",
]

MAX_STEPS = 200
MAX_INCLUDE_DEPTH = 4
_TOP = (
    "playbook",
    "name",
    "description",
    "profile",
    "inputs",
    "max_targets",
    "approvals",
    "steps",
)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


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
        if profile is not None:
            for name, listing in profile.listings.items():
                declared = getattr(listing, "fields", None)  # when profiles learn to declare them
                if declared and name not in self.listing_fields:
                    self.listing_fields[name] = tuple(declared)
        self.webhooks = webhooks

    def load_file(self, path: Path, chain: tuple[Path, ...], depth: int) -> Playbook:
        return self.parse(load_yaml_file(path), chain, depth)

    def parse(self, loaded: LoadedYaml, chain: tuple[Path, ...], depth: int) -> Playbook:
        f = PlaybookFields(loaded)
        if loaded.data is None:
            raise f.fail((), "the playbook is empty.")
        data = f.mapping((), loaded.data, _TOP, required=("playbook", "name", "steps"))
        version = f.integer(("playbook",), data["playbook"])
        if version != FORMAT_VERSION:
            raise f.fail(
                ("playbook",), f"unsupported playbook format {version}; this ircli reads 1."
            )
        name = f.string(
            ("name",),
            data["name"],
            pattern=_NAME,
            what="a playbook name (lower-case letters, digits, '-' and '_')",
        )
        inputs = read_inputs(f, ("inputs",), data.get("inputs", {}))
        profile_name = None
        if data.get("profile") is not None:
            profile_name = f.string(("profile",), data["profile"])
        max_targets = None
        if data.get("max_targets") is not None:
            max_targets = f.integer(("max_targets",), data["max_targets"], minimum=1)
        checker = Checker(
            f,
            self.profile,
            inputs=frozenset(inputs),
            listing_fields=self.listing_fields,
            webhooks=self.webhooks,
            input_types={n: i.type for n, i in inputs.items()},
        )
        approvals = None
        if data.get("approvals") is not None:
            approvals = read_approvals(checker, ("approvals",), data["approvals"])
        source_path = Path(loaded.source).resolve()
        here = (*chain, source_path)

        def include(path: FieldPath, written: str) -> tuple[Path, Playbook]:
            return self._include(checker, path, written, here, depth)

        steps = self._steps(checker, data["steps"], include)
        return Playbook(
            name=name,
            source=loaded.source,
            location=loaded.where(()),
            steps=steps,
            description=f.text(("description",), data.get("description", "")),
            profile=profile_name,
            inputs=inputs,
            max_targets=max_targets,
            approvals=approvals,
            include_depth=depth,
        )

    def _steps(self, c: Checker, value: Any, include: IncludeLoader) -> tuple[Step, ...]:
        if not isinstance(value, list):
            raise c.fail(("steps",), "expected a list of steps.")
        if not value:
            raise c.fail(("steps",), "the playbook has no steps.")
        if len(value) > MAX_STEPS:
            raise c.fail(("steps",), f"a playbook may have at most {MAX_STEPS} steps.")
        ids: dict[str, int] = {}
        for index, raw in enumerate(value):
            path = ("steps", index)
            data = c.f.mapping(path, raw, ANY_KEY, required=("id",))
            step_id = c.f.string(
                (*path, "id"),
                data["id"],
                pattern=STEP_ID,
                what="a step id (lower-case letters, digits and '_', starting with a letter)",
            )
            if step_id in ids:
                raise c.fail(
                    (*path, "id"),
                    f"the step id {step_id!r} is already used by step {ids[step_id]}.",
                )
            ids[step_id] = index
        c.all_steps = frozenset(ids)
        return tuple(read_step(c, ("steps", i), raw, include) for i, raw in enumerate(value))

    def _include(
        self, c: Checker, path: FieldPath, written: str, chain: tuple[Path, ...], depth: int
    ) -> tuple[Path, Playbook]:
        base = Path(c.f.loaded.source).parent
        target = (base / written).resolve()
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain[chain.index(target) :], target))
            raise c.fail(path, f"the include makes a cycle ({cycle}).")
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise c.fail(path, f"includes nest deeper than {MAX_INCLUDE_DEPTH} levels.")
        if not target.is_file():
            raise c.fail(path, f"no such playbook file {written!r}.")
        try:
            return target, self.load_file(target, chain, depth + 1)
        except InvalidInput as exc:
            location = c.f.loaded.where(path)
            raise InvalidInput(
                f"{exc.message.rstrip('.')} (included from {location}).", hint=exc.hint
            ) from None
