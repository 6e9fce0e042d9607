"""Drills: a playbook run against the sandbox, scored, judged by pass criteria, reported.

::

    config = DrillConfig(playbook=Path("playbooks/live-flood-containment.yaml"),
                         criteria=default_criteria(), seed=7)
    result = await run_drill(workspace, config)        # -> DrillResult
    result.passed, result.criteria, result.score, result.incident

``--pass EXPR`` is ``compile_criterion(EXPR)``: one expression over the score fields and
``audit_ok``. How drills work and how to run them in CI: docs/drills.md.
"""

from __future__ import annotations

from ircli.drill.criteria import (
    CRITERION_NAMES,
    DEFAULT_CRITERIA,
    SCORE_FIELDS,
    Criterion,
    CriterionResult,
    compile_criterion,
    default_criteria,
    evaluate_criteria,
)
from ircli.drill.model import DEFAULT_WATCH_ATTACK_START, DrillConfig, DrillResult, WorldSize
from ircli.drill.service import (
    PlaybookRunner,
    RunSummary,
    check_config,
    default_runner,
    drill_title,
    fetch_score,
    run_drill,
)

__all__ = [
    "CRITERION_NAMES",
    "DEFAULT_CRITERIA",
    "DEFAULT_WATCH_ATTACK_START",
    "SCORE_FIELDS",
    "Criterion",
    "CriterionResult",
    "DrillConfig",
    "DrillResult",
    "PlaybookRunner",
    "RunSummary",
    "WorldSize",
    "check_config",
    "compile_criterion",
    "default_criteria",
    "default_runner",
    "drill_title",
    "evaluate_criteria",
    "fetch_score",
    "run_drill",
]
