"""Bad input, reported by field path: the strict pydantic base and the one error formatter.

Scenarios (world/scenario.py), orders (world/orders.py) and experiment specs
(experiments/spec.py) are all pydantic models built on :class:`Strict`. When one does not
validate, :func:`field_problems` turns pydantic's errors into one line per problem, each
starting with the field path, saying what is wrong and what is allowed::

    firms[3] (mp-separation).capacity_tpy: must be >= 0 (got -45000.0)
    colour: unknown key 'colour'; allowed keys: name, start, months, ...

:class:`ProblemsError` carries every problem of one input at once.
"""

from __future__ import annotations

import datetime
import difflib
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

#: Labels an entry of a list of tables in a path: (the list's name, the entry's data) -> label.
Labeller = Callable[[str, Any], str]


class Strict(BaseModel):
    """A frozen model that refuses unknown keys (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemsError(ValueError):
    """An input that cannot be used, with every problem found.

    Attributes:
        problems: one line per problem, each starting with the field path.
    """

    what = "input"

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.what} {source} has {len(problems)} problem(s):\n{lines}")


def did_you_mean(word: str, candidates: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def unwrap_type(tp: Any) -> tuple[Any, list]:
    """Strip Annotated and Optional from a type; return the core type and the metadata."""
    metadata: list = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, *meta = get_args(tp)
            for item in meta:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, metadata
            tp = args[0]
        else:
            return tp, metadata


def _model_in(tp: Any, part: Any) -> Any:
    """The model among a union's members that has the field ``part`` (a model or a list of
    them), else None."""
    for arg in get_args(tp):
        core, _ = unwrap_type(arg)
        if get_origin(core) is list:
            core, _ = unwrap_type(get_args(core)[0])
        if isinstance(core, type) and issubclass(core, BaseModel) and part in core.model_fields:
            return core
    return None


def walk(loc: tuple, root: Any) -> tuple[Any, list]:
    """The type at a location in the schema ``root`` and the constraints that apply to it."""
    tp: Any = root
    metadata: list = []
    for part in loc:
        tp, _ = unwrap_type(tp)
        if get_origin(tp) in (Union, types.UnionType) and isinstance(part, str):
            tp = _model_in(tp, part) or tp
        if isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            info = tp.model_fields[part]
            tp, metadata = info.annotation, list(info.metadata)
        elif get_origin(tp) is list and isinstance(part, int):
            tp, metadata = get_args(tp)[0], []
        elif get_origin(tp) is dict:
            tp, metadata = get_args(tp)[1], []
        else:
            return None, []
    tp, extra = unwrap_type(tp)
    return tp, metadata + extra


_SIGNS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _bounds(found: dict[str, Any]) -> str:
    if "ge" in found and "le" in found:
        return f"between {found['ge']:g} and {found['le']:g}"
    return " and ".join(f"{_SIGNS[a]} {v:g}" for a, v in found.items())


def _metadata_bounds(metadata: list) -> dict[str, Any]:
    found = {}
    for item in metadata:
        for attr in _SIGNS:
            if getattr(item, attr, None) is not None:
                found[attr] = getattr(item, attr)
    return found


_TYPE_NAMES = {
    "int": "a whole number",
    "float": "a number",
    "string": "a string (in quotes)",
    "bool": "true or false",
    "list": "a list [...]",
    "dict": "a table",
    "model": "a table",
}

#: Parts of a pydantic location that name no field: a union member's type or a validator.
_TYPE_PARTS = ("int", "float", "str", "bool")


def _field_part(part: Any) -> bool:
    if not isinstance(part, str):
        return True
    return not ("[" in part or part in _TYPE_PARTS or part.startswith("function"))


def field_path(loc: tuple, data: Any = None, label: Labeller | None = None) -> str:
    """The field path of a location (``firms[3] (mp-separation).capacity_tpy``); with
    ``label``, an entry of a top-level list of tables is labelled (its id, say)."""
    path = ""
    node = data
    for j, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            section = str(loc[j - 1]) if j == 1 else ""
            tag = label(section, item) if label is not None else ""
            path += f" ({tag})" if tag else ""
            node = item
        else:
            path += f".{part}" if path else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return path


def error_problems(
    err: dict,
    root: Any,
    data: Any = None,
    prefix: str = "",
    label: Labeller | None = None,
) -> list[str]:
    """The problem line(s) of one pydantic error (an entry of ``ValidationError.errors()``).

    Args:
        err: the error; its location is read in the schema ``root``.
        root: the model (or type) the input was validated against.
        data: the input, to label entries of lists in the path.
        prefix: a path to put before the error's own (the input is a part of a larger one).
        label: how to label a list entry (see :func:`field_path`).
    """
    loc = tuple(p for p in err["loc"] if _field_part(p))
    kind, given = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "value_error" and not loc:
        return msg.split("\n")
    if kind == "extra_forbidden":
        model, _ = walk(loc[:-1], root)
        allowed = list(model.model_fields) if isinstance(model, type) else []
        msg = f"unknown key '{loc[-1]}'" + did_you_mean(str(loc[-1]), allowed)
        if allowed:
            msg += f"; allowed keys: {', '.join(allowed)}"
    elif kind == "literal_error":
        tp, _ = walk(loc, root)
        allowed = [str(a) for a in get_args(tp)] if get_origin(tp) is Literal else []
        noun = loc[-1] if loc and isinstance(loc[-1], str) else "value"
        msg = f"unknown {noun} {given!r}; allowed: " + (", ".join(allowed) or err["msg"])
    elif kind == "missing":
        model, _ = walk(loc[:-1], root)
        info = model.model_fields.get(loc[-1]) if isinstance(model, type) else None
        hint = f" ({info.description})" if info is not None and info.description else ""
        msg = f"required field is missing{hint}"
    elif kind.startswith(("greater_than", "less_than")):
        _, metadata = walk(loc, root)
        found = _metadata_bounds(metadata) or {k: v for k, v in ctx.items() if k in _SIGNS}
        msg = f"must be {_bounds(found) or err['msg']} (got {given!r})"
    elif isinstance(given, datetime.date):
        msg = f'write dates as quoted "YYYY-MM" strings (got {given})'
    elif kind.split("_")[0] in _TYPE_NAMES and kind.endswith(("_type", "_parsing")):
        shown = "a table" if isinstance(given, dict) else repr(given)
        msg = f"must be {_TYPE_NAMES[kind.split('_')[0]]} (got {shown})"
    elif kind != "value_error" and not isinstance(given, dict | list):
        msg = f"{msg} (got {given!r})"
    path = field_path(loc, data, label)
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    return [f"{path}: {msg}" if path else msg]


def field_problems(
    exc: ValidationError,
    root: Any,
    data: Any = None,
    prefix: str = "",
    label: Labeller | None = None,
) -> list[str]:
    """One line per problem of a failed validation, each starting with its field path.

    Args: as :func:`error_problems`.
    """
    problems: list[str] = []
    for err in exc.errors():
        problems.extend(error_problems(err, root, data, prefix, label))
    return problems
