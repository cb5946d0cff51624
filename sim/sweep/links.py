"""Linked sweep parameters: one swept value drives several scenario fields through a formula.

A sweep's parameter named by a plain identifier (``ratio``) rather than a dotted path is a
*driver*: it is no field of the scenario, and its value reaches the scenario only through
the links whose formulas use it. A link is ``PATH = FORMULA``: the field at ``PATH`` takes
the formula's value at every design point, e.g.::

    --param ratio=1.5:3:4
    --link tariffs.tou.periods.peak.price_per_kwh='0.55 * sqrt(ratio)'
    --link tariffs.tou.periods.valley.price_per_kwh='0.55 / sqrt(ratio)'

sweeps the peak : valley ratio from 1.5 to 3 around a 0.55 geometric centre. In a formula,
``base`` is the field's own value in the scenario (after ``--set``), so ``base * level``
moves a field in proportion: linked to every price of a tariff (``*`` matches every key of
a mapping or item of a list: ``tariffs.tou.periods.*.price_per_kwh``) it scales the level
of the tariff and keeps every ratio between its prices.

Formulas are arithmetic only: numbers, the drivers, ``base``, ``+ - * / ** %``, brackets,
and the functions of :data:`FUNCTIONS`. They are checked by walking their syntax tree
(:func:`compile_formula`) and evaluated by ``simpleeval`` (a small, maintained evaluator of
single expressions that never calls Python's ``eval``), with only those names and
functions in scope.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any

#: Functions a formula may call.
FUNCTIONS = {"abs": abs, "min": min, "max": max, "round": round, "sqrt": math.sqrt, "exp": math.exp,
             "log": math.log, "log10": math.log10}

#: The name of a linked field's own value in the scenario.
BASE = "base"

#: A driver's name: an identifier, unlike a scenario path (which has dots, or names a
#: top-level field).
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Longest formula accepted. [characters]
MAX_FORMULA = 500

_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.UAdd, ast.USub)
_OPERATORS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.UAdd, ast.USub}


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text and the names it uses (drivers and ``base``)."""

    text: str
    names: tuple[str, ...]

    @property
    def uses_base(self) -> bool:
        return BASE in self.names

    @property
    def drivers(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n != BASE)


def compile_formula(text: Any) -> Formula:
    """Check a formula's syntax: arithmetic on numbers and names, calls of FUNCTIONS only.

    Raises
    ------
    ValueError
        Naming what is not allowed.
    """
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        raise ValueError(f"a formula is text such as '0.55 * ratio'; got {text!r}")
    text = str(text).strip()
    if not text:
        raise ValueError("empty formula")
    if len(text) > MAX_FORMULA:
        raise ValueError(f"formula of {len(text)} characters; at most {MAX_FORMULA}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot read formula {text!r}: {e.msg}") from None
    names: list[str] = []
    for node in ast.walk(tree):  # outermost first: a refusal names the construct, not a part of it
        if not isinstance(node, _NODES):
            raise ValueError(f"formula {text!r}: {_describe(node)} is not allowed (arithmetic on numbers, "
                             f"swept names and {BASE}, and the functions {', '.join(FUNCTIONS)})")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise ValueError(f"formula {text!r}: only numbers may be written in it; got {node.value!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ValueError(f"formula {text!r}: unknown function {called!r} (valid: {', '.join(FUNCTIONS)})")
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: n.col_offset):
        if node.id not in FUNCTIONS and node.id not in names:  # in reading order
            names.append(node.id)
    return Formula(text, tuple(names))


#: What a refused construct is called in messages.
_REFUSED = {ast.Compare: "a comparison", ast.BoolOp: "and / or", ast.IfExp: "if-else", ast.Lambda: "lambda",
            ast.NamedExpr: "an assignment", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a mapping",
            ast.Set: "a set", ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
            ast.Starred: "unpacking", ast.JoinedStr: "an f-string", ast.Await: "await"}


def _describe(node: ast.AST) -> str:
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return f"{ast.unparse(node)!r} (attributes and indexing)"
    if isinstance(node, ast.operator):
        return f"the operator {type(node).__name__}"
    return _REFUSED.get(type(node), type(node).__name__)


def evaluate(formula: Formula, values: dict[str, Any]) -> float:
    """The formula's value for ``values`` (every name it uses), a finite number rounded to
    12 significant digits (so that ``0.55 * 1.5`` gives 0.825, as ranges do).

    Raises
    ------
    ValueError
        A name without a number, a division by zero, an overflow, a complex or non-finite result.
    """
    from simpleeval import SimpleEval

    for name in formula.names:
        v = values.get(name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{name} is {v!r}, not a number")
    evaluator = SimpleEval(operators={op: fn for op, fn in SimpleEval().operators.items() if op in _OPERATORS},
                           functions=FUNCTIONS, names={n: values[n] for n in formula.names})
    try:
        result = evaluator.eval(formula.text)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except (OverflowError, ValueError, ArithmeticError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None
    except Exception as e:  # simpleeval's own refusals (e.g. a power too large)
        raise ValueError(str(e) or type(e).__name__) from None
    if isinstance(result, bool) or not isinstance(result, (int, float)) or not math.isfinite(result):
        raise ValueError(f"the formula gives {result!r}, not a finite number")
    return float(f"{float(result):.12g}")


def expand(path: str, data: Any) -> list[str]:
    """The dotted paths a link path stands for: itself, or with each ``*`` replaced by every
    key of the mapping (or every item of the list, by name where items have one) at that
    point, keeping the paths that exist in ``data`` all the way down.

    Raises
    ------
    ValueError
        A ``*`` that matches nothing.
    """
    parts = path.split(".")
    if "*" not in parts:
        return [path]
    found: list[str] = []

    def walk(node: Any, i: int, prefix: list[str]) -> None:
        if i == len(parts):
            found.append(".".join(prefix))
            return
        part = parts[i]
        if part == "*":
            if isinstance(node, dict):
                items = [(str(k), v) for k, v in node.items()]
            elif isinstance(node, list):
                items = [(str(v["name"]) if isinstance(v, dict) and "name" in v else str(j), v)
                         for j, v in enumerate(node)]
            else:
                items = []
            for key, child in items:
                walk(child, i + 1, [*prefix, key])
        elif isinstance(node, dict) and part in node:
            walk(node[part], i + 1, [*prefix, part])
        elif isinstance(node, list):
            for j, item in enumerate(node):
                if (part.isdigit() and int(part) == j) or (isinstance(item, dict) and item.get("name") == part):
                    walk(item, i + 1, [*prefix, part])
                    break

    walk(data, 0, [])
    if not found:
        raise ValueError(f"{path}: the pattern matches no field of the scenario")
    return found


def lookup(data: Any, loc: tuple) -> tuple[bool, Any]:
    """Whether a resolved location (keys and list indices) exists in ``data``, and its value
    there (None where it does not)."""
    node = data
    for k in loc:
        if isinstance(node, dict) and k in node:
            node = node[k]
        elif isinstance(node, list) and isinstance(k, int) and 0 <= k < len(node):
            node = node[k]
        else:
            return False, None
    return True, node


def value_at(data: Any, loc: tuple) -> Any:
    """The value at a resolved location (keys and list indices), or None where there is none."""
    return lookup(data, loc)[1]
