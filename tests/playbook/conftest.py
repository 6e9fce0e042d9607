"""The loopback sandbox fixtures of the executor tests, shared with the runner tests."""

from tests.executor.conftest import ircli, platform, sandbox

__all__ = ["ircli", "platform", "sandbox"]
