"""``${…}`` references inside playbook strings: ``"bot flood (${inputs.reason})"``.

A reference is ``${inputs.NAME}``, ``${steps.ID.FIELD}``, ``${run.id}``, ``${run.operator}``,
``${incident.id}``, ``${playbook.name}`` or ``${now}``; ``$$`` is a literal ``$``. Nothing else
is evaluated: no expressions, no filters, no defaults inside ``${}`` — those belong in the
expression language or in an input's default. A string that is exactly one reference keeps the
value's type (``rollout_percent: "${inputs.percent}"`` stays an integer); otherwise values are
rendered as text (lists joined with ``, ``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ircli.playbook.context import RUN_FIELDS, Context, Origin, Reference, Scope
from ircli.wording import did_you_mean

__all__ = ["Template", "compile_template", "has_references", "render_value"]

_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$")
_PART = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
MAX_RENDERED = 64 * 1024


@dataclass(frozen=True)
class Template:
    """A string with references, checked when the playbook loads."""

    text: str
    parts: tuple[str | Reference, ...]
    origin: Origin

    @property
    def references(self) -> tuple[Reference, ...]:
        """The references it contains, in order."""
        return tuple(part for part in self.parts if isinstance(part, Reference))

    def render(self, context: Context) -> Any:
        """The rendered value: the referenced value itself when the string is one reference."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Reference):
            return context.resolve(self.parts[0], self.origin)
        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(_text(context.resolve(part, self.origin)))
        rendered = "".join(pieces)
        if len(rendered) > MAX_RENDERED:
            raise self.origin.failed(f"the rendered text is longer than {MAX_RENDERED} bytes.")
        return rendered


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def has_references(text: str) -> bool:
    """Whether ``text`` contains ``$`` at all (only such strings become templates)."""
    return "$" in text


def compile_template(text: str, scope: Scope, origin: Origin) -> Template | str:
    """``text`` with its references checked; a plain string when it has none."""
    if not has_references(text):
        return text
    parts: list[str | Reference] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal = text[position : match.start()]
        position = match.end()
        piece = match.group(0)
        if piece == "$$":
            literal += "$"
        elif piece == "$":
            raise origin.invalid(
                "a '$' must start a reference such as ${inputs.reason}.",
                hint="Write $$ for a literal dollar sign.",
            )
        if literal:
            if parts and isinstance(parts[-1], str):
                parts[-1] += literal
            else:
                parts.append(literal)
        if piece.startswith("${"):
            parts.append(_reference(match.group(1).strip(), scope, origin))
    tail = text[position:]
    if tail:
        if parts and isinstance(parts[-1], str):
            parts[-1] += tail
        else:
            parts.append(tail)
    if all(isinstance(part, str) for part in parts):
        return "".join(part for part in parts if isinstance(part, str))
    return Template(text, tuple(parts), origin)


def _reference(body: str, scope: Scope, origin: Origin) -> Reference:
    names = body.split(".")
    if not body or not all(_PART.fullmatch(name) for name in names):
        raise origin.invalid(
            f"${{{body}}} is not a reference.",
            hint="References look like ${inputs.reason}, ${steps.find_bots.count} or ${run.id}.",
        )
    root = names[0]
    if root == "now" and len(names) == 1:
        return Reference(("now",))
    if root == "inputs":
        if len(names) != 2:
            raise origin.invalid("write ${inputs.NAME}.")
        if names[1] not in scope.inputs:
            raise origin.invalid(
                f"unknown input {names[1]!r}{did_you_mean(names[1], scope.inputs)}."
            )
        return Reference(("inputs", names[1]))
    if root == "steps":
        return _step_reference(names, scope, origin)
    if root in RUN_FIELDS:
        fields = RUN_FIELDS[root]
        if len(names) != 2 or names[1] not in fields:
            listed = ", ".join(f"${{{root}.{f}}}" for f in sorted(fields))
            raise origin.invalid(f"unknown reference ${{{body}}}; use {listed}.")
        return Reference((root, names[1]))
    if root in scope.values and len(names) == 1:
        return Reference((root,))
    known: Mapping[str, object] = dict.fromkeys(("inputs", "steps", "now", *RUN_FIELDS))
    raise origin.invalid(f"unknown reference ${{{body}}}{did_you_mean(root, known)}.")


def _step_reference(names: list[str], scope: Scope, origin: Origin) -> Reference:
    if len(names) != 3:
        raise origin.invalid("write ${steps.ID.FIELD}, for example ${steps.find_bots.count}.")
    step, field = names[1], names[2]
    problem = scope.step_problem(step, field)
    if problem is not None:
        raise origin.invalid(problem)
    return Reference(("steps", step, field))


def render_value(value: Any, context: Context) -> Any:
    """``value`` with every ``Template`` inside it rendered (params are values or templates)."""
    if isinstance(value, Template):
        return value.render(context)
    if isinstance(value, list | tuple):
        return [render_value(v, context) for v in value]
    if isinstance(value, Mapping):
        return {k: render_value(v, context) for k, v in value.items()}
    return value
