"""The layering of docs/architecture.md, checked on the source.

- Nothing outside ``world/`` reads the measures in force or the pending orders but through
  the measure book (``world.measures``, world/measures.py).
- Nothing outside ``world/`` reads a private attribute (one leading underscore) of a world
  object or imports a private name from ``world``: the UI, the experiments, the agents and the
  benchmarks drive the world through its public API only (DESIGN.md).
- The world reads no private attribute of an agent (a firm invests through its own orders).
- Nothing reads Mesa's private state (its clock's, its model's, its agents'): a copy of the world
  (``World.fork``) steps on Mesa's public scheduling API.
- Dependencies run one way: ``ui -> play -> world, agents`` and ``experiments -> world``.
  ``world/`` and ``agents/`` import nothing from ``play/``, ``ui/``, ``experiments/``,
  ``app.py`` or ``benchmarks/``; ``play/`` (games being played: sessions, turns, undo, the
  workshop room and store, branching) imports nothing from ``ui/``, ``experiments/``, ``app.py``
  or ``benchmarks/``, and draws nothing (no matplotlib, no Solara); ``ui/`` and ``app.py``
  import nothing from ``experiments/``, and ``experiments/`` imports ``ui/`` or ``play/`` only
  inside the ``chokepoint`` subcommands that start them (:data:`UI_STARTERS`), so the web stack
  loads for them alone.

The checks read the code with :mod:`ast`, so a name in a comment does not count (nor in a
string, except Mesa's names, which ``getattr`` could reach); ``self._x`` and ``cls._x`` are an
object's own business and are allowed, except for Mesa's names (a ``World`` is a Mesa model).
"""

from __future__ import annotations

import ast
from pathlib import Path

import mesa
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Packages and modules outside the model that must use its public API only.
OUTSIDE = ("agents", "play", "ui", "experiments", "benchmarks", "app.py")
#: What the model (world/) and its agents (agents/) must not import.
UPPER = ("play", "ui", "experiments", "benchmarks", "app")
#: What the games being played (play/) must not import: the layers above them and drawing.
ABOVE_PLAY = ("ui", "experiments", "benchmarks", "app", "matplotlib", "solara", "reacton")
#: The only functions of experiments/ that may import ui/: the subcommands that start it.
UI_STARTERS = {("experiments/cli.py", "_cmd_play"), ("experiments/cli.py", "_cmd_serve")}


