"""``ircli report``: an incident's post-mortem report in Markdown, HTML, JSON, CSV or Timesketch,
or its EU DSA statements of reasons (``-f dsa``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ircli.cli.audit import write_private
from ircli.cli.helptext import example
from ircli.cli.options import parse_pairs
from ircli.cli.state import CliState, state_of
from ircli.errors import InvalidInput

if TYPE_CHECKING:
    from ircli.dsarules import Reasons
    from ircli.report.dsa import Decisions

__all__ = ["EPILOG", "report", "statements_text"]

EPILOG = example(
    "ircli report INC-20261128-7QK2 --format md",
    "ircli report INC-20261128-7QK2 --format html -o reports/INC-20261128-7QK2.html",
    "ircli report INC-20261128-7QK2 -f dsa -o statements.jsonl",
    "ircli report INC-20261128-7QK2 -f targets.csv -o targets.csv",
)


def report(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident id.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md (default; json with --json), html, json, csv (timeline), timesketch, "
            "targets.csv (one row per run, action and target, with its final outcome) or dsa "
            "(statements of reasons).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (0600), not stdout.")
    ] = None,
    dsa_ground: Annotated[
        str | None,
        typer.Option("--dsa-ground", metavar="GROUND", help="-f dsa: the decision_ground."),
    ] = None,
    dsa_category: Annotated[
        str | None,
        typer.Option("--dsa-category", metavar="CATEGORY", help="-f dsa: the category."),
    ] = None,
    dsa_facts: Annotated[
        str | None,
        typer.Option("--dsa-facts", metavar="TEXT", help="-f dsa: the decision_facts."),
    ] = None,
    dsa_fields: Annotated[
        list[str] | None,
        typer.Option(
            "--dsa-field",
            metavar="NAME=VALUE",
            help="-f dsa: any other field of the reasons (repeatable; lists comma-separated).",
        ),
    ] = None,
) -> None:
    """Write an incident's report, ending with the audit head and its verification.

    With -f dsa: one EU DSA statement of reasons per account or content decision carried out,
    as JSON Lines (docs/dsa.md); exit 2, writing nothing, when a statement would lack its
    ground, category or facts or break the database's rules.
    """
    from ircli.report import check_format

    state = state_of(ctx)
    if state.display.json_mode and fmt not in (None, "json"):
        raise InvalidInput(f"--json prints the JSON report; drop --json to write {fmt}.")
    fmt = check_format(fmt or ("json" if state.display.json_mode else "md"))
    pairs = parse_pairs(dsa_fields or [], "--dsa-field")
    named = {"decision_ground": dsa_ground, "category": dsa_category, "decision_facts": dsa_facts}
    pairs |= {name: value for name, value in named.items() if value is not None}
    if pairs and fmt != "dsa":
        raise InvalidInput("the --dsa-… options apply to --format dsa only.")
    if fmt == "dsa":
        from ircli.dsarules import Reasons

        given = Reasons.from_pairs(pairs, "--dsa-… options") if pairs else None
        _write(state, output, statements_text(state, incident_id, given))
        return
    from ircli.report import build_report, render

    built = build_report(state.store(), incident_id, now=state.environment.clock())
    _write(state, output, render(built, fmt))
    if not built.audit.ok:
        state.display.warning(f"the audit chain does not verify: {built.audit.summary}")


def _write(state: CliState, output: Path | None, text: str) -> None:
    if output is None:
        # Renderers make every value inert for their format (escaped HTML/Markdown, visible
        # control characters, ASCII-only JSON), so the document is written as it is.
        state.environment.stdout.write(text)
        state.environment.stdout.flush()
    else:
        count = write_private(output, [text])
        state.display.info(f"wrote {output} ({count} bytes)")


def statements_text(state: CliState, incident_id: str, given: Reasons | None) -> str:
    """The incident's DSA statements of reasons as JSON Lines, with the reasons of
    ``ircli.yaml`` (``dsa:``), each run's playbook and ``given``, field by field."""
    from ircli.report.build import check_chain
    from ircli.report.dsa import build_statements, render_statements

    store = state.store()
    head = store.head()
    if head is not None and not (verified := check_chain(store, head.seq, head.hash)).ok:
        state.display.warning(f"the audit chain does not verify: {verified.summary}")
    statements = build_statements(
        store,
        incident_id,
        decisions=_profile_decisions(state),
        config=config_reasons(state),
        given=given,
        redact=state.display.redactor.text,
    )
    if not statements:
        state.display.info(
            f"no DSA statements: {incident_id} has no target done by an action its profile "
            "maps to a decision."
        )
    return render_statements(statements)


def config_reasons(state: CliState) -> Reasons | None:
    """The ``dsa:`` block of the config file in force, if any."""
    path = state.settings.config_file
    if path is None:
        return None
    from ircli.dsarules import Reasons
    from ircli.yamlfile import load_yaml_file

    return Reasons.read(load_yaml_file(path), "dsa")


def _profile_decisions(state: CliState) -> Decisions:
    """Read for runs recorded before runs kept their own dsa mapping (``dsa_decision``)."""
    import hashlib

    from ircli.platform import load_profile, profile_search_dirs, resolve_profile
    from ircli.report.dsa import ProfileDecisions

    env = state.environment

    def decisions(ref: str) -> ProfileDecisions:
        if not ref:
            raise InvalidInput("a run with an action recorded no profile.")
        path = resolve_profile(ref, profile_search_dirs(env.user_config_dir()), cwd=env.cwd)
        # Without env: the mapping is all that is read; unset variables do not matter here.
        actions = load_profile(path).actions
        return ProfileDecisions(
            hashlib.sha256(path.read_bytes()).hexdigest(),
            {name: action.dsa for name, action in actions.items() if action.dsa is not None},
        )

    return decisions
