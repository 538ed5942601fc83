"""`evaluate.py` and `encode.py` mirror each other function by function, by name (house style rule 2).

Read with `ast`, not imported: the concrete side is the module-level functions of `semantics/evaluate.py`, the
symbolic side the module-level functions of `symbolic/encode.py` and the methods of its `Encoder`. The naming
convention (stated in both module docstrings, "Mirrored pairs"): `evaluate` <-> `encode`; `evaluate_X` and
`match_X` <-> `encode_X`; `_evaluate_X` <-> `_encode_X`; every other name <-> the same name. A symbolic
function may also mirror a function of the shared IR `semantics/ir.py` (`Encoder._compare` <-> `ir.compare`).
Each module's `NOT_MIRRORED` tuple lists its functions without a counterpart; its docstring says why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "reasoner"
EVALUATE = ROOT / "semantics" / "evaluate.py"
ENCODE = ROOT / "symbolic" / "encode.py"
IR = ROOT / "semantics" / "ir.py"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _functions(tree: ast.Module, cls: str | None = None) -> list[str]:
    """Module-level functions, plus the methods of class `cls` (dunder methods left out)."""
    out = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            out += [m.name for m in node.body if isinstance(m, ast.FunctionDef) and not m.name.startswith("__")]
    return out


def _not_mirrored(tree: ast.Module) -> tuple[str, ...]:
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "NOT_MIRRORED":
            assert node.value is not None
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError("no module-level NOT_MIRRORED tuple")


def _docstring_list(tree: ast.Module) -> set[str]:
    """The names in backticks at the start of each item of the docstring's "Not mirrored, by design" list."""
    doc = ast.get_docstring(tree) or ""
    _head, sep, rest = doc.partition("Not mirrored, by design")
    assert sep, "the module docstring has no 'Not mirrored, by design' list"
    names: set[str] = set()
    for item in re.split(r"\n- ", rest)[1:]:
        lead = item.split(":", 1)[0]
        names |= set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", lead))
    return names


def symbolic_name(concrete: str) -> str:
    """The name of the mirror of a concrete function (the convention of the module docstrings)."""
    if concrete == "evaluate":
        return "encode"
    under = "_" if concrete.startswith("_") else ""
    stem = concrete[len(under):]
    for prefix in ("evaluate_", "match_"):
        if stem.startswith(prefix):
            return f"{under}encode_{stem[len(prefix):]}"
    return concrete


CONCRETE = _functions(_tree(EVALUATE))
SYMBOLIC = _functions(_tree(ENCODE), "Encoder")
SHARED = _functions(_tree(IR))
CONCRETE_SKIP = _not_mirrored(_tree(EVALUATE))
SYMBOLIC_SKIP = _not_mirrored(_tree(ENCODE))


def test_the_modules_define_what_the_test_reads() -> None:
    assert len(CONCRETE) > 30 and len(SYMBOLIC) > 30 and "compare" in SHARED
    assert len(set(CONCRETE)) == len(CONCRETE), "a concrete function is defined twice"
    assert len(set(SYMBOLIC)) == len(SYMBOLIC), "a symbolic function is defined twice"


@pytest.mark.parametrize("name", [n for n in CONCRETE if n not in CONCRETE_SKIP])
def test_every_concrete_function_has_its_symbolic_mirror(name: str) -> None:
    assert symbolic_name(name) in SYMBOLIC, (
        f"evaluate.{name} has no mirror `{symbolic_name(name)}` in encode.py; rename one side or list it in "
        "evaluate.NOT_MIRRORED with the reason in the module docstring"
    )


@pytest.mark.parametrize("name", [n for n in SYMBOLIC if n not in SYMBOLIC_SKIP])
def test_every_symbolic_function_has_its_concrete_mirror(name: str) -> None:
    concrete = {symbolic_name(n): n for n in CONCRETE}
    assert name in concrete or name.lstrip("_") in SHARED, (
        f"encode.{name} mirrors no function of evaluate.py (nor of the shared ir.py); rename one side or list "
        "it in encode.NOT_MIRRORED with the reason in the module docstring"
    )


def test_the_pairing_is_one_to_one() -> None:
    images = [symbolic_name(n) for n in CONCRETE if n not in CONCRETE_SKIP]
    assert len(images) == len(set(images)), "two concrete functions map to one symbolic name"


@pytest.mark.parametrize(("path", "skip", "defined"), [(EVALUATE, CONCRETE_SKIP, CONCRETE),
                                                       (ENCODE, SYMBOLIC_SKIP, SYMBOLIC)],
                         ids=["evaluate", "encode"])
def test_the_not_mirrored_lists_are_exact(path: Path, skip: tuple[str, ...], defined: list[str]) -> None:
    """Each listed name is a function of its module that really has no mirror, and the docstring names it."""
    assert len(set(skip)) == len(skip)
    assert set(skip) <= set(defined), f"NOT_MIRRORED names functions {path.name} does not define"
    assert set(skip) <= _docstring_list(_tree(path)), f"the docstring of {path.name} does not explain every entry"
    concrete = {symbolic_name(n) for n in CONCRETE}
    for name in skip:
        if path == EVALUATE:
            assert symbolic_name(name) not in SYMBOLIC, f"evaluate.{name} is listed but has a mirror"
        else:
            assert name not in concrete and name.lstrip("_") not in SHARED, f"encode.{name} is listed but mirrored"


def test_encode_reads_no_private_name_of_evaluate() -> None:
    """The compiled IR is `ir.py`'s: encode.py uses only public names of evaluate.py."""
    tree = _tree(ENCODE)
    private = sorted({node.attr for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                      and node.value.id == "ev" and node.attr.startswith("_")})
    assert private == []
    imported = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "reasoner.semantics.evaluate" for a in node.names]
    assert not [n for n in imported if n.startswith("_")]
