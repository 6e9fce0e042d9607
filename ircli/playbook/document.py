"""What a playbook's validators need while it is read: scopes, the profile, earlier steps.

``PlaybookDocument`` is the validation context of the playbook model (``ircli.playbook.model``).
It builds the ``Scope`` each dynamic field may use, compiles expressions and templates at their
YAML position, knows the profile (when given) and the webhooks, and records each step as it
is validated so that later steps may refer to it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ircli.errors import InvalidInput
from ircli.platform.model import ActionSpec, Profile
from ircli.playbook.context import STEP_RESULT_FIELDS, Origin, Scope
from ircli.playbook.expr import Expression, compile_expression
from ircli.playbook.templates import Template, compile_template
from ircli.shapes import Document
from ircli.wording import did_you_mean
from ircli.yamlfile import FieldPath, LoadedYaml

if TYPE_CHECKING:
    from ircli.playbook.model import Playbook

__all__ = ["IncludeLoader", "PlaybookDocument", "StepInfo"]

SECRET_HINT = "Secrets belong in the profile's secret source or the configuration."  # noqa: S105 - a hint, not a secret

IncludeLoader = Callable[["PlaybookDocument", FieldPath, str], tuple[Path, "Playbook"]]
"""Loads an included file (path as written) → its resolved path and validated playbook."""


@dataclass(frozen=True)
class StepInfo:
    """What later steps may know about an earlier one."""

    kind: str
    listing: str | None = None
    """For query/wait steps: the listing read; for action steps: the action's target kind."""


@dataclass
class PlaybookDocument(Document):
    """Validation state while one playbook file is read."""

    profile: Profile | None = None
    listing_fields: Mapping[str, Collection[str]] = field(default_factory=dict)
    """Known item fields per listing (for name-checking ``where`` filters)."""
    webhooks: Collection[str] | None = None
    """Configured webhook names; ``None`` when unknown (not checked)."""
    include: IncludeLoader | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    """Declared inputs and their types."""
    all_steps: frozenset[str] = frozenset()
    earlier: dict[str, StepInfo] = field(default_factory=dict)
    step_action: str | None = None
    """The action of the action step being read (an ``undo`` defaults to it)."""

    @classmethod
    def of(
        cls,
        loaded: LoadedYaml,
        *,
        profile: Profile | None,
        listing_fields: Mapping[str, Collection[str]],
        webhooks: Collection[str] | None,
        include: IncludeLoader | None,
    ) -> PlaybookDocument:
        """The document for a loaded playbook."""
        return cls(
            loaded,
            "playbook",
            SECRET_HINT,
            profile=profile,
            listing_fields=listing_fields,
            webhooks=webhooks,
            include=include,
        )

    @property
    def base(self) -> Path:
        """The playbook's directory (ids files and includes are relative to it)."""
        return Path(self.loaded.source).parent

    def origin(self, path: FieldPath) -> Origin:
        """Where a dynamic part was written."""
        return Origin(self.loaded.where(path), " -> ".join(str(p) for p in path))

    def scope(self, *, values: Collection[str] = (), listing: str | None = None) -> Scope:
        """The names available to a field of the current step."""
        steps = {sid: STEP_RESULT_FIELDS[info.kind] for sid, info in self.earlier.items()}
        item_fields = None
        if listing is not None and listing in self.listing_fields:
            item_fields = frozenset(self.listing_fields[listing])
        return Scope(
            inputs=frozenset(self.inputs),
            steps=steps,
            later_steps=self.all_steps - set(self.earlier),
            values=frozenset(values),
            item=listing is not None,
            item_fields=item_fields,
        )

    def expression(
        self,
        path: FieldPath,
        text: Any,
        *,
        values: Collection[str] = (),
        listing: str | None = None,
    ) -> Expression:
        """``text`` compiled as an expression at ``path``."""
        text = self.word(path, text)
        try:
            return compile_expression(
                text, self.scope(values=values, listing=listing), self.origin(path)
            )
        except InvalidInput as exc:
            raise self.refusal(exc, path) from None

    def template(
        self, path: FieldPath, text: str, *, values: Collection[str] = ()
    ) -> str | Template:
        """``text`` with its ``${…}`` references checked; a plain string when it has none."""
        try:
            return compile_template(text, self.scope(values=values), self.origin(path))
        except InvalidInput as exc:
            raise self.refusal(exc, path) from None

    def value(self, path: FieldPath, value: Any) -> Any:
        """A parameter value: scalars as they are, strings with ``${…}`` as templates."""
        if isinstance(value, str):
            return self.template(path, value)
        if isinstance(value, list):
            return tuple(self.value((*path, i), v) for i, v in enumerate(value))
        if isinstance(value, dict):
            return {str(k): self.value((*path, k), v) for k, v in value.items()}
        return value

    def action(self, path: FieldPath, name: str) -> ActionSpec | None:
        """The profile's action ``name`` (``None`` without a profile)."""
        if self.profile is None:
            return None
        spec = self.profile.actions.get(name)
        if spec is None:
            known = ", ".join(self.profile.actions) or "none"
            raise self.fail(
                path,
                f"unknown action {name!r}{did_you_mean(name, self.profile.actions)}.",
                hint=f"The profile {self.profile.name!r} has: {known}.",
            )
        return spec
