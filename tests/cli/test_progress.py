"""The run progress counts, fed engine events."""

from __future__ import annotations

import io

from ircli.cli.display import Display
from ircli.cli.progress import RunProgress
from ircli.executor.events import RetryScheduled, TargetsSettled
from ircli.executor.journal import TargetResult
from ircli.platform.model import Outcome


def test_counts_tell_failed_from_unresolved_and_count_retries() -> None:
    progress = RunProgress(Display(io.StringIO(), io.StringIO(), json_mode=True), "a.b", 10)
    progress(TargetsSettled(("a", "b", "c"), TargetResult(Outcome.DONE, 200, 1, 5)))
    progress(RetryScheduled(2, 0.1, "HTTP 503"))
    progress(RetryScheduled(2, 0.2, "HTTP 503"))
    progress(TargetsSettled(("d",), TargetResult(Outcome.FAILED, 404, 1, 5, "HTTP 404")))
    progress(TargetsSettled(("e", "f"), TargetResult(Outcome.RETRYABLE, 503, 6, 900, "gave up")))
    assert (progress.settled, progress.failed, progress.unresolved, progress.retries) == (
        6, 1, 2, 4,
    )  # fmt: skip
