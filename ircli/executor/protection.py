"""Protected accounts in runs: resolved once per run before anything is sent, then applied.

``resolve_protection`` gives a run its ``ProtectedSet`` (``ircli.platform.protected``): the
profile's ``protected:`` block and that of ``ircli.yaml``, their listings walked through the
profile. ``plan_action`` drops the targets it holds; the journal records them, atomically
with ``run.started`` (or ``run.resumed``), as the outcome ``protected``, so they are counted,
shown by ``audit log --target`` and never sent by a resume. Automatic runs (``ircli watch``)
call ``resolve_protection`` without ``override``: only a person lifts protection, run by run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircli.errors import OperationFailed
from ircli.executor.journal import TargetResult
from ircli.platform.outcome import Outcome
from ircli.platform.protected import ProtectedSet, ProtectionSource

if TYPE_CHECKING:
    from ircli.executor.service import LoadedProfile, Workspace

__all__ = [
    "PROTECTED",
    "ROLLBACK_EXEMPT",
    "protection_sources",
    "require_resolved",
    "resolve_protection",
]

PROTECTED = TargetResult(Outcome.PROTECTED, None, 0, 0, "protected account: not sent")
"""The result of every target held back as protected (one group per record)."""
ROLLBACK_EXEMPT = ProtectedSet(exempt="a rollback only undoes what a run did")
"""What a rollback runs with: it reverts changes runs made, which a protected account only
has when a person overrode its protection."""


def protection_sources(workspace: Workspace, loaded: LoadedProfile) -> list[ProtectionSource]:
    """The ``protected:`` blocks in force for ``loaded``: the profile's, then the config
    file's (checked against the profile: a located ``InvalidInput`` when wrong)."""
    from ircli.platform.protected import read_config_protection

    found = []
    if loaded.profile.protected is not None:
        found.append(ProtectionSource("profile", loaded.path, loaded.profile.protected))
    if workspace.config_file is not None:
        config = read_config_protection(workspace.config_file, loaded.profile)
        if config is not None:
            found.append(ProtectionSource("config", workspace.config_file, config))
    return found


async def resolve_protection(
    workspace: Workspace,
    loaded: LoadedProfile,
    *,
    override: str | None = None,
    kind: str | None = None,
) -> ProtectedSet:
    """The run's protected accounts: every source's ids and listing reads, united (the
    reads counted as the record's ``http_requests``).

    ``override``: a person's reason to lift them for this run (``--override-protected
    --reason``; never a playbook's or an automatic run's): nothing is held back, and the
    record says who lifted them and why. ``kind``: the one target kind a run acts on (an
    ad-hoc action), so that a flag flip waits for no read. Raises when a listing cannot be
    read: nothing may be sent."""
    from ircli.executor.service import platform_client
    from ircli.platform import auth_headers
    from ircli.platform.protected import resolve_protected
    from ircli.platform.sent import counting, http_requests

    sources = protection_sources(workspace, loaded)
    profile = loaded.profile
    with counting() as reads:
        if any(source.protected.accounts.listings for source in sources):
            headers = auth_headers(profile, workspace.env, workspace.redactor)
            async with platform_client(profile, headers, workspace.env, concurrency=1) as client:
                protected = await resolve_protected(profile, sources, client.http, kind=kind)
        else:
            protected = await resolve_protected(profile, sources, None, kind=kind)
    protected = protected.with_reads(http_requests(reads))
    if override is None:
        return protected
    return protected.overridden(workspace.store.operator, override)


def require_resolved(workspace: Workspace, loaded: LoadedProfile) -> None:
    """Refuse to plan without a resolved protection where accounts are declared protected:
    a caller that forgot it must not act unprotected."""
    declared = protection_sources(workspace, loaded)
    if any(source.protected.accounts.ids or source.protected.accounts.listings
           for source in declared):  # fmt: skip
        raise OperationFailed(
            f"the profile {loaded.ref!r} or the config file declares protected accounts, but "
            "this run did not resolve them; nothing was sent."
        )
