"""Protected accounts: targets no action may touch, declared in a profile or ``ircli.yaml``.

The same ``protected:`` block is read from both (docs/profiles.md)::

    protected:
      accounts:
        ids: [acc_0000001]
        listings:
          - {listing: accounts, filters: {verified: "true"}}
        owned: {streams: account_id}

``ids`` are protected as written; each of ``listings`` is walked through the profile once per
run, before anything is sent, and every id it yields is protected too (``resolve_protected``).
The union of both files is a ``ProtectedSet``: the executor drops its members from every
action whose ``target:`` is the accounts listing (``target``, default ``accounts``), and the
objects of an ``owned`` listing (a stream) whose item names a protected account in the given
field, where a listing read of this run showed that item. Only a person can lift it, run by
run (``--override-protected``); a playbook cannot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, WithJsonSchema

from ircli.errors import InvalidInput, OperationFailed
from ircli.platform.actions import REFERENCE_HINT, ProfileDocument
from ircli.platform.ids import usable_id
from ircli.shapes import Document, Located, Shape, Word, document, query_text
from ircli.shapes.problems import first_problem
from ircli.wording import not_among

if TYPE_CHECKING:
    import httpx

    from ircli.platform.listing import Skipped
    from ircli.platform.model import ListingSpec, Profile

__all__ = [
    "Protected",
    "ProtectedAccounts",
    "ProtectedListing",
    "ProtectedSet",
    "ProtectionSource",
    "read_config_protection",
    "resolve_protected",
]


DEFAULT_TARGET = "accounts"


def _listings(doc: Document | None) -> Mapping[str, ListingSpec] | None:
    """The profile's listings while a document is read (``None``: unknown, checks wait)."""
    return doc.listings if isinstance(doc, ProfileDocument) else None


def _no_listing(name: str, listings: Mapping[str, Any]) -> str:
    return not_among(f"the profile has no listing {name!r}", name, listings, "its listings")


def _filter_values(value: Any, info: ValidationInfo) -> Any:
    """Filter values as the listing is sent them: strings (numbers and booleans written
    plainly are turned into their text, as in a playbook query)."""
    doc = document(info)
    if not isinstance(value, dict):
        return value
    values: dict[Any, Any] = {}
    for name, raw in value.items():
        text = query_text(raw)
        if text is not None or doc is None:
            values[name] = raw if text is None else text
        else:
            raise doc.fail(doc.here("filters", name), "a filter value must be a string, "
                           "number or boolean.")  # fmt: skip
    return values


