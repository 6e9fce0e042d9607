"""Shared validation state for one playbook file: located fields, scopes, profile knowledge.

``Checker`` wraps ``ircli.platform.fields.Fields`` (typed, located reads with YAML-1.1 hints)
and adds what playbooks need: building the ``Scope`` of each dynamic field, compiling
expressions and templates at their YAML position, and reading queries against the profile's
listings when the profile is known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.fields import ANY_KEY, Fields, Path, did_you_mean
from ircli.platform.model import Profile
from ircli.playbook.context import STEP_RESULT_FIELDS, Origin, Scope
from ircli.playbook.expr import Expression, compile_expression
from ircli.playbook.model import Query
from ircli.playbook.templates import Template, compile_template
from ircli.redaction import is_secret_key

__all__ = ["Checker", "StepInfo"]

_QUERY_KEYS = ("listing", "filters", "where", "limit")
MAX_LIMIT = 10_000_000


class PlaybookFields(Fields):
    """``Fields`` whose secret-key refusal speaks of playbooks."""

    def mapping(
        self, path: Path, value: Any, allowed: Collection[str], required: Collection[str] = ()
    ) -> dict[str, Any]:
        if isinstance(value, dict):
            for key in value:
                if key not in allowed and is_secret_key(key):
                    raise self.fail(
                        (*path, key),
                        "a secret may not be written in a playbook.",
                        hint="Secrets belong in the profile's secret source or the configuration.",
                        at_key=True,
                    )
        return super().mapping(path, value, allowed, required)


@dataclass(frozen=True)
class StepInfo:
    """What later steps may know about an earlier one."""

    kind: str
    listing: str | None = None
    """For query/wait steps: the listing read; for action steps: the action's target kind."""


@dataclass
class Checker:
    """Validation state while one playbook file is read."""

    f: Fields
    profile: Profile | None
    inputs: frozenset[str] = frozenset()
    all_steps: frozenset[str] = frozenset()
    earlier: dict[str, StepInfo] = field(default_factory=dict)
    listing_fields: Mapping[str, Collection[str]] = field(default_factory=dict)
    """Known item fields per listing (for name-checking ``where`` filters)."""
    webhooks: Collection[str] | None = None
    """Configured webhook names; ``None`` when unknown (not checked)."""
    input_types: Mapping[str, str] = field(default_factory=dict)

    def origin(self, path: Path) -> Origin:
        return Origin(self.f.loaded.where(path), " -> ".join(str(p) for p in path))

    def fail(
        self, path: Path, message: str, *, hint: str | None = None, at_key: bool = False
    ) -> InvalidInput:
        return self.f.fail(path, message, hint=hint, at_key=at_key)

    def scope(self, *, values: Collection[str] = (), listing: str | None = None) -> Scope:
        """The names available to a field of the current step."""
        steps = {sid: STEP_RESULT_FIELDS[info.kind] for sid, info in self.earlier.items()}
        item_fields = None
        if listing is not None and listing in self.listing_fields:
            item_fields = frozenset(self.listing_fields[listing])
        return Scope(
            inputs=self.inputs,
            steps=steps,
            later_steps=self.all_steps - set(self.earlier),
            values=frozenset(values),
            item=listing is not None,
            item_fields=item_fields,
        )

    def expression(
        self, path: Path, value: Any, *, values: Collection[str] = (), listing: str | None = None
    ) -> Expression:
        text = self.f.string(path, value)
        scope = self.scope(values=values, listing=listing)
        return compile_expression(text, scope, self.origin(path))

    def template(self, path: Path, value: Any, *, values: Collection[str] = ()) -> str | Template:
        text = self.f.text(path, value)
        return compile_template(text, self.scope(values=values), self.origin(path))

    def value(self, path: Path, value: Any) -> Any:
        """A parameter value: scalars as they are, strings with ``${…}`` as templates."""
        if isinstance(value, str):
            return self.template(path, value)
        if isinstance(value, list):
            return tuple(self.value((*path, i), v) for i, v in enumerate(value))
        if isinstance(value, dict):
            return {str(k): self.value((*path, k), v) for k, v in value.items()}
        return value

    # -- queries -------------------------------------------------------------------------------

    def listing(self, path: Path, value: Any) -> str:
        name = self.f.string(path, value)
        if self.profile is not None and name not in self.profile.listings:
            known = ", ".join(self.profile.listings) or "none"
            raise self.fail(
                path,
                f"the profile {self.profile.name!r} has no listing {name!r}"
                f"{did_you_mean(name, self.profile.listings)}; its listings: {known}.",
            )
        return name

    def query(self, path: Path, value: Any) -> Query:
        """An inline query: ``{listing, filters, where, limit}``."""
        data = self.f.mapping(path, value, _QUERY_KEYS, required=("listing",))
        listing = self.listing((*path, "listing"), data["listing"])
        filters: dict[str, str | Template] = {}
        raw_filters = self.f.mapping((*path, "filters"), data.get("filters", {}), ANY_KEY)
        spec = self.profile.listings.get(listing) if self.profile is not None else None
        for name, raw in raw_filters.items():
            where = (*path, "filters", name)
            if spec is not None and name not in spec.filters:
                allowed = ", ".join(spec.filters) or "none"
                raise self.fail(
                    where,
                    f"the listing {listing!r} has no filter {name!r}"
                    f"{did_you_mean(name, spec.filters)}; its filters: {allowed}.",
                    at_key=True,
                )
            filters[name] = self._filter_value(where, raw)
        where_expr = None
        if data.get("where") is not None:
            where_expr = self.expression((*path, "where"), data["where"], listing=listing)
        limit = None
        if data.get("limit") is not None:
            limit = self.f.integer((*path, "limit"), data["limit"], minimum=1, maximum=MAX_LIMIT)
        return Query(
            listing=listing,
            location=self.f.loaded.where(path),
            path=" -> ".join(str(p) for p in path),
            filters=filters,
            where=where_expr,
            limit=limit,
        )

    def _filter_value(self, path: Path, raw: Any) -> str | Template:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, int | float):
            return str(raw)
        if isinstance(raw, str):
            return self.template(path, raw)
        raise self.fail(path, "a filter value must be a string, number or boolean.")
