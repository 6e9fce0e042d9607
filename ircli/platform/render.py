"""Fill request templates: ``{target}``, ``{targets}``, ``{param.NAME}``, ``{var.NAME}``,
``{generate.NAME}``.

A string that is exactly one placeholder is replaced by the value itself (so ``"{targets}"``
becomes a JSON list and ``"{param.percent}"`` stays a number); placeholders inside longer
strings are interpolated as text. In the path, interpolated values are percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ircli.errors import InvalidInput
from ircli.platform.model import RequestTemplate
from ircli.platform.templates import PLACEHOLDER, placeholders

_CONTROL = re.compile("[\x00-\x1f\x7f]")

__all__ = ["PLACEHOLDER", "PreparedRequest", "check_headers", "placeholders", "render"]


@dataclass(frozen=True)
class PreparedRequest:
    """A concrete request, relative to the profile's base URL."""

    method: str
    path: str
    query: Mapping[str, Any]
    json: Any = None
    form: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def render(
    template: RequestTemplate,
    *,
    target: str | None = None,
    targets: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    generated: Mapping[str, str] | None = None,
) -> PreparedRequest:
    """The concrete request for one target (or a batch of ``targets``); ``generated`` holds
    the target's generated values (``ircli.platform.generate``)."""
    values: dict[str, Any] = {}
    if target is not None:
        values["target"] = target
    if targets is not None:
        values["targets"] = list(targets)
    for name, value in (params or {}).items():
        values[f"param.{name}"] = value
    for name, value in (variables or {}).items():
        values[f"var.{name}"] = value
    for name, value in (generated or {}).items():
        values[f"generate.{name}"] = value
    path = PLACEHOLDER.sub(
        lambda m: quote(str(_lookup(values, m.group(1))), safe=""), template.path
    )
    return PreparedRequest(
        method=template.method.upper(),
        path=path,
        query={k: _fill(v, values) for k, v in template.query.items()},
        json=_fill(template.body, values),
        form=None
        if template.form is None
        else {k: _fill(v, values) for k, v in template.form.items()},
        headers={k: str(_fill(v, values)) for k, v in template.headers.items()},
    )


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    if name not in values:
        raise KeyError(f"the template needs {{{name}}}, which was not given")
    return values[name]


def _fill(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(values, whole.group(1))
        return PLACEHOLDER.sub(lambda m: str(_lookup(values, m.group(1))), value)
    if isinstance(value, Mapping):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, values) for v in value]
    return value


def check_headers(
    template: RequestTemplate,
    *,
    params: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
) -> None:
    """Refuse, before anything is sent, header values that would carry a control character
    (a line break would end the header and start another): ``InvalidInput`` naming the
    request's place in the profile and the variable or parameter, never the value."""
    sources = {f"param.{k}": ("parameter", k, v) for k, v in (params or {}).items()}
    sources |= {f"var.{k}": ("variable", k, v) for k, v in (variables or {}).items()}
    for header, text in template.headers.items():
        names = [m.group(1) for m in PLACEHOLDER.finditer(text)]
        culprits = [
            sources[n] for n in names if n in sources and _CONTROL.search(str(sources[n][2]))
        ]
        if culprits or _CONTROL.search(PLACEHOLDER.sub("", text)):
            origin = f"the {culprits[0][0]} {culprits[0][1]!r}" if culprits else "its text"
            raise InvalidInput(
                f"{template.headers_location}: the {header} header would carry a control character "
                f"(a line break?) from {origin}; nothing was changed on the platform.",
                hint="Remove the line break where the value comes from (printf '%s' … rather "
                "than echo).",
            )
