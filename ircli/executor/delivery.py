"""Getting a run's generated values to the account owners, and nowhere else.

A run of an action with ``generate`` keeps its generation key in a private file,
``<data dir>/generated/<RUN>.key`` (0600, in a 0700 directory), written before the first
request so that ``runs resume`` sends every target the same values again, and removed when the
run completes. The values of each
target that ends ``done`` go where the profile's ``deliver`` says, as the target settles:

* by default a private file, ``<data dir>/generated/<RUN>.tsv``: ``target<TAB>name<TAB>value``;
* ``deliver: {command: [...]}``: the command, started when the run starts, reads one JSON object
  per target on its stdin (``{"run": …, "target": …, "password": …}``) until the run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path
from typing import IO

from ircli.errors import InvalidInput, OperationFailed
from ircli.platform.actions import ActionSpec
from ircli.platform.generate import KEY_BYTES, Generator

__all__ = ["Delivery", "forget_key", "generator_for"]


def _folder(data_dir: Path) -> Path:
    folder = data_dir / "generated"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def generator_for(action: ActionSpec, run: str, data_dir: Path, *, resuming: bool) -> Generator:
    """The run's generator: a new key for a new run, the kept one for a resume."""
    key_file = _folder(data_dir) / f"{run}.key"
    if resuming:
        try:
            key = key_file.read_bytes()
        except OSError:
            raise InvalidInput(
                f"{key_file}: the key of {run}'s generated values is gone, so a resume could not "
                "send the same values again; nothing was sent.",
                hint="Start a new run for the targets left.",
            ) from None
        if len(key) != KEY_BYTES:
            raise InvalidInput(f"{key_file}: not a key of generated values; nothing was sent.")
        return Generator(action.generate, key)
    generator = Generator(action.generate)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(generator.key)
        handle.flush()
        os.fsync(handle.fileno())
    return generator


def forget_key(run: str, data_dir: Path | None) -> None:
    """Remove ``run``'s key once every target has settled: it could make the values again."""
    if data_dir is not None:
        (data_dir / "generated" / f"{run}.key").unlink(missing_ok=True)


class Delivery:
    """Where the values of targets done go: a private file, or a command's stdin."""

    def __init__(self, action: ActionSpec, run: str, data_dir: Path) -> None:
        self.run = run
        self.command = action.deliver.command if action.deliver else None
        self.path: Path | None = None
        self._failed: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes]
        if self.command is not None:
            try:
                self._process = subprocess.Popen(  # the profile's own program, no shell
                    list(self.command), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
                )
            except OSError as exc:
                raise InvalidInput(
                    f"cannot start the delivery command {self.command[0]!r} "
                    f"({exc.strerror}); nothing was sent."
                ) from None
            assert self._process.stdin is not None
            self._out = self._process.stdin
        else:
            self.path = _folder(data_dir) / f"{run}.tsv"
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            self._out = os.fdopen(os.open(self.path, flags, 0o600), "ab")

    def deliver(self, target: str, values: dict[str, str]) -> None:
        """Hand on ``target``'s values (flushed at once: a crash loses none delivered). A
        failure does not stop the run; ``close`` reports it."""
        if self._failed is not None:
            return
        if self.command is not None:
            line = json.dumps({"run": self.run, "target": target, **values}) + "\n"
        else:
            line = "".join(f"{target}\t{name}\t{value}\n" for name, value in values.items())
        try:
            self._out.write(line.encode())
            self._out.flush()
        except OSError as exc:
            self._failed = exc.strerror or type(exc).__name__

    def close(self) -> None:
        """Finish: close the file, or end the command's input and wait for it."""
        with contextlib.suppress(OSError):
            self._out.close()
        where = repr(self.command[0]) if self.command else str(self.path)
        if self._process is not None:
            try:
                code = self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                code = self._process.wait()
            if code != 0 and self._failed is None:
                self._failed = f"it exited {code}"
        if self._failed is not None:
            raise OperationFailed(
                f"delivering the generated values of {self.run} to {where} failed "
                f"({self._failed}): some may not have reached their owners."
            )
