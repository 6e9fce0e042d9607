"""Fill request templates: ``{target}``, ``{targets}``, ``{param.NAME}``, ``{var.NAME}``.

A string that is exactly one placeholder is replaced by the value itself (so ``"{targets}"``
becomes a JSON list and ``"{param.percent}"`` stays a number); placeholders inside longer
strings are interpolated as text. In the path, interpolated values are percent-encoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ircli.platform.model import RequestTemplate
from ircli.platform.templates import PLACEHOLDER, placeholders

__all__ = ["PLACEHOLDER", "PreparedRequest", "placeholders", "render"]


@dataclass(frozen=True)
class PreparedRequest:
    """A concrete request, relative to the profile's base URL."""

    method: str
    path: str
    query: Mapping[str, Any]
    json: Any = None
    form: Mapping[str, Any] | None = None


def render(
    template: RequestTemplate,
    *,
    target: str | None = None,
    targets: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
) -> PreparedRequest:
    """The concrete request for one target (or a batch of ``targets``)."""
    values: dict[str, Any] = {}
    if target is not None:
        values["target"] = target
    if targets is not None:
        values["targets"] = list(targets)
    for name, value in (params or {}).items():
        values[f"param.{name}"] = value
    for name, value in (variables or {}).items():
        values[f"var.{name}"] = value
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
