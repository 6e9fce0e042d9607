"""Load a watch file (YAML) into a ``WatchFile``, with its linked playbooks, before anything runs.

The shape lives on the model (``ircli.watch.model``). Beyond it, a watch file is checked
against its profile (listings and filters), its playbooks (each response's playbook loads
against the same profile, its inputs bind, and a pre-approved one declares no approval gate of
its own), and the profile's request rate (the signals' polls must fit in a tenth of it, so a
response still has the rest). Every problem is one ``file:line:col`` sentence.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ircli.errors import InvalidInput
from ircli.platform.model import Profile
from ircli.playbook.model import Playbook
from ircli.shapes import read_document
from ircli.watch.model import Response, WatchDocument, WatchFile
from ircli.yamlfile import load_yaml_file

__all__ = ["POLL_SHARE", "LoadedWatch", "load_watch", "poll_rate", "resolve_watch"]

POLL_SHARE = 0.1
"""The share of the profile's request rate the signals' polls may take at most."""


@dataclass(frozen=True)
class LoadedWatch:
    """A watch file with the playbook of each rule that responds (by rule name)."""

    watch: WatchFile
    playbooks: Mapping[str, Playbook]


def resolve_watch(ref: str, cwd: Path) -> Path:
    """A watch file by path, or by the name of a shipped one (``live-flood``)."""
    from ircli.playbook.catalog import resolve_file
    from ircli.watch.catalog import shipped_watch_dir

    hint = "The shipped ones are in watch/ (e.g. live-flood)."
    return resolve_file(ref, cwd, shipped_watch_dir(), "watch file", hint)


def poll_rate(watch: WatchFile, profile: Profile) -> float:
    """The most listing requests a second the signals can send (every poll reading every
    page up to ``max_items``)."""
    total = 0.0
    for signal in watch.signals.values():
        listing = profile.listings[signal.listing]
        size = listing.pagination.page_size if listing.pagination.kind != "none" else 1
        pages = 1 if listing.pagination.kind == "none" else -(-signal.max_items // size) + 1
        total += pages / signal.every
    return total


def load_watch(
    path: Path, *, profile: Profile, webhooks: Collection[str] | None = None
) -> LoadedWatch:
    """Load and check the watch file at ``path`` against ``profile`` (see the module text)."""
    from ircli.playbook.inputs import bind_inputs
    from ircli.playbook.loader import load_playbook
    from ircli.playbook.plans import required_approvals
    from ircli.playbook.runner import resolve_playbook

    loaded = load_yaml_file(path)
    doc = WatchDocument.of(loaded, profile=profile, webhooks=webhooks)
    if loaded.data is None:
        raise doc.fail((), "the watch file is empty.")
    watch = read_document(WatchFile, doc).model_copy(update={"source": loaded.source})
    rate = poll_rate(watch, profile)
    if rate > profile.limits.rate * POLL_SHARE:
        raise doc.fail(
            ("signals",),
            f"the signals may send {rate:,.1f} requests a second, more than "
            f"{POLL_SHARE:.0%} of the profile's rate ({profile.limits.rate:,.0f}/s).",
            hint="Poll less often (every:) or count fewer items (max_items:).",
        )
    playbooks: dict[str, Playbook] = {}
    for name, rule in watch.rules.items():
        response = rule.respond
        if response is None:
            continue
        where = ("rules", name, "respond")
        try:
            book = load_playbook(resolve_playbook(response.playbook, path.parent), profile=profile)
            bind_inputs(book, dict(response.inputs))
        except InvalidInput as exc:
            raise doc.fail(
                (*where, "playbook"),
                f"playbook {response.playbook!r}: {exc.message}",
                hint=exc.hint,
            ) from None
        _check_pre_approval(doc, where, response, book, required_approvals(book)[0])
        playbooks[name] = book
    return LoadedWatch(watch, playbooks)


def _check_pre_approval(
    doc: WatchDocument,
    where: tuple[str, ...],
    response: Response,
    book: Playbook,
    gates: int,
) -> None:
    if response.approval == "pre-approved" and gates:
        raise doc.fail(
            (*where, "approval"),
            f"the playbook {book.name!r} asks for {gates} approval(s) of its plan, so it cannot "
            "be pre-approved here.",
            hint="Use approval: person, or remove the playbook's approval gates.",
        )
