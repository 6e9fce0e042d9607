"""The functions and operators an expression may call, and nothing else.

Each function checks its argument types and raises ``ExpressionError`` (a plain message) on
misuse, so a bad call becomes one clean sentence, never a Python traceback. Arithmetic is
numbers-only: ``"a" * 10**9`` or ``"%999999999d" % 1`` would otherwise be a memory bomb.
The age functions take the evaluation's ``now`` (epoch seconds) as a hidden last argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["FUNCTIONS", "NEEDS_NOW", "OPERATORS", "ExpressionError", "members"]

_MAX_INT = 2**128
_MAX_LIST = 1_000_000
_fromisoformat = datetime.fromisoformat


class ExpressionError(Exception):
    """A value-level failure inside an expression (wrong type, missing key, bad time)."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple | frozenset | set):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "a time" if isinstance(value, datetime) else "a value"


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExpressionError(f"{name} needs numbers, got {_kind(value)}")
    return value


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"{name}() needs a string, got {_kind(value)}")
    return value


def _sequence(name: str, value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple | frozenset | set):
        return value
    raise ExpressionError(f"{name}() needs a list, got {_kind(value)}")


def _checked(result: int | float) -> int | float:
    if isinstance(result, int) and abs(result) > _MAX_INT:
        raise ExpressionError("the number is too large")
    return result


def _add(a: Any, b: Any) -> int | float:
    return _checked(_number("+", a) + _number("+", b))


def _sub(a: Any, b: Any) -> int | float:
    return _checked(_number("-", a) - _number("-", b))


def _mul(a: Any, b: Any) -> int | float:
    return _checked(_number("*", a) * _number("*", b))


def _div(a: Any, b: Any) -> float:
    divisor = _number("/", b)
    if divisor == 0:
        raise ExpressionError("division by zero")
    return _number("/", a) / divisor


def _floordiv(a: Any, b: Any) -> int | float:
    divisor = _number("//", b)
    if divisor == 0:
        raise ExpressionError("division by zero")
    return _number("//", a) // divisor


def _mod(a: Any, b: Any) -> int | float:
    divisor = _number("%", b)
    if divisor == 0:
        raise ExpressionError("division by zero")
    return _number("%", a) % divisor


def _neg(a: Any) -> int | float:
    return -_number("-", a)


def _pos(a: Any) -> int | float:
    return +_number("+", a)


OPERATORS: Mapping[str, Callable[..., Any]] = {
    "Add": _add,
    "Sub": _sub,
    "Mult": _mul,
    "Div": _div,
    "FloorDiv": _floordiv,
    "Mod": _mod,
    "USub": _neg,
    "UAdd": _pos,
}
"""Arithmetic by AST operator name; every one numbers-only."""


def _len(value: Any) -> int:
    if isinstance(value, str | list | tuple | frozenset | set | Mapping):
        return len(value)
    raise ExpressionError(f"len() needs a string, list or object, got {_kind(value)}")


def _lower(value: Any) -> str:
    return _string("lower", value).lower()


def _upper(value: Any) -> str:
    return _string("upper", value).upper()


def _startswith(value: Any, prefix: Any) -> bool:
    return _string("startswith", value).startswith(_string("startswith", prefix))