def _sources(*names: str) -> list[Path]:
    found = []
    for name in names:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_names(tree: ast.AST) -> set[str]:
    """The private attribute and method names a module defines: ``self._x = ...`` (plain,
    annotated or augmented assignments, tuple targets too) and ``def _x`` / ``async def _x``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_private(node.name):
            names.add(node.name)
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and isinstance(leaf.value, ast.Name)
                    and leaf.value.id == "self"
                    and _is_private(leaf.attr)
                ):
                    names.add(leaf.attr)
    return names


def private_reads(tree: ast.AST, private: set[str]) -> list[tuple[int, str]]:
    """``(line, text)`` of every ``expr._x`` with ``_x`` in ``private`` and ``expr`` not
    ``self`` or ``cls``, and of every ``from world... import _x``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "world":
            found += [
                (node.lineno, f"from {node.module} import {a.name}")
                for a in node.names
                if _is_private(a.name)
            ]
    return found


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` of every absolute import in a module, at any depth (a relative import
    stays inside its own top-level package, so it cannot cross a layer)."""
    return [found for node in ast.walk(tree) for found in imported_modules_here(node)]


def names_used(tree: ast.AST, names: set[str]) -> list[tuple[int, str]]:
    """``(line, text)`` of every attribute in ``names`` on any object, ``self`` included (a
    ``World`` is a ``mesa.Model``), and of every string that spells one (``getattr``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Constant) and node.value in names:
            found.append((node.lineno, repr(node.value)))
    return found


def _private_names_of(*names: str) -> set[str]:
    found = set()
    for path in _sources(*names):
        found |= private_names(ast.parse(path.read_text(), str(path)))
    return found


def test_nothing_outside_world_reads_a_private_attribute_of_a_world_object():
    private = _private_names_of("world")
    assert {"_counter", "_apply", "_parse"} <= private  # the collector sees the desk
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources(*OUTSIDE)
        for line, text in private_reads(ast.parse(path.read_text(), str(path)), private)
    ]
    assert not offences, "private world attributes read outside world/:\n" + "\n".join(offences)


#: What the measure book (world/measures.py) answers for: (owner attribute, attribute).
BOOK_KEPT = {("desk", "pending"), ("desk", "programmes"), ("policies", "specs")}


def book_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, text)`` of every ``<...>.desk.pending``, ``desk.programmes`` or
    ``policies.specs`` (the owner a name or an attribute), read or written."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.attr) in BOOK_KEPT:
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_nothing_outside_world_reads_the_measures_but_through_the_measure_book():
    assert book_reads(ast.parse("w.desk.pending.clear(); desk.programmes; x.policies.specs"))
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources(*OUTSIDE)
        for line, text in book_reads(ast.parse(path.read_text(), str(path)))
    ]
    assert not offences, "measures read around world.measures:\n" + "\n".join(offences)


def test_the_world_reads_no_private_attribute_of_an_agent():
    # A name the world defines itself is the world's own (a desk's ``_apply``, say).
    private = _private_names_of("agents") - _private_names_of("world")
    assert {"_invest", "_trigger_met"} <= private  # the firm's own investment steps
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources("world")
        for line, text in private_reads(ast.parse(path.read_text(), str(path)), private)
    ]
    assert not offences, "private agent attributes read in world/:\n" + "\n".join(offences)


def test_nothing_reads_mesa_private_state():
    mesa_root = Path(mesa.__file__).parent
    ours = (*OUTSIDE, "world")
    mesa_private = set()
    for name in ("model.py", "agent.py", "time/events.py"):
        mesa_private |= private_names(ast.parse((mesa_root / name).read_text()))
    for path in _sources(*ours):  # a name of our own that Mesa also uses is ours to read
        mesa_private -= private_names(ast.parse(path.read_text()))
    assert {"_default_schedule", "_schedule_next", "_event_list"} <= mesa_private
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources(*ours)
        for line, text in names_used(ast.parse(path.read_text(), str(path)), mesa_private)
    ]
    assert not offences, "Mesa's private state read:\n" + "\n".join(offences)


@pytest.mark.parametrize("package", ["world", "agents"])
def test_the_model_imports_nothing_from_the_layers_above_it(package):
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for path in _sources(package)
        for line, target in imported_modules(ast.parse(path.read_text()))
        if target.split(".")[0] in UPPER
    ]
    assert not offences, f"{package}/ depends on the UI or experiments:\n" + "\n".join(offences)


def test_the_games_being_played_import_neither_pages_nor_drawing():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for path in _sources("play")
        for line, target in imported_modules(ast.parse(path.read_text()))
        if target.split(".")[0] in ABOVE_PLAY
    ]
    assert not offences, "play/ depends on the UI, experiments or drawing:\n" + "\n".join(offences)


def imports_by_function(tree: ast.AST) -> list[tuple[int, str, str]]:
    """``(line, module, function)`` of every absolute import, ``function`` the name of the
    innermost function around it (``""`` at module level or in a class body)."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            found.extend((line, module, function) for line, module in imported_modules_here(child))
            visit(child, function)

    visit(tree, "")
    return found


def imported_modules_here(node: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` if ``node`` itself is an absolute import, else nothing."""
    if isinstance(node, ast.Import):
        return [(node.lineno, a.name) for a in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level:
        return [(node.lineno, node.module or "")]
    return []


def ui_imports_outside_starters(rel: str, tree: ast.AST) -> list[str]:
    """The imports of ui/ in a module of experiments/ outside :data:`UI_STARTERS`."""
    return [
        f"{rel}:{line}: imports {target}" + (f" in {function}" if function else "")
        for line, target, function in imports_by_function(tree)
        if target.split(".")[0] in ("ui", "play") and (rel, function) not in UI_STARTERS
    ]


def test_the_ui_imports_nothing_from_the_experiments():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for path in _sources("ui", "app.py")
        for line, target in imported_modules(ast.parse(path.read_text()))
        if target.split(".")[0] == "experiments"
    ]
    assert not offences, "ui/ depends on experiments/:\n" + "\n".join(offences)


def test_the_experiments_start_the_ui_only_from_its_subcommands():
    offences = []
    for path in _sources("experiments"):
        rel = path.relative_to(ROOT).as_posix()
        offences += ui_imports_outside_starters(rel, ast.parse(path.read_text()))
    assert not offences, "experiments/ depends on ui/:\n" + "\n".join(offences)
    starters = imports_by_function(ast.parse((ROOT / "experiments/cli.py").read_text()))
    assert {f for _, t, f in starters if t.split(".")[0] in ("ui", "play")} == {
        f for _, f in UI_STARTERS
    }


def test_the_checks_catch_what_they_guard_against():
    world_code = ast.parse(
        "class Desk:\n"
        "    def __init__(self):\n"
        "        self._counter = 0\n"
        "        self.a, self._b = 1, 2\n"
        "    def _apply(self):\n"
        "        self._counter += 1\n"
    )
    private = private_names(world_code)
    assert private == {"_counter", "_b", "_apply"}
    ui_code = ast.parse(
        "w.desk._counter = max(w.desk._counter, 1)\n"
        "self._counter = 2\n"
        "self.model._apply()\n"
        "os._exit(0)\n"
        "from world.order_desk import _try_json\n"
    )
    assert sorted(private_reads(ui_code, private)) == [
        (1, "w.desk._counter"),
        (1, "w.desk._counter"),
        (3, "self.model._apply"),
        (5, "from world.order_desk import _try_json"),
    ]
    mesa_code = ast.parse(
        "clock = getattr(self, '_default_schedule')\nself._event_list.add_event(e)\n"
    )
    assert sorted(names_used(mesa_code, {"_default_schedule", "_event_list"})) == [
        (1, "'_default_schedule'"),
        (2, "self._event_list"),
    ]
    lower = ast.parse(
        "import ui.page, numpy\nfrom . import base\ndef f():\n    from experiments import spec\n"
    )
    assert sorted(imported_modules(lower)) == [(1, "numpy"), (1, "ui.page"), (4, "experiments")]
    cli = ast.parse(
        "from ui.serve import play\n"
        "def _cmd_play():\n    from ui.serve import play\n"
        "def _cmd_report():\n    import ui.page\n"
        "class C:\n    def _cmd_serve(self):\n        def inner():\n            import ui.x\n"
    )
    assert ui_imports_outside_starters("experiments/cli.py", cli) == [
        "experiments/cli.py:1: imports ui.serve",
        "experiments/cli.py:5: imports ui.page in _cmd_report",
        "experiments/cli.py:9: imports ui.x in inner",
    ]
    assert ui_imports_outside_starters(
        "experiments/report.py", ast.parse("def _cmd_play():\n    import ui.page\n")
    ) == ["experiments/report.py:2: imports ui.page in _cmd_play"]
