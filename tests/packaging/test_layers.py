"""The layer rules of `reasoner/`, checked on its real import graph (issue 12, "one house with visible floors").

The graph is computed by parsing every module of the package with `ast`: every `import` and `from ... import`
anywhere in a module (module level, inside functions and classes, under `if TYPE_CHECKING:`), relative imports
resolved, plus dynamic imports by name (a string constant that is the name of one of our modules, such as the
facade's table of lazily loaded names, or the argument of `importlib.import_module`). An edge goes to the module
that is named: `from reasoner.symbolic import smt` is an edge to `reasoner.symbolic.smt`, `from
reasoner.symbolic.smt import Term` one to `reasoner.symbolic.smt`. The parent packages Python runs on the way
(`reasoner/__init__.py`, `reasoner/symbolic/__init__.py`) are not edges: they are run by every import alike.

The floors, bottom to top (`LAYERS` says what each may import besides itself and the base modules):

    face        cli, pytest plugin, renderers: anything below
    batch       work units, cache and executors of `reasoner scan`: the face's level (face <-> batch)
    language    the property language: analyses, front, semantics
    analyses    properties, pipeline, results, findings: symbolic, semantics, front
    symbolic    the Z3 encoding: semantics, front
    front       parse, validate, manifest: semantics       (front and semantics may import each other:
    semantics   evaluator, values, names: front             the AST is front's, the evaluator reads it)

Base modules (`errors`, `source`, `version`, `limits`) may be imported from every floor and import only each other. The
facade (`reasoner/__init__.py`) and `__main__` stand above the face: they may import anything, and anything
may import them (the no-cycle rule still applies to them). Only `symbolic/smt.py` (the one Z3 factory) and
`symbolic/solve.py` (the solver wrapper) import `z3`; `symbolic/decode.py` reads models through `smt`.
Nothing may import itself back, directly or through others, at module level or inside functions alike.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reasoner"

#: The floors: a floor's name is the sub-package under `reasoner/`; each may import itself, the base modules and
#: the floors listed here.
LAYERS: dict[str, frozenset[str]] = {
    "front": frozenset({"semantics"}),
    "semantics": frozenset({"front"}),
    "symbolic": frozenset({"front", "semantics"}),
    "analyses": frozenset({"symbolic", "semantics", "front"}),
    "language": frozenset({"analyses", "semantics", "front"}),
    "face": frozenset({"language", "analyses", "symbolic", "semantics", "front", "batch"}),
    # the batch runner (work units, cache, executors; docs/scan.md) stands at the face's level
    "batch": frozenset({"face", "language", "analyses", "symbolic", "semantics", "front"}),
}
#: Modules every floor may import; they import only each other.
BASE = frozenset({"reasoner.errors", "reasoner.source", "reasoner.version", "reasoner.limits"})
#: Above every floor: may import anything.
TOP = frozenset({"reasoner", "reasoner.__main__"})
#: The only modules that import `z3`.
Z3_IMPORTERS = frozenset({"reasoner.symbolic.smt", "reasoner.symbolic.solve"})


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}  ({self.file}:{self.line})"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, *, is_package: bool, known: frozenset[str], file: str = "") -> Iterator[Edge]:
    """Every import of one module's text, wherever it is written, as edges to the modules named."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(module, alias.name, file, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                parent = ".".join([*base, node.module] if node.module else base)
            else:
                parent = node.module or ""
            for alias in node.names:  # `from a.b import c`: the submodule `a.b.c` if there is one, else `a.b`
                sub = f"{parent}.{alias.name}"
                yield Edge(module, sub if sub in known else parent, file, node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value \
                and node.value in known:
            # a submodule named in a string: the facade's lazy names, `importlib.import_module("...")` (not the
            # bare word "reasoner", which is also the tool's name in reports)
            yield Edge(module, node.value, file, node.lineno)


@cache
def graph() -> tuple[frozenset[str], tuple[Edge, ...]]:
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    known = frozenset(files)
    edges: list[Edge] = []
    for name, path in files.items():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        edges.extend(imports(text, name, is_package=path.name == "__init__.py", known=known, file=rel))
    return known, tuple(sorted(set(edges)))


def internal_edges() -> list[Edge]:
    known, edges = graph()
    return [e for e in edges if e.target in known and e.target != e.source]


def layer_of(module: str) -> str | None:
    """The floor of a module (`reasoner.front.parse` -> `front`), or None for base and top modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _fail(what: str, edges: list[Edge]) -> str:
    return f"{what}:\n  " + "\n  ".join(map(str, edges))


# ---- the scanner itself --------------------------------------------------------------------------------------


def test_the_scanner_sees_imports_in_functions_type_checking_blocks_and_strings() -> None:
    text = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from .. import errors\n"
        "if TYPE_CHECKING:\n"
        "    from reasoner.front.ast import Statement\n"
        "def f():\n"
        "    import z3\n"
        "    from reasoner.symbolic import smt\n"
        "    return importlib.import_module('reasoner.face.cli')\n"
    )
    known = frozenset({"reasoner.errors", "reasoner.front.ast", "reasoner.symbolic.smt", "reasoner.face.cli",
                       "reasoner.analyses.sibling"})
    got = {(e.target, e.line) for e in imports(text, "reasoner.analyses.m", is_package=False, known=known)}
    assert got >= {("reasoner.analyses.sibling", 3), ("reasoner.errors", 4), ("reasoner.front.ast", 6),
                   ("z3", 8), ("reasoner.symbolic.smt", 9), ("reasoner.face.cli", 10)}


def test_every_module_is_on_a_floor_or_named_as_base_or_top() -> None:
    known, _ = graph()
    stray = sorted(m for m in known if layer_of(m) is None and m not in BASE | TOP)
    assert not stray, f"modules outside every floor (add them to a floor, or to BASE/TOP in this test): {stray}"
    assert {m.split(".")[1] for m in known if layer_of(m)} == set(LAYERS)


# ---- the rules ---------------------------------------------------------------------------------------------------


def test_each_floor_imports_only_itself_the_floors_below_and_the_base() -> None:
    bad = []
    for e in internal_edges():
        if e.source in TOP or e.target in BASE or e.target in TOP:
            continue
        if e.source in BASE:
            bad.append(e)  # a base module imports only base modules
            continue
        src, dst = layer_of(e.source), layer_of(e.target)
        assert src is not None and dst is not None, e
        if dst != src and dst not in LAYERS[src]:
            bad.append(e)
    assert not bad, _fail("imports that cross the floors upwards (allowed: see LAYERS)", bad)


def test_nothing_below_the_face_imports_the_face() -> None:
    bad = [e for e in internal_edges()
           if layer_of(e.target) == "face" and layer_of(e.source) not in ("face", "batch") and e.source not in TOP]
    assert not bad, _fail("imports of the face from below it", bad)


def test_only_smt_and_solve_import_z3() -> None:
    _, edges = graph()
    bad = [e for e in edges if e.target.split(".")[0] == "z3" and e.source not in Z3_IMPORTERS]
    assert not bad, _fail(f"z3 imported outside {sorted(Z3_IMPORTERS)}", bad)
    importers = {e.source for e in edges if e.target.split(".")[0] == "z3"}
    assert importers == Z3_IMPORTERS, f"update Z3_IMPORTERS: z3 is imported by {sorted(importers)}"


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    succ: dict[str, set[str]] = {}
    for e in edges:
        succ.setdefault(e.source, set()).add(e.target)
        succ.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return sorted(out)


def test_the_cycle_finder_finds_cycles() -> None:
    edges = [Edge("a", "b", "", 1), Edge("b", "c", "", 1), Edge("c", "a", "", 1), Edge("c", "d", "", 1)]
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles(edges[1:]) == []


def test_no_import_cycles_at_module_level_or_inside_functions() -> None:
    edges = internal_edges()
    cycles = _cycles(edges)
    report = []
    for component in cycles:
        inside = set(component)
        report.append(" <-> ".join(component))
        report.extend(f"    {e}" for e in edges if e.source in inside and e.target in inside)
    assert not cycles, "import cycles:\n  " + "\n  ".join(report)
