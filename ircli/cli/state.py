"""Per-invocation state handed to every command through ``ctx.obj``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from ircli.cli.display import Display
from ircli.cli.environment import Environment
from ircli.config import Settings, resolve_settings

if TYPE_CHECKING:
    from ircli.audit.credentials import StorePassword
    from ircli.audit.store import AuditStore
    from ircli.executor.service import Workspace

__all__ = ["CliState", "state_of"]


@dataclass
class CliState:
    """What the global options resolved to, plus lazily opened resources."""

    environment: Environment
    display: Display
    debug: bool = False
    flags: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _store: AuditStore | None = None
    _checked: bool = False
    _passwords: dict[str, StorePassword | None] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """Settings by precedence flag > env > file > default, resolved on first use."""
        if self._settings is None:
            env = self.environment
            self._settings = resolve_settings(
                flags=self.flags,
                env=env.env,
                cwd=env.cwd,
                user_config_dir=env.user_config_dir(),
                user_data_dir=env.user_data_dir(),
            )
        return self._settings

    def act_as(self, operator: str) -> None:
        """Record this command's actions under ``operator`` (``ircli watch``: ``watch:NAME``),
        before the store is opened."""
        from dataclasses import replace

        if self._store is not None:  # pragma: no cover - only if wired wrongly
            raise RuntimeError("act_as() after the audit store was opened")
        self._settings = replace(self.settings, operator=operator)

    def store(self, *, create: bool = False) -> AuditStore:
        """The audit store, opened (and migrated) on first use.

        Only writing commands pass ``create``: a mistyped path must not start a new chain.
        """
        if self._store is None:
            self._store = self.open_store(self.settings.db, create=create)
        if create and not self._checked:
            # Before anything is written (or sent): a damaged store stops the command.
            self._store.check()
            self._checked = True
        return self._store

    def open_store(self, target: str, *, create: bool) -> AuditStore:
        """Open the store at ``target`` (a path or URL) with this command's operator, clock
        and redactor, and the password ``password_source`` finds for a server."""
        from ircli.audit.store import open_store

        source = self.password_source(target)
        return open_store(
            target,
            operator=self.settings.operator,
            clock=self.environment.clock,
            redactor=self.display.redactor,
            create=create,
            password=None if source is None else source.value,
        )

    def password_source(self, target: str) -> StorePassword | None:
        """Where a server store's password comes from (None for SQLite, or a URL ircli
        will refuse). Every password seen is registered with the redactor first."""
        from sqlalchemy import exc
        from sqlalchemy.engine import make_url

        from ircli.audit.credentials import PASSWORD_ENV, check_no_password, store_password
        from ircli.audit.store import store_url
        from ircli.redaction import mask_url_password, url_password

        if target in self._passwords:
            return self._passwords[target]
        url = store_url(target)
        env = self.environment.env
        # A password in the URL is refused; it must not be echoed on the way.
        for secret in (url_password(url), env.get(PASSWORD_ENV), env.get("PGPASSWORD")):
            if secret:
                self.display.redactor.add_secret(secret)
        try:
            parsed = make_url(url)
        except exc.ArgumentError:
            return None  # open_store says what is wrong with it
        check_no_password(parsed, mask_url_password(url))
        found = None if parsed.get_backend_name() == "sqlite" else store_password(parsed, env)
        self._passwords[target] = found
        return found

    def store_key(self) -> str:
        """The store's URL with any password masked: how the store is named to people."""
        from ircli.audit.store import store_url
        from ircli.redaction import mask_url_password

        return mask_url_password(store_url(self.settings.db))

    def workspace(self, *, preflight: bool = True) -> Workspace:
        """What runs need: the store, the environment, directories and the redactor
        (``preflight``: read from the platform once before a run writes)."""
        from ircli.executor.crashpoints import crash_hook_from_env
        from ircli.executor.service import Workspace

        env = self.environment
        return Workspace(
            store=self.store(create=True),
            env=env.env,
            cwd=env.cwd,
            user_config_dir=env.user_config_dir(),
            redactor=self.display.redactor,
            crash=crash_hook_from_env(env.env),
            webhooks=self._webhooks(),
            data_dir=env.user_data_dir(),
            preflight=preflight,
            config_file=self.settings.config_file,
        )

    def _webhooks(self) -> dict[str, str]:
        hooks = dict(self.settings.webhooks)
        for url in hooks.values():  # webhook URLs often embed a token
            self.display.redactor.add_secret(url)
        return hooks

    def close(self) -> None:
        """Release resources opened during the command."""
        if self._store is not None:
            self._store.close()
            self._store = None


def state_of(ctx: typer.Context) -> CliState:
    """The ``CliState`` of the running invocation."""
    state = ctx.find_root().obj
    if not isinstance(state, CliState):  # pragma: no cover - only if wired wrongly
        raise TypeError("the CLI was invoked without its state object")
    return state
