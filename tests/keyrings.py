"""Keyring backends for the tests: one in memory (``memory_keyring``, in-process) and one in a
JSON file, for ``ircli`` processes (``PYTHON_KEYRING_BACKEND=tests.keyrings.FileKeyring`` with
``IRCLI_TEST_KEYRING`` naming the file; run them from the source tree, so ``tests`` imports)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from jaraco.classes import properties

__all__ = ["FILE_VARIABLE", "FileKeyring", "MemoryKeyring", "memory_keyring"]

FILE_VARIABLE = "IRCLI_TEST_KEYRING"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class FileKeyring(keyring.backend.KeyringBackend):
    """Entries in the JSON file ``$IRCLI_TEST_KEYRING``: ``{"service user": password}``."""

    @properties.classproperty
    def priority(cls) -> float:
        if FILE_VARIABLE not in os.environ:
            raise RuntimeError(f"{FILE_VARIABLE} is not set")  # never chosen by accident
        return 1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_VARIABLE])

    def _entries(self) -> dict[str, str]:
        path = self._path()
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries().get(f"{service} {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = {**self._entries(), f"{service} {username}": password}
        self._path().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._entries()
        if entries.pop(f"{service} {username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._path().write_text(json.dumps(entries))


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring for this test (the previous backend comes back after)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
