"""The command-line interface: the only layer that imports Typer and Rich.

``run(argv, environment)`` is the single error boundary; ``main()`` calls it with the real
process environment and exits with its code.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING

from ircli.errors import ExitCode, IrcliError

if TYPE_CHECKING:
    from typer.core import TyperGroup

__all__ = ["main", "root_command", "run"]


def run(argv: Sequence[str], environment: object | None = None) -> int:
    """Run the CLI in-process and return its exit code; never raises (except SystemExit)."""
    import typer

    from ircli.cli.display import Display
    from ircli.cli.environment import Environment
    from ircli.cli.state import CliState

    env = environment if isinstance(environment, Environment) else Environment()
    display = Display(env.stdout, env.stderr, json_mode=False)
    state = CliState(environment=env, display=display, debug="--debug" in argv)
    command = root_command()
    try:
        with redirect_stdout(env.stdout), redirect_stderr(env.stderr):
            result = command.main(
                args=list(argv), prog_name="ircli", standalone_mode=False, obj=state
            )
        code = int(result) if isinstance(result, int) else ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into a return value of 130
            display.error("interrupted.")
        return code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        display.error("interrupted.")
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:
        # Usage errors (unknown option, missing argument, bad value): click's own message.
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=env.stderr)
        else:
            display.error(exc.format_message())
        return ExitCode.INVALID_INPUT
    except IrcliError as exc:
        if state.debug:
            env.stderr.write(display.redactor.text("".join(traceback.format_exception(exc))))
        display.error(exc.message, exc.hint)
        return exc.exit_code
    except Exception as exc:
        if state.debug:
            env.stderr.write(display.redactor.text("".join(traceback.format_exception(exc))))
        display.error(
            f"internal error ({type(exc).__name__}); this is a bug in ircli.",
            "Run again with --debug to see the traceback.",
        )
        return ExitCode.FAILED
    finally:
        state.close()


@functools.cache
def root_command() -> TyperGroup:
    """The click command behind the Typer app (cached: building it walks every command)."""
    import typer.main
    from typer.core import TyperGroup

    from ircli.cli.app import app

    command = typer.main.get_command(app)
    assert isinstance(command, TyperGroup)
    return command


def main() -> None:
    """Console-script entry point."""
    argv = sys.argv[1:]
    if argv == ["--version"]:  # answered before Typer and Rich are loaded
        from ircli import __version__

        sys.stdout.write(f"ircli {__version__}\n")
        sys.exit(0)
    sys.exit(run(argv))
