# ruff: noqa: PT017 - the property tests check every refusal's message inline
"""The expression language: what it computes, what it refuses, and that it never escapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircli.errors import InvalidInput, OperationFailed
from ircli.playbook.context import Context, Origin, Scope
from ircli.playbook.expr import MAX_LENGTH, compile_expression
from ircli.yamlfile import Location

ORIGIN = Origin(Location("pb.yaml", 12, 14), "steps -> 2 -> query -> where")
PREFIX = "pb.yaml:12:14: steps -> 2 -> query -> where: "
NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
FILTER = Scope(
    inputs=frozenset({"threshold", "domains", "max_age"}),
    steps={"find_bots": frozenset({"ids", "count", "items"})},
    later_steps=frozenset({"freeze"}),
    item=True,
)
CONDITION = Scope(
    inputs=frozenset({"threshold"}),
    steps={"find_bots": frozenset({"ids", "count", "items"})},
    values=frozenset({"count", "failure_ratio"}),
)
CONTEXT = Context(
    inputs={"threshold": 3, "domains": ("bad.xyz",), "max_age": 2},
    steps={"find_bots": {"ids": ["acc_1"], "count": 1, "items": [{"link_domains": ["bad.xyz"]}]}},
    now=NOW,
    values={"count": 0, "failure_ratio": 0.01},
)
ITEMS = [
    {"id": "acc_1", "report_count": 5, "created_at": "2026-11-28T10:00:00.000Z", "tags": ["x"]},
    {"id": "acc_2", "report_count": 1, "created_at": "2026-01-01T00:00:00.000Z", "tags": []},
    {"id": "acc_3", "report_count": 9, "created_at": "2020-01-01T00:00:00.000Z", "tags": ["y"]},
]
ALL = ["acc_1", "acc_2", "acc_3"]


def ids(expression: str, items: list[dict[str, Any]] = ITEMS) -> list[str]:
    compiled = compile_expression(expression, FILTER, ORIGIN)
    return [str(item["id"]) for item in compiled.filter(items, CONTEXT)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("report_count >= inputs.threshold", ["acc_1", "acc_3"]),
        ("report_count >= 3 and age_days(created_at) < inputs.max_age", ["acc_1"]),
        ("not (report_count > 1)", ["acc_2"]),
        ("id in steps.find_bots.ids", ["acc_1"]),
        ("id not in ['acc_1', 'acc_3']", ["acc_2"]),
        ("len(tags) == 0 or startswith(id, 'acc_3')", ["acc_2", "acc_3"]),
        ("contains(tags, 'y')", ["acc_3"]),
        ("item.report_count % 2 == 1 and report_count // 2 >= 2", ["acc_1", "acc_3"]),
        ("1 < report_count < 9", ["acc_1"]),
        ("age_hours(created_at) < 24 if report_count > 2 else false", ["acc_1"]),
        ("upper(lower(id)) == 'ACC_2'", ["acc_2"]),
        ("max(report_count, 6) == 6 and min([1, report_count]) == 1", ["acc_1", "acc_2"]),
        ("get(tally(steps.find_bots.items, 'link_domains'), 'bad.xyz', 0) == 1", ALL),
        ("any_in(['bad.xyz'], inputs.domains) and report_count == 1", ["acc_2"]),
        ("true and null == None", ALL),
    ],
)
def test_filters_select_what_they_say(expression: str, expected: list[str]) -> None:
    assert ids(expression) == expected


def test_conditions_see_inputs_steps_and_local_values() -> None:
    scope = CONDITION
    assert compile_expression("steps.find_bots.count >= 1", scope, ORIGIN).test(CONTEXT)
    assert compile_expression("failure_ratio < 0.05 and count == 0", scope, ORIGIN).test(CONTEXT)
    assert not compile_expression("inputs.threshold > 3", scope, ORIGIN).test(CONTEXT)


def test_references_and_item_fields_are_recorded() -> None:
    compiled = compile_expression(
        "id in steps.find_bots.ids and report_count > inputs.threshold", FILTER, ORIGIN
    )
    assert [str(r) for r in compiled.references] == ["steps.find_bots.ids", "inputs.threshold"]
    assert compiled.item_fields == {"id", "report_count"}
    assert compiled.steps == {"find_bots"}


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "the name '__import__' is not allowed (names may not start with _)."),
        ("item.__class__", "the name '__class__' is not allowed (names may not start with _)."),
        (
            "id.__class__.__mro__",
            "the name '__class__' is not allowed (names may not start with _).",
        ),
        ("().__class__", "attributes may only follow a name (item, inputs, steps, run …)."),
        ("'x'.join(tags)", "only the listed functions may be called (no methods)."),
        ("open('/etc/passwd')", "unknown function 'open'."),
        ("eval('1')", "unknown function 'eval'."),
        ("lenn(tags) > 0", "unknown function 'lenn' (did you mean 'len'?)."),
        ("lower", "lower is a function; call it: lower(…)."),
        ("inputs.treshold > 1", "unknown input 'treshold' (did you mean 'threshold'?)."),
        ("steps.find_bot.count > 1", "unknown step 'find_bot' (did you mean 'find_bots'?)."),
        (
            "steps.freeze.count > 1",
            "the step 'freeze' has not run yet here; only earlier steps' results can be used.",
        ),
        (
            "steps.find_bots.cnt > 1",
            "the step 'find_bots' has no result 'cnt' (did you mean 'count'?); its results: "
            "count, ids, items.",
        ),
        ("input.threshold > 1", "unknown name 'input' (did you mean 'inputs'?)."),
        ("report_count ** 99", "the operator '**' is not allowed."),
        ("lambda: 1", "a lambda is not allowed in an expression."),
        ("[x for x in tags]", "a comprehension is not allowed in an expression."),
        ("f'{id}'", "an f-string is not allowed in an expression."),
        ("(y := 1)", "the ':=' operator is not allowed in an expression."),
        ("tags[0:1]", "slices are not allowed."),
        ("len(tags, key=1)", "len() takes plain positional arguments only."),
        ("len()", "len() takes 1 argument(s), got 0."),
        ("id is None", "the comparison 'is' is not allowed."),
        ("{'a': 1}", "a dict literal is not allowed in an expression."),
        ("report_count >", "invalid expression syntax."),
        ("report_count > > 1", "invalid expression syntax at character 16."),
        ("x" * (MAX_LENGTH + 1), f"the expression is longer than {MAX_LENGTH} characters."),
        ("+".join(["1"] * 500), "the expression has more than 400 parts."),
        ("-" * 100 + "1", "the expression nests deeper than 24 levels."),
        ("now.year", "now has no attributes; use age_hours(…) and friends."),
        ("10 ** 1000", "the operator '**' is not allowed."),
        ("99999999999999999999 > 1", "the number is too large."),
        ("", "the expression is empty."),
    ],
)
def test_refused_when_loaded_with_a_located_sentence(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_expression(expression, FILTER, ORIGIN)
    assert caught.value.message == PREFIX + message


def test_conditions_have_no_item() -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_expression("report_count > 1", CONDITION, ORIGIN)
    assert caught.value.message == PREFIX + "unknown name 'report_count'."
    with pytest.raises(InvalidInput) as caught:
        compile_expression("item.x", CONDITION, ORIGIN)
    assert "there is no item here" in caught.value.message


def test_known_item_fields_are_name_checked() -> None:
    scope = Scope(item=True, item_fields=frozenset({"reports", "status"}))
    with pytest.raises(InvalidInput) as caught:
        compile_expression("reprots > 3", scope, ORIGIN)
    assert caught.value.message == PREFIX + "unknown name 'reprots' (did you mean 'reports'?)."


@pytest.mark.parametrize(
    ("expression", "item", "reason"),
    [
        (
            "report_count > 3",
            {"id": "a", "report_count": None},
            "'>' not supported between instances of 'NoneType' and 'int'",
        ),
        ("reprots > 3", {"id": "a"}, "the item has no field 'reprots'"),
        ("report_count / 0 > 1", {"id": "a", "report_count": 1}, "division by zero"),
        ("title * 3 == ''", {"id": "a", "title": "x"}, "* needs numbers, got a string"),
        (
            "age_days(title) > 1",
            {"id": "a", "title": "x"},
            "age_days() needs an ISO-8601 time or epoch seconds, got a string",
        ),
        (
            "lower(report_count) == 'x'",
            {"id": "a", "report_count": 1},
            "lower() needs a string, got a number",
        ),
        ("tags[5] == 1", {"id": "a", "tags": []}, "list index out of range"),
    ],
)
def test_bad_values_fail_cleanly_naming_the_item(
    expression: str, item: dict[str, Any], reason: str
) -> None:
    compiled = compile_expression(expression, FILTER, ORIGIN)
    with pytest.raises(OperationFailed) as caught:
        compiled.filter([item], CONTEXT)
    assert caught.value.message == PREFIX + f"cannot evaluate {expression!r} on item 'a': {reason}."


def test_filtering_large_lists_uses_one_set_lookup() -> None:
    many = [{"id": f"acc_{i}"} for i in range(50_000)]
    context = Context(steps={"find_bots": {"ids": [f"acc_{i}" for i in range(0, 50_000, 2)]}})
    compiled = compile_expression("id in steps.find_bots.ids", FILTER, ORIGIN)
    assert len(compiled.filter(many, context)) == 25_000


# -- property tests: nothing escapes ----------------------------------------------------------

_ATOMS = st.sampled_from(
    [
        "id", "report_count", "tags", "created_at", "item", "inputs.threshold", "inputs.domains",
        "steps.find_bots.ids", "steps.find_bots.count", "now", "null", "true", "1", "0", "2.5",
        "'x'", "''", "[]", "[1, 'a']", "__class__", "__import__", "open", "globals", "_i",
        "_r0", "_f_len", "__builtins__", "os", "sys", "type", "getattr", "exec",
    ]
)  # fmt: skip
_UNARY = st.sampled_from(["not ", "-", "+", "~"])
_BINARY = st.sampled_from(
    [" and ", " or ", " == ", " != ", " < ", " >= ", " in ", " not in ", " + ", " - ", " * ",
     " / ", " // ", " % ", " ** ", " is ", " @ ", ".", "[", "("]
)  # fmt: skip
_CALLS = st.sampled_from(
    ["len", "lower", "contains", "any_in", "age_days", "get", "pluck", "tally", "max",
     "getattr", "__import__", "open", "vars", "id.__class__"]
)  # fmt: skip


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3 or draw(st.booleans()):
        return draw(_ATOMS)
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(_UNARY) + draw(expressions(depth + 1))
    if choice == 1:
        op = draw(_BINARY)
        right = draw(expressions(depth + 1))
        closing = {"[": "]", "(": ")"}.get(op, "")
        return f"({draw(expressions(depth + 1))}{op}{right}{closing})"
    if choice == 2:
        arguments = draw(st.lists(expressions(depth + 1), max_size=3))
        return f"{draw(_CALLS)}({', '.join(arguments)})"
    test, body, orelse = (draw(expressions(depth + 1)) for _ in range(3))
    return f"({body} if {test} else {orelse})"


class Canary:
    """Records any attribute access (an escape would have to touch it)."""

    touched = False

    def __getattr__(self, name: str) -> Any:
        Canary.touched = True
        raise AssertionError(name)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_random_expressions_never_escape(text: str) -> None:
    try:
        compiled = compile_expression(text, FILTER, ORIGIN)
    except InvalidInput as exc:
        assert exc.message.startswith(PREFIX)
        return
    assert not any(str(r).startswith("_") for r in compiled.references)
    items = [
        *ITEMS,
        {"id": Canary(), "report_count": Canary(), "tags": [Canary()], "created_at": 0},
    ]
    for item in items:
        try:
            value = compiled.evaluate(CONTEXT, item)
        except OperationFailed as exc:
            assert exc.message.startswith(PREFIX)
            continue
        assert not callable(value) or isinstance(value, Canary)
        assert type(value).__module__ in ("builtins", "datetime", __name__)
    assert not Canary.touched
    try:
        compiled.filter(ITEMS, CONTEXT)
    except OperationFailed as exc:
        assert exc.message.startswith(PREFIX)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_is_refused_or_compiled_never_crashes(text: str) -> None:
    try:
        compiled = compile_expression(text, CONDITION, ORIGIN)
    except InvalidInput as exc:
        assert exc.message.startswith(PREFIX)
        return
    try:
        compiled.evaluate(CONTEXT)
    except OperationFailed as exc:
        assert exc.message.startswith(PREFIX)


def test_code_that_can_only_fail_is_refused_when_loaded() -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_expression("null[id]", FILTER, ORIGIN)
    assert caught.value.message == (
        PREFIX + "the expression cannot work: 'NoneType' object is not subscriptable."
    )