def _endswith(value: Any, suffix: Any) -> bool:
    return _string("endswith", value).endswith(_string("endswith", suffix))


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, str):
        return _string("contains", needle) in haystack
    if isinstance(haystack, list | tuple | frozenset | set | Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise ExpressionError(f"contains() needs a string or list, got {_kind(haystack)}")


def _any_in(values: Any, pool: Any) -> bool:
    chosen = members(pool)
    try:
        return any(value in chosen for value in _sequence("any_in", values))
    except TypeError:
        raise ExpressionError("any_in() compares strings, numbers or booleans") from None


def _all_in(values: Any, pool: Any) -> bool:
    chosen = members(pool)
    try:
        return all(value in chosen for value in _sequence("all_in", values))
    except TypeError:
        raise ExpressionError("all_in() compares strings, numbers or booleans") from None


def _min(*values: Any) -> Any:
    return min(_number("min()", v) for v in _spread("min", values))


def _max(*values: Any) -> Any:
    return max(_number("max()", v) for v in _spread("max", values))


def _abs(value: Any) -> int | float:
    return abs(_number("abs()", value))


def _spread(name: str, values: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(values) == 1:
        values = tuple(_sequence(name, values[0]))
    if not values:
        raise ExpressionError(f"{name}() of nothing")
    return values


def _pluck(items: Any, field: Any) -> frozenset[Any]:
    """The distinct values of ``field`` across ``items`` (list fields are flattened)."""
    key = _string("pluck", field)
    found: set[Any] = set()
    for item in _sequence("pluck", items):
        value = item.get(key) if isinstance(item, Mapping) else None
        values = value if isinstance(value, list | tuple) else (value,)
        for one in values:
            if one is not None and isinstance(one, str | int | float | bool):
                found.add(one)
    return frozenset(found)


def _tally(items: Any, field: Any) -> dict[Any, int]:
    """How many ``items`` carry each value of ``field`` (list fields count each value)."""
    key = _string("tally", field)
    counts: Counter[Any] = Counter()
    for item in _sequence("tally", items):
        value = item.get(key) if isinstance(item, Mapping) else None
        values = value if isinstance(value, list | tuple) else (value,)
        for one in values:
            if one is not None and isinstance(one, str | int | float | bool):
                counts[one] += 1
    return dict(counts)


def _get(container: Any, key: Any, default: Any = None) -> Any:
    if isinstance(container, Mapping):
        try:
            return container.get(key, default)
        except TypeError:
            return default
    if isinstance(container, list | tuple):
        if (
            isinstance(key, int)
            and not isinstance(key, bool)
            and -len(container) <= key < len(container)
        ):
            return container[key]
        return default
    raise ExpressionError(f"get() needs an object or list, got {_kind(container)}")


def _timestamp(name: str, value: Any) -> float:
    if type(value) is str and len(value) <= 64:  # the common case first: filters run it per item
        try:
            moment = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ExpressionError(f"{name}() needs an ISO-8601 time or epoch seconds, got {_kind(value)}")


def _age_seconds(value: Any, now: float) -> float:
    return now - _timestamp("age_seconds", value)


def _age_hours(value: Any, now: float) -> float:
    return (now - _timestamp("age_hours", value)) / 3600.0


def _age_days(value: Any, now: float) -> float:
    return (now - _timestamp("age_days", value)) / 86400.0


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "len": _len,
    "lower": _lower,
    "upper": _upper,
    "startswith": _startswith,
    "endswith": _endswith,
    "contains": _contains,
    "any_in": _any_in,
    "all_in": _all_in,
    "min": _min,
    "max": _max,
    "abs": _abs,
    "get": _get,
    "pluck": _pluck,
    "tally": _tally,
    "age_seconds": _age_seconds,
    "age_hours": _age_hours,
    "age_days": _age_days,
}
"""Every function an expression may call (docs/playbooks.md lists them with examples)."""

ARITY: Mapping[str, tuple[int, int]] = {
    "len": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "contains": (2, 2),
    "any_in": (2, 2),
    "all_in": (2, 2),
    "min": (1, 16),
    "max": (1, 16),
    "abs": (1, 1),
    "get": (2, 3),
    "pluck": (2, 2),
    "tally": (2, 2),
    "age_seconds": (1, 1),
    "age_hours": (1, 1),
    "age_days": (1, 1),
}
"""Minimum and maximum number of arguments, checked at validation time."""

NEEDS_NOW = frozenset({"age_seconds", "age_hours", "age_days"})


def members(value: Any) -> Any:
    """``value`` made fast for ``in``: a list of hashables becomes a frozenset."""
    if isinstance(value, list | tuple) and len(value) <= _MAX_LIST:
        try:
            return frozenset(value)
        except TypeError:
            return value
    return value
