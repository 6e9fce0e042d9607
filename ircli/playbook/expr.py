"""The playbook expression language: small, safe, name-checked when loaded, fast when run.

Syntax is a whitelisted subset of Python expressions (docs/playbooks.md has the grammar)::

    age_days(created_at) < inputs.max_age_days and device_cluster_size >= 20
    status == "live" and any_in(link_domains, steps.bad_domains.ids)
    steps.find_bots.count > inputs.flood_threshold

Why Python's own parser behind a whitelist rather than a library: the grammar people already
read, no new dependency, and the checked tree compiles to one Python code object, so filtering
200,000 items runs at list-comprehension speed (bench/expressions.py). Safety does not rest on
``eval``'s namespace: the *generated* code contains no attribute access and no name the
expression chose — every name is rewritten to a slot the loader resolved (``inputs.x`` →
``_r0``), an item field (``report_count`` → ``_i["report_count"]``), or a whitelisted
function (``_f_lower``); it runs with empty builtins on top of that.

Refused when loading (one located sentence each): any syntax outside the whitelist (lambdas,
comprehensions, f-strings, ``**``, ``:=``, slices, keyword arguments, method calls), dunder or
other unknown attribute names, unknown names (with did-you-mean), references to unknown or
later steps, texts over 2,000 characters, more than 400 nodes, nesting deeper than 24.

Values that do not fit at run time (``None < 3``, a missing field, a bad time) raise
``OperationFailed`` located at the expression's YAML position, never a bare Python exception.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from ircli.errors import OperationFailed
from ircli.playbook.context import RUN_FIELDS, Context, Origin, Reference, Scope
from ircli.playbook.functions import ARITY, FUNCTIONS, NEEDS_NOW, OPERATORS, ExpressionError
from ircli.playbook.functions import members as _members
from ircli.wording import did_you_mean

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "RESERVED_NAMES",
    "Expression",
    "compile_expression",
]

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 24

_CONSTANT_NAMES: Mapping[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
RESERVED_NAMES = frozenset({"item", "inputs", "steps", "now", *RUN_FIELDS, *_CONSTANT_NAMES})
"""Names that never mean an item field (write ``item.inputs`` for a field called ``inputs``)."""

_COMPARE_OPS = (
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
)
_CATCH = (ExpressionError, TypeError, KeyError, IndexError, ValueError, OverflowError)
_ITEM = "_i"
_NOW = "_now"
_BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "_members": _members,
    **{f"_f_{name}": function for name, function in FUNCTIONS.items()},
    **{f"_op_{name}": function for name, function in OPERATORS.items()},
}


@dataclass(frozen=True)
class Expression:
    """A checked, compiled expression. Evaluate it with a ``Context`` from the runner."""

    text: str
    origin: Origin
    references: tuple[Reference, ...]
    """Every input, step result and local value it reads, in first-use order."""
    item_fields: frozenset[str]
    """The item fields it reads (empty unless it is a filter)."""
    _hoisted: tuple[CodeType, ...] = field(repr=False, compare=False, default=())
    _one: CodeType | None = field(repr=False, compare=False, default=None)
    _many: CodeType | None = field(repr=False, compare=False, default=None)

    @property
    def steps(self) -> frozenset[str]:
        """The ids of the steps whose results it reads."""
        return frozenset(ref.parts[1] for ref in self.references if ref.root == "steps")

    def _namespace(self, context: Context) -> dict[str, Any]:
        namespace = dict(_BASE_GLOBALS)
        namespace[_NOW] = context.now.timestamp()
        for index, reference in enumerate(self.references):
            namespace[f"_r{index}"] = context.resolve(reference, self.origin)
        for index, code in enumerate(self._hoisted):
            namespace[f"_h{index}"] = self._run(code, namespace, None)
        return namespace

    def _run(self, code: CodeType, namespace: dict[str, Any], item: Any) -> Any:
        try:
            return eval(code, namespace)  # noqa: S307 - whitelisted tree, see module docstring
        except _CATCH as exc:
            raise self._failure(exc, item) from None
        except RecursionError:
            raise self.origin.failed("the expression nests too deeply to evaluate.") from None

    def _failure(self, exc: BaseException, item: Any) -> OperationFailed:
        if isinstance(exc, KeyError):
            reason = f"the item has no field {exc.args[0]!r}"
        elif isinstance(exc, ExpressionError):
            reason = str(exc)
        else:
            reason = str(exc).split("\n", 1)[0][:200] or type(exc).__name__
        which = ""
        if isinstance(item, Mapping) and isinstance(item.get("id"), str | int):
            which = f" on item {str(item['id'])[:80]!r}"
        return self.origin.failed(f"cannot evaluate {self.text[:80]!r}{which}: {reason}.")

    def evaluate(self, context: Context, item: Mapping[str, Any] | None = None) -> Any:
        """The value of the expression (for one ``item`` when it is a filter)."""
        if self.item_fields and item is None:
            raise self.origin.failed("this expression needs an item to evaluate.")
        namespace = self._namespace(context)
        function = self._run(self._one, namespace, None)  # type: ignore[arg-type]
        try:
            return function(item)
        except _CATCH as exc:
            raise self._failure(exc, item) from None
        except RecursionError:
            raise self.origin.failed("the expression nests too deeply to evaluate.") from None

    def test(self, context: Context, item: Mapping[str, Any] | None = None) -> bool:
        """Whether the expression holds (truthiness: ``null``, ``0``, ``""``, ``[]`` are false)."""
        return bool(self.evaluate(context, item))

    def filter(
        self, items: Sequence[Mapping[str, Any]], context: Context
    ) -> list[Mapping[str, Any]]:
        """The items for which the expression holds, in order (one comprehension, no calls)."""
        namespace = self._namespace(context)
        select = self._run(self._many, namespace, None)  # type: ignore[arg-type]
        try:
            return list(select(items))
        except (*_CATCH, RecursionError):
            pass
        # Find the first item that fails, to name it in the message.
        one = self._run(self._one, namespace, None)  # type: ignore[arg-type]
        for item in items:
            try:
                one(item)
            except _CATCH as exc:
                raise self._failure(exc, item) from None
            except RecursionError:
                break
        raise self.origin.failed("the expression nests too deeply to evaluate.")


def compile_expression(text: Any, scope: Scope, origin: Origin) -> Expression:
    """Parse, check and compile ``text``; ``InvalidInput`` at ``origin`` when it is not allowed."""
    if not isinstance(text, str):
        raise origin.invalid("expected an expression (a string).")
    if not text.strip():
        raise origin.invalid("the expression is empty.")
    if len(text) > MAX_LENGTH:
        raise origin.invalid(f"the expression is longer than {MAX_LENGTH} characters.")
    if "\n" in text.strip() or "\r" in text:
        text = " ".join(text.split())  # YAML folded blocks: one logical line
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at character {exc.offset}" if exc.offset else ""
        raise origin.invalid(f"invalid expression syntax{where}.") from None
    except (RecursionError, MemoryError, ValueError):
        raise origin.invalid("the expression is too complex.") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise origin.invalid(f"the expression has more than {MAX_NODES} parts.")
    checker = _Rewriter(scope, origin)
    body = checker.rewrite(tree.body, 0)
    one = _lambda([_ITEM], body)
    many = _lambda(
        ["_items"],
        ast.ListComp(
            elt=ast.Name(_ITEM, ast.Load()),
            generators=[
                ast.comprehension(
                    target=ast.Name(_ITEM, ast.Store()),
                    iter=ast.Name("_items", ast.Load()),
                    ifs=[body],
                    is_async=0,
                )
            ],
        ),
    )
    try:
        hoisted = tuple(_code(node) for node in checker.hoisted)
        one_code, many_code = _code(one), _code(many)
    except (SyntaxError, SyntaxWarning) as exc:
        reason = str(exc.args[0] if exc.args else exc).split(";")[0]
        raise origin.invalid(f"the expression cannot work: {reason}.") from None
    return Expression(
        text=text,
        origin=origin,
        references=tuple(checker.references),
        item_fields=frozenset(checker.item_fields),
        _hoisted=hoisted,
        _one=one_code,
        _many=many_code,
    )


def _lambda(arguments: list[str], body: ast.expr) -> ast.expr:
    return ast.Lambda(
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(name) for name in arguments],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=body,
    )


def _code(node: ast.expr) -> CodeType:
    tree = ast.fix_missing_locations(ast.Expression(body=node))
    # Python warns about code that can only fail (``None[0]``); make that a load-time error.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return compile(tree, "<playbook expression>", "eval")


class _Rewriter:
    """Checks one expression tree against the whitelist and rewrites it into safe code."""

    def __init__(self, scope: Scope, origin: Origin) -> None:
        self.scope = scope
        self.origin = origin
        self.references: list[Reference] = []
        self.item_fields: set[str] = set()
        self.hoisted: list[ast.expr] = []
        self._uses_item = False

    # -- helpers -------------------------------------------------------------------------------

    def fail(self, message: str, hint: str | None = None) -> Exception:
        return self.origin.invalid(message, hint)

    def slot(self, reference: Reference) -> ast.expr:
        if reference not in self.references:
            self.references.append(reference)
        return ast.Name(f"_r{self.references.index(reference)}", ast.Load())

    def hoist(self, node: ast.expr) -> ast.expr:
        self.hoisted.append(node)
        return ast.Name(f"_h{len(self.hoisted) - 1}", ast.Load())

    def rewrite(self, node: ast.expr, depth: int) -> ast.expr:
        """The safe form of ``node``; independent calls are hoisted out of the item loop."""
        if depth > MAX_DEPTH:
            raise self.fail(f"the expression nests deeper than {MAX_DEPTH} levels.")
        before = self._uses_item
        self._uses_item = False
        result = self._rewrite(node, depth)
        uses = self._uses_item
        self._uses_item = before or uses
        if not uses and self.scope.item and isinstance(node, ast.Call):
            return self.hoist(result)
        return result

    # -- node kinds ----------------------------------------------------------------------------

    def _rewrite(self, node: ast.expr, depth: int) -> ast.expr:
        inner = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name | ast.Attribute):
            return self._name(node)
        if isinstance(node, ast.BoolOp):
            values = [self.rewrite(v, inner) for v in node.values]
            return ast.BoolOp(op=node.op, values=values)
        if isinstance(node, ast.UnaryOp):
            operand = self.rewrite(node.operand, inner)
            if isinstance(node.op, ast.Not):
                return ast.UnaryOp(op=ast.Not(), operand=operand)
            if isinstance(node.op, ast.USub | ast.UAdd):
                return self._call(f"_op_{type(node.op).__name__}", [operand])
            raise self.fail("the operator '~' is not allowed.")
        if isinstance(node, ast.BinOp):
            name = type(node.op).__name__
            if name not in OPERATORS:
                symbol = {"Pow": "**", "MatMult": "@", "BitAnd": "&", "BitOr": "|"}.get(name, name)
                raise self.fail(
                    f"the operator {symbol!r} is not allowed.",
                    hint="Use +, -, *, /, //, % on numbers; and, or, not for logic.",
                )
            return self._call(
                f"_op_{name}", [self.rewrite(node.left, inner), self.rewrite(node.right, inner)]
            )
        if isinstance(node, ast.Compare):
            return self._compare(node, inner)
        if isinstance(node, ast.IfExp):
            return ast.IfExp(
                test=self.rewrite(node.test, inner),
                body=self.rewrite(node.body, inner),
                orelse=self.rewrite(node.orelse, inner),
            )
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            if len(node.elts) > 100:
                raise self.fail("a literal list may hold at most 100 values.")
            return ast.List(elts=[self.rewrite(e, inner) for e in node.elts], ctx=ast.Load())
        if isinstance(node, ast.Call):
            return self._function(node, inner)
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                raise self.fail("slices are not allowed.")
            return ast.Subscript(
                value=self.rewrite(node.value, inner),
                slice=self.rewrite(node.slice, inner),
                ctx=ast.Load(),
            )
        raise self.fail(f"{_describe(node)} is not allowed in an expression.")

    def _constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            raise self.fail("the number is too large.")
        if value is None or isinstance(value, bool | int | float | str):
            return ast.Constant(value)
        raise self.fail(f"the literal {type(value).__name__} is not allowed.")

    def _compare(self, node: ast.Compare, inner: int) -> ast.expr:
        for op in node.ops:
            if not isinstance(op, _COMPARE_OPS):
                symbol = "is" if isinstance(op, ast.Is | ast.IsNot) else type(op).__name__
                raise self.fail(
                    f"the comparison {symbol!r} is not allowed.", hint="Compare with == or !=."
                )
        left = self.rewrite(node.left, inner)
        comparators = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            before = self._uses_item
            self._uses_item = False
            rewritten = self.rewrite(right, inner)
            independent = not self._uses_item
            self._uses_item = before or self._uses_item
            if isinstance(op, ast.In | ast.NotIn) and independent and self.scope.item:
                # A list that does not depend on the item becomes a set, once per filter.
                rewritten = self.hoist(self._call("_members", [rewritten]))
            comparators.append(rewritten)
        return ast.Compare(left=left, ops=node.ops, comparators=comparators)

    def _call(self, name: str, arguments: list[ast.expr]) -> ast.expr:
        return ast.Call(func=ast.Name(name, ast.Load()), args=arguments, keywords=[])

    def _function(self, node: ast.Call, inner: int) -> ast.expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(
                "only the listed functions may be called (no methods).",
                hint=f"Functions: {', '.join(FUNCTIONS)}.",
            )
        name = node.func.id
        if name.startswith("_"):
            raise self.fail(f"the name {name!r} is not allowed (names may not start with _).")
        if name not in FUNCTIONS:
            raise self.fail(
                f"unknown function {name!r}{did_you_mean(name, FUNCTIONS)}.",
                hint=f"Functions: {', '.join(FUNCTIONS)}.",
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"{name}() takes plain positional arguments only.")
        low, high = ARITY[name]
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.fail(f"{name}() takes {wanted} argument(s), got {len(node.args)}.")
        arguments = [self.rewrite(a, inner) for a in node.args]
        if name in NEEDS_NOW:
            arguments.append(ast.Name(_NOW, ast.Load()))
        return self._call(f"_f_{name}", arguments)

    # -- names ---------------------------------------------------------------------------------

    def _name(self, node: ast.Name | ast.Attribute) -> ast.expr:
        parts: list[str] = []
        probe: ast.expr = node
        while isinstance(probe, ast.Attribute):
            parts.append(probe.attr)
            probe = probe.value
        if not isinstance(probe, ast.Name):
            raise self.fail(
                "attributes may only follow a name (item, inputs, steps, run …).",
            )
        parts.append(probe.id)
        parts.reverse()
        for part in parts:
            if part.startswith("_"):
                raise self.fail(f"the name {part!r} is not allowed (names may not start with _).")
        root = parts[0]
        if root in _CONSTANT_NAMES and len(parts) == 1:
            return ast.Constant(_CONSTANT_NAMES[root])
        if root == "inputs":
            return self._input(parts)
        if root == "steps":
            return self._step(parts)
        if root in RUN_FIELDS:
            return self._run_field(parts)
        if root == "now":
            if len(parts) > 1:
                raise self.fail("now has no attributes; use age_hours(…) and friends.")
            return self.slot(Reference(("now",)))
        if root in self.scope.values:
            if len(parts) > 1:
                raise self.fail(f"{root} has no attribute {parts[1]!r}.")
            return self.slot(Reference((root,)))
        if root in FUNCTIONS and len(parts) == 1:
            raise self.fail(f"{root} is a function; call it: {root}(…).")
        if root == "item":
            if not self.scope.item:
                raise self.fail("there is no item here; item fields apply to where filters only.")
            return self._item(parts[1:])
        if self.scope.item:
            return self._item(parts)
        known = {*self.scope.values, "inputs", "steps", "now", *RUN_FIELDS}
        raise self.fail(f"unknown name {root!r}{did_you_mean(root, known)}.")

    def _input(self, parts: list[str]) -> ast.expr:
        if len(parts) != 2:
            raise self.fail("write inputs.NAME (one name after inputs).")
        name = parts[1]
        if name not in self.scope.inputs:
            raise self.fail(f"unknown input {name!r}{did_you_mean(name, self.scope.inputs)}.")
        return self.slot(Reference(("inputs", name)))

    def _step(self, parts: list[str]) -> ast.expr:
        if len(parts) != 3:
            raise self.fail("write steps.ID.FIELD (for example steps.find_bots.count).")
        step, attribute = parts[1], parts[2]
        problem = self.scope.step_problem(step, attribute)
        if problem is not None:
            raise self.fail(problem)
        return self.slot(Reference(("steps", step, attribute)))

    def _run_field(self, parts: list[str]) -> ast.expr:
        root = parts[0]
        fields = RUN_FIELDS[root]
        if len(parts) != 2 or parts[1] not in fields:
            name = parts[1] if len(parts) > 1 else ""
            listed = ", ".join(f"{root}.{f}" for f in sorted(fields))
            raise self.fail(
                f"unknown name {'.'.join(parts)!r}{did_you_mean(name, fields)}; use {listed}."
            )
        return self.slot(Reference((root, parts[1])))

    def _item(self, parts: list[str]) -> ast.expr:
        self._uses_item = True
        node: ast.expr = ast.Name(_ITEM, ast.Load())
        if not parts:
            return node
        first = parts[0]
        known = self.scope.item_fields
        if known is not None and first not in known:
            raise self.fail(f"unknown name {first!r}{did_you_mean(first, known)}.")
        if known is None:
            # ``input.x`` would read as an item field but is almost surely a typo.
            close = difflib.get_close_matches(first, ("inputs", "steps"), n=1, cutoff=0.8)
            if close:
                raise self.fail(
                    f"unknown name {first!r} (did you mean {close[0]!r}?).",
                    hint=f"For an item field of that name write item.{first}.",
                )
        self.item_fields.add(first)
        for part in parts:
            node = ast.Subscript(value=node, slice=ast.Constant(part), ctx=ast.Load())
        return node


def _describe(node: ast.AST) -> str:
    names = {
        "Lambda": "a lambda",
        "ListComp": "a comprehension",
        "SetComp": "a comprehension",
        "DictComp": "a comprehension",
        "GeneratorExp": "a generator",
        "JoinedStr": "an f-string",
        "FormattedValue": "an f-string",
        "NamedExpr": "the ':=' operator",
        "Dict": "a dict literal",
        "Await": "await",
        "Yield": "yield",
        "YieldFrom": "yield",
        "Starred": "unpacking",
    }
    return names.get(type(node).__name__, type(node).__name__)
