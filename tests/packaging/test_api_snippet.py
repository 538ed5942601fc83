"""The README's "Python API" snippet runs exactly as printed, and the facade's names stay what they are.

Two bugs found from outside:
- `import reasoner; reasoner.check(...); reasoner.evaluate(env, req)` raised `TypeError: 'module' object is
  not callable`: importing a submodule named like a facade function replaced the function on the package;
- from the repository root, where the source tree shadows the installed package, the grammar was missing
  (`ModuleNotFoundError: reasoner.grammars`).

The snippet is taken from README.md (so the README cannot drift), and every line `expression  # shown` is also
checked: the value's `repr` (or `str`) must read as `shown`, with `...` standing for any text. It runs in a fresh
interpreter: from the repository root as a plain source checkout (the installed package's import hooks
removed, so nothing but the source tree provides `reasoner`), and from another directory; and with its calls
in every order.
"""

from __future__ import annotations

import ast
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import reasoner

ROOT = Path(__file__).resolve().parents[2]

#: Run first in the interpreter that runs the snippet: `shows(value, text)` checks a `# shown` comment, and
#: PLAIN_CHECKOUT=1 removes the import hooks of an editable install, so that `reasoner.grammars` exists only
#: if the source tree provides it (as in a checkout that was never installed).
PRELUDE = '''
import os, re, sys
if os.environ.get("PLAIN_CHECKOUT") == "1":
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
    sys.path_importer_cache.clear()

def shows(value, text):
    pattern = ".*".join(re.escape(part) for part in text.split("..."))
    assert any(re.fullmatch(pattern, s, re.S) for s in (repr(value), str(value))), \
        f"README says {text!r}, the value is {value!r}"
'''


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^## Python API\n+```python\n(.*?)^```", text, re.S | re.M)
    assert m, "README.md has no ```python block under `## Python API`"
    return m.group(1)


def _checked(snippet: str) -> list[str]:
    """The snippet's top-level statements, each as source; `expr  # shown` becomes `shows(expr, "shown")`."""
    lines = snippet.splitlines()
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(snippet).readline) if tok.type == tokenize.COMMENT}
    out = []
    for node in ast.parse(snippet).body:
        src = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        shown = comments.get(node.end_lineno or node.lineno)
        if isinstance(node, ast.Expr) and shown:
            src = f"shows({ast.get_source_segment(snippet, node.value)}, {shown!r})"
        out.append(src)
    return out


def run_python(code: str, cwd: Path, *, plain_checkout: bool) -> subprocess.CompletedProcess[str]:
    return _start(code, cwd, plain_checkout=plain_checkout).communicate_result()


class _Run(subprocess.Popen[str]):
    def communicate_result(self) -> subprocess.CompletedProcess[str]:
        out, err = self.communicate(timeout=300)
        return subprocess.CompletedProcess(self.args, self.returncode, out, err)


def _start(code: str, cwd: Path, *, plain_checkout: bool) -> _Run:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PLAIN_CHECKOUT"] = "1" if plain_checkout else "0"
    return _Run([sys.executable, "-c", PRELUDE + code], cwd=cwd, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)


def _elsewhere(tmp_path: Path) -> Path:
    """Another directory with the example files the snippet names (paths are relative, as printed)."""
    shutil.copytree(ROOT / "examples" / "seed", tmp_path / "examples" / "seed")
    return tmp_path


def test_the_snippet_checks_its_shown_values() -> None:
    checked = _checked(readme_snippet())
    assert any(s.startswith("shows(result.verdict,") for s in checked), checked
    assert not any("..." in s and not s.startswith("shows(") for s in checked), \
        "the README snippet still has `...` placeholders outside its comments"


@pytest.mark.solver
@pytest.mark.parametrize("where", ["repository root, plain checkout", "another directory"])
def test_the_readme_python_api_snippet_runs_as_printed(where: str, tmp_path: Path) -> None:
    at_root = where.startswith("repository root")
    cwd = ROOT if at_root else _elsewhere(tmp_path)
    code = "\n".join(_checked(readme_snippet())) + (
        "\nimport pathlib, reasoner.front.grammars as g"
        "\nprint(pathlib.Path(reasoner.__file__).resolve().parent)"
        "\nassert 'statement_block' in g.grammar_text('policy.lark')\n"
    )
    run = run_python(code, cwd, plain_checkout=at_root)
    assert run.returncode == 0, run.stderr[-3000:]
    if at_root:  # the source tree was imported, not an installed copy
        assert run.stdout.strip().splitlines()[-1] == str(ROOT / "reasoner")


