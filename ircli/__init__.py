"""ircli: an incident-response command-line toolkit.

The package is layered: ``ircli.cli`` (Typer + Rich, the only user-interface code) calls the
domain packages (``ircli.audit``, ``ircli.incident``, ``ircli.sandbox`` …), which use the small
shared modules (``ircli.errors``, ``ircli.config``, ``ircli.clock``, ``ircli.redaction``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