class ProtectedListing(Located):
    """A listing read whose every item is protected: walked once per run, before anything
    is sent."""

    listing: Word
    """A listing of the profile; its items' ids are the protected accounts' ids."""
    filters: Annotated[
        Mapping[str, str],
        BeforeValidator(_filter_values),
        WithJsonSchema(
            {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
        ),
    ] = Field(default_factory=dict)
    """The listing's filters (its ``filters:``), as ``--where`` and playbook queries pass them."""

    def cross_check(self, doc: Document) -> None:
        listings = _listings(doc)
        if listings is None:
            return
        spec = listings.get(self.listing)
        if spec is None:
            raise doc.fail(doc.here("listing"), _no_listing(self.listing, listings))
        for name in self.filters:
            if name not in spec.filters:
                raise doc.fail(doc.here("filters", name), spec.no_filter(name), at_key=True)

    def described(self) -> dict[str, Any]:
        """For the run's records: which listing, with which filters."""
        return {"listing": self.listing, "filters": dict(self.filters)}


def _usable_ids(value: Any, info: ValidationInfo) -> Any:
    doc = document(info)
    if doc is None or not isinstance(value, list):
        return value
    for index, item in enumerate(value):
        if isinstance(item, str) and not usable_id(item):
            raise doc.fail(
                doc.here("ids", index),
                f"{item!r} cannot name an account (empty, '.', '..', over 512 characters or "
                "with control characters).",
            )
    return value


class ProtectedAccounts(Located):
    """Accounts that no action may touch (dropped, counted and recorded as ``protected``)."""

    target: Word | None = None
    """The profile's listing of accounts (default ``accounts``): actions whose ``target:`` it
    is are checked. A config file leaves it out: it is the profile's."""
    ids: Annotated[tuple[Word, ...], BeforeValidator(_usable_ids)] = ()
    """Account ids, protected as written."""
    listings: tuple[ProtectedListing, ...] = ()
    """Listing reads whose items are protected (e.g. verified accounts, staff)."""
    owned: Mapping[Word, Word] = Field(default_factory=dict)
    """Other listings whose objects belong to an account: listing → the item field naming its
    account (``streams: account_id``); such an object of a protected account is protected too,
    when a listing read of the run showed it."""

    def cross_check(self, doc: Document) -> None:
        listings = _listings(doc)
        if listings is None:
            return
        if self.target is not None and self.target not in listings:
            raise doc.fail(doc.here("target"), _no_listing(self.target, listings))
        if self.target is None and doc.noun == "profile" and DEFAULT_TARGET not in listings:
            raise doc.fail(
                doc.here(),
                _no_listing(DEFAULT_TARGET, listings),
                hint="Name the listing of its accounts with target: LISTING.",
                at_key=True,
            )
        for name in self.owned:
            if name not in listings:
                raise doc.fail(doc.here("owned", name), _no_listing(name, listings), at_key=True)
            if name == (self.target or DEFAULT_TARGET):
                raise doc.fail(
                    doc.here("owned", name),
                    f"{name!r} is the accounts listing itself, not one whose objects belong "
                    "to an account.",
                    at_key=True,
                )


class Protected(Shape):
    """What no action may touch: the ``protected:`` block of a profile or ``ircli.yaml``."""

    accounts: ProtectedAccounts


@dataclass(frozen=True)
class ProtectionSource:
    """One file's ``protected:`` block: ``profile`` or ``config``, and the file."""

    origin: str
    file: Path
    protected: Protected


def read_config_protection(path: Path, profile: Profile) -> Protected | None:
    """The ``protected:`` block of the config file at ``path``, if any, checked against
    ``profile`` (its listings and their filters); a problem is one located ``InvalidInput``."""
    from ircli.yamlfile import load_yaml_file

    loaded = load_yaml_file(path)
    data = loaded.data
    if not isinstance(data, dict) or data.get("protected") is None:
        return None
    doc = ProfileDocument(loaded, "config file", REFERENCE_HINT, listings=profile.listings)
    try:
        with doc.inside(("protected",)):
            return Protected.model_validate(data["protected"], context=doc)
    except ValidationError as error:
        raise first_problem(error, doc, ("protected",), data["protected"]) from None


@dataclass(frozen=True)
class ProtectedSet:
    """The protected accounts of one run, resolved; ``held`` says which targets it drops.

    With ``override`` (a person's ``--override-protected``) it holds nothing back, and says
    so in the run's records."""

    target: str = DEFAULT_TARGET
    ids: frozenset[str] = frozenset()
    owned: Mapping[str, str] = field(default_factory=dict)
    """listing → the item field naming the account an object belongs to."""
    sources: tuple[Mapping[str, Any], ...] = ()
    """What each file declared and what each listing read found (for ``run.started``)."""
    override: bool = False
    operator: str | None = None
    """Who overrode, with ``override``."""
    override_reason: str | None = None
    """Why, in their words."""
    exempt: str | None = None
    """Why this run is not checked at all (a rollback), else ``None``."""
    reads: Mapping[str, int] | None = None
    """The HTTP requests resolving it took, by kind, where the run resolved it itself (a
    playbook's step runs go with their playbook run's)."""
    applies: bool = True
    """False when resolved for a run whose targets cannot be accounts (its listings unread)."""

    @property
    def declared(self) -> bool:
        """Whether a profile or config file declares protected accounts at all."""
        return bool(self.sources)

    def sha256(self) -> str:
        """SHA-256 of the sorted ids, one a line: the same set gives the same digest."""
        return hashlib.sha256("\n".join(sorted(self.ids)).encode()).hexdigest()

    def overridden(self, operator: str, reason: str) -> ProtectedSet:
        """The same set, lifted for one run by ``operator``, for ``reason``."""
        return replace(self, override=True, operator=operator, override_reason=reason)

    def with_reads(self, reads: Mapping[str, int] | None) -> ProtectedSet:
        """The same set, with the requests resolving it took (``None``: not this run's)."""
        return replace(self, reads=reads)

    def held(
        self, kind: str, targets: Iterable[str], owners: Mapping[str, str] | None = None
    ) -> list[str]:
        """The ``targets`` of an action on ``kind`` objects that are protected: accounts in
        the set, or objects of an ``owned`` listing whose account (``owners``: id → account,
        from listing reads) is in it. Nothing under ``override``."""
        if self.override or self.exempt is not None or not self.ids:
            return []
        ids = self.ids
        if kind == self.target:
            return [target for target in targets if target in ids]
        if kind in self.owned and owners:
            return [target for target in targets if owners.get(target) in ids]
        return []

    def record(self) -> dict[str, Any]:
        """What ``run.started`` says of the protection the run went with."""
        if self.exempt is not None:
            return {"exempt": self.exempt}
        found: dict[str, Any] = {
            "target": self.target,
            "applies": self.applies,
            "ids": len(self.ids),
            "sha256": self.sha256(),
            "sources": [dict(source) for source in self.sources],
            "override_protected": self.override,
        }
        if self.override:
            found["operator"] = self.operator
            found["override_reason"] = self.override_reason
        if self.reads is not None:
            found["http_requests"] = dict(self.reads)
        return found


async def resolve_protected(
    profile: Profile,
    sources: Sequence[ProtectionSource],
    client: httpx.AsyncClient | None,
    *,
    headers: Mapping[str, str] | None = None,
    kind: str | None = None,
) -> ProtectedSet:
    """The union of ``sources``' protected accounts, their listings walked through
    ``profile`` with ``client`` (unused when no source names a listing). ``kind``: the only
    target kind the run acts on; when it can hold no account (a flag), nothing is read and
    the set ``applies`` to nothing.

    A listing that cannot be read is an ``OperationFailed`` (or, for a filter the platform
    refuses, ``InvalidInput``) naming where it was declared, the URL and the cause: a run
    never goes on unprotected."""
    target = _target(profile, sources)
    owned: dict[str, str] = {}
    for source in sources:
        owned.update(source.protected.accounts.owned)
    applies = kind is None or kind == target or kind in owned
    ids: set[str] = set()
    described: list[dict[str, Any]] = []
    for source in sources:
        accounts = source.protected.accounts
        walked = []
        for entry in accounts.listings:
            if not applies:
                walked.append(entry.described())
                continue
            found, skipped = await _walk(profile, entry, client, headers)
            ids.update(found)
            walked.append({**entry.described(), "ids": len(found), **skipped.as_params()})
        ids.update(accounts.ids if applies else ())
        described.append(
            {"from": source.origin, "file": str(source.file), "ids": len(accounts.ids),
             "listings": walked}
        )  # fmt: skip
    return ProtectedSet(target, frozenset(ids), owned, tuple(described), applies=applies)


def _target(profile: Profile, sources: Sequence[ProtectionSource]) -> str:
    """The listing of the protected accounts: the profile's ``target`` (default
    ``accounts``), which a config file may repeat but not change."""
    written = profile.protected.accounts.target if profile.protected is not None else None
    target = written or DEFAULT_TARGET
    for source in sources:
        accounts = source.protected.accounts
        if accounts.target in (None, target) and target in profile.listings:
            continue
        raise InvalidInput(
            f"{accounts.location}: {accounts.path}: "
            + (
                f"the profile {profile.name!r} protects the accounts of its listing "
                f"{target!r}, not {accounts.target!r}."
                if target in profile.listings
                else f"the profile {profile.name!r} has no listing {target!r} to protect."
            ),
            hint="Name the profile's listing of accounts with protected -> accounts -> target "
            "in the profile.",
        )
    return target


async def _walk(
    profile: Profile,
    entry: ProtectedListing,
    client: httpx.AsyncClient | None,
    headers: Mapping[str, str] | None,
) -> tuple[set[str], Skipped]:
    """The ids ``entry``'s listing read yields, and the items it skipped (unusable ids)."""
    from ircli.platform import listing  # httpx: only when a listing is read

    if client is None:
        raise OperationFailed(
            f"{entry.location}: the protected accounts name a listing, but there is no "
            "connection to read it; nothing was sent."
        )
    id_field = profile.listings[entry.listing].id
    skipped = listing.Skipped()
    found: set[str] = set()
    try:
        async for item in listing.iter_items(
            client, profile, entry.listing, entry.filters, headers=headers, skipped=skipped
        ):
            found.add(str(item[id_field]))
    except InvalidInput as error:  # a filter value the platform refuses
        raise InvalidInput(
            _unresolved(entry, error), hint="Check the filters of this protected listing."
        ) from None
    except OperationFailed as error:
        raise OperationFailed(_unresolved(entry, error), hint=error.hint) from None
    return found, skipped


def _unresolved(entry: ProtectedListing, error: InvalidInput | OperationFailed) -> str:
    return (
        f"{entry.location}: {entry.path}: the protected accounts cannot be resolved, so "
        f"nothing is sent: {error.message}"
    )