def _orders() -> list[tuple[str, ...]]:
    """The snippet's statements after loading the environment, in groups that depend only on `env` (a group
    is a statement and the statements that use what it binds), in every order of the groups."""
    statements = _checked(readme_snippet())
    head = [s for s in statements if s.startswith(("import ", "env ="))]
    groups: list[list[str]] = []
    for s in statements:
        if s in head:
            continue
        uses = {n.id for n in ast.walk(ast.parse(s)) if isinstance(n, ast.Name)}
        bound = [g for g in groups if any(_binds(x) & uses for x in g)]
        if bound:
            bound[-1].append(s)
        else:
            groups.append([s])
    return [tuple(head + [s for g in order for s in g]) for order in itertools.permutations(groups)]


def _binds(statement: str) -> set[str]:
    node = ast.parse(statement).body[0]
    targets = node.targets if isinstance(node, ast.Assign) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


@pytest.mark.solver
@pytest.mark.slow
def test_the_snippet_runs_with_its_calls_in_every_order() -> None:
    orders = _orders()
    assert len(orders) >= 6, orders  # check a claim, check a property value, evaluate a request
    runs = [_start("\n".join(order), ROOT, plain_checkout=True) for order in orders]  # in parallel
    for order, proc in zip(orders, runs, strict=True):
        run = proc.communicate_result()
        assert run.returncode == 0, "\n".join(order) + "\n" + run.stderr[-3000:]


FACADE_FUNCTIONS = ("check", "evaluate", "compile_environment", "load_environment", "load_policy", "parse_policy")

EVERY_SUBMODULE = """
import pkgutil, importlib, types
import reasoner
before = {name: getattr(reasoner, name) for name in reasoner.__all__}
for info in pkgutil.walk_packages(reasoner.__path__, "reasoner."):
    if not info.name.endswith(".__main__"):  # that one runs the command line
        importlib.import_module(info.name)
after = {name: getattr(reasoner, name) for name in reasoner.__all__}
changed = sorted(name for name in before if after[name] is not before[name])
assert not changed, f"importing the submodules changed {changed}"
modules = sorted(name for name, value in after.items() if isinstance(value, types.ModuleType))
assert not modules, f"facade names that are modules: {modules}"
for name in %r:
    assert callable(getattr(reasoner, name)), name
print(len(after))
"""


def test_every_name_in_all_resolves() -> None:
    missing = [name for name in reasoner.__all__ if not hasattr(reasoner, name)]
    assert not missing, missing
    assert len(set(reasoner.__all__)) == len(reasoner.__all__)


def test_no_submodule_is_named_like_a_facade_name() -> None:
    import pkgutil

    submodules = {info.name for info in pkgutil.iter_modules(reasoner.__path__)}
    assert not submodules & set(reasoner.__all__), submodules & set(reasoner.__all__)


@pytest.mark.parametrize("plain_checkout", [True, False], ids=["plain checkout", "installed"])
def test_importing_every_submodule_leaves_the_facade_functions_callable(plain_checkout: bool) -> None:
    run = run_python(EVERY_SUBMODULE % (FACADE_FUNCTIONS,), ROOT, plain_checkout=plain_checkout)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == [str(len(reasoner.__all__))]


RESULT_FORMS = """
import reasoner
env = reasoner.load_environment("examples/seed/environment.yaml")
r = reasoner.check(env, "no principal outside account 111122223333 can kms:Decrypt on all keys")
assert repr(r).startswith("CheckResult(REFUTED: no principal outside account 111122223333 can kms:Decrypt"), repr(r)
assert r._repr_markdown_().startswith("**REFUTED**") and r._repr_html_().startswith('<div class="reasoner-result">')
"""

PLAIN_RESULT = """
import sys
from reasoner.analyses.result import CheckResult, Verdict
r = CheckResult("p", Verdict.PROVED)
assert "reasoner.face.render.results" not in sys.modules
assert repr(r) == "CheckResult(PROVED, property='p', counterexample=None, reason=None)", repr(r)
assert r._repr_markdown_() is None and r._repr_html_() is None
"""


@pytest.mark.solver
def test_results_of_the_facade_have_their_readable_forms() -> None:
    # `CheckResult` is below the face: the renderer installs the forms, and the facade loads it with `check`
    run = run_python(RESULT_FORMS, ROOT, plain_checkout=False)
    assert run.returncode == 0, run.stderr[-3000:]


def test_a_result_without_the_renderer_has_a_plain_repr_and_no_notebook_forms() -> None:
    run = run_python(PLAIN_RESULT, ROOT, plain_checkout=False)
    assert run.returncode == 0, run.stderr[-3000:]
