"""The GitHub Action (action.yml, reasoner/face/action.py), the pre-commit hooks (.pre-commit-hooks.yaml) and the
workflow of docs/ci.md, run on this machine as far as it allows (issue 16).

The Action's steps are executed in order as GitHub would run a composite action: the `${{ ... }}` expressions
of each step's `env`, `with` and `if` are evaluated over the inputs, `github.action_path` and the outputs of
earlier steps, `run:` scripts run with bash in the workspace with the variables GitHub sets (`GITHUB_OUTPUT`,
`GITHUB_STEP_SUMMARY`, `GITHUB_WORKSPACE`, `RUNNER_TEMP`, `CI`, `GITHUB_ACTIONS`). Steps that `uses:` another
action are not run: `actions/setup-python` (this interpreter stands for it) and
`github/codeql-action/upload-sarif`, whose input file is checked against GitHub's ingestion rules instead. The
install step (`pip install` of the action's checkout) is run by the packaging test
(tests/packaging/test_wheel.py), which builds and installs the distribution anyway.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from reasoner.face.render.sarif import REPO_URL
from tests.sarif import github_ingestible

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


class Runner:
    """Runs the steps of the composite action like the Actions runner (module docstring)."""

    def __init__(self, inputs: dict[str, str], tmp: Path, workspace: Path = ROOT) -> None:
        declared = load_action()["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        self.inputs = {name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
        self.tmp = tmp
        self.workspace = workspace
        self.outputs: dict[str, dict[str, str]] = {}
        self.uploaded: list[str] = []
        self.log: list[tuple[str, int, str, str]] = []

    def value(self, expr: str) -> str:
        """`inputs.X`, `github.action_path`, `steps.ID.outputs.X`, `runner.temp`."""
        if expr.startswith("inputs."):
            return self.inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr == "runner.temp":
            return str(self.tmp)
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return self.outputs.get(m[1], {}).get(m[2], "")
        raise AssertionError(f"expression the test runner does not know: {expr}")

    def expand(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def condition(self, text: str | None) -> bool:
        if text is None:
            return True  # (the default is success(): every earlier step of these runs succeeds)
        expr = EXPRESSION.sub(lambda m: m[1], str(text)).replace("&&", " and ").replace("||", " or ")
        expr = expr.replace("always()", "True")
        expr = re.sub(r"(inputs|steps)\.[\w.-]+", lambda m: repr(self.value(m[0])), expr)
        return bool(eval(expr, {"__builtins__": {}}, {}))

    def run(self, *, skip: tuple[str, ...] = ("install",)) -> int:
        """Run every step; the status of the last step run."""
        status = 0
        for step in load_action()["runs"]["steps"]:
            if not self.condition(step.get("if")):
                continue
            if "uses" in step:
                if step["uses"].startswith("github/codeql-action/upload-sarif@"):
                    self.uploaded.append(self.expand(step["with"]["sarif_file"]))
                continue
            if step.get("id") in skip:
                continue
            out_file = self.tmp / f"output-{step.get('id', 'step')}"
            out_file.write_text("", encoding="utf-8")
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(self.tmp / "summary.md"),
                   "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_ACTIONS": "true", "CI": "true",
                   "RUNNER_TEMP": str(self.tmp), "GITHUB_ACTION_PATH": str(ROOT)}
            env.update({k: self.expand(v) for k, v in (step.get("env") or {}).items()})
            assert step["shell"] == "bash"
            proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=self.workspace, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
            self.log.append((step.get("id", step["name"]), proc.returncode, proc.stdout, proc.stderr))
            pairs = [line.split("=", 1) for line in out_file.read_text(encoding="utf-8").splitlines() if "=" in line]
            if step.get("id"):
                self.outputs[step["id"]] = dict(pairs)  # type: ignore[arg-type]
            status = proc.returncode
            if status != 0:
                break
        return status

    def stdout(self, step: str) -> str:
        return next(out for name, _, out, _ in self.log if name == step)


def test_the_action_declares_what_its_steps_use() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == set(action["inputs"]), used ^ set(action["inputs"])
    steps = {s.get("id"): s for s in action["runs"]["steps"]}
    read = set(re.findall(r'_input\(env, "([\w-]+)"', (ROOT / "reasoner/face/action.py").read_text()))
    env = steps["run"]["env"]
    assert {f"INPUT_{name.upper().replace('-', '_')}" for name in read} == set(env), (read, env)
    assert "python -m reasoner.face.action" in steps["run"]["run"]
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}


def test_a_refuted_assertion_annotates_uploads_and_fails_the_job(tmp_path: Path) -> None:
    sarif = tmp_path / "reasoner.sarif"
    runner = Runner({"paths": "examples/org/failing", "sarif-file": str(sarif),
                     "formats": f"junit={tmp_path / 'r.xml'}"}, tmp_path)
    assert runner.run() == 1  # the verdict step fails the job
    assert runner.outputs["run"] == {"exit-code": "1", "sarif-file": str(sarif), "failed": "true"}
    log = runner.stdout("run")
    assert "::error file=examples/org/keys/app-data.json,line=30,col=5," in log
    assert runner.uploaded == [str(sarif)]
    doc = github_ingestible(sarif.read_text(encoding="utf-8"))
    assert doc["runs"][0]["automationDetails"]["id"] == "reasoner/check/"
    assert (tmp_path / "r.xml").is_file()
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("### reasoner check: exit status 1") and "| 1 | 0 | 0 |" in summary


def test_accepted_findings_pass_the_job(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text("version: 1\naccepted:\n  - assertion: no principal outside the security account decrypts "
                        "app data\n    reason: known\n    accepted_by: ci\n", encoding="utf-8")
    runner = Runner({"paths": "examples/org/failing", "accepted": str(accepted),
                     "sarif-file": str(tmp_path / "r.sarif")}, tmp_path)
    assert runner.run() == 0
    assert runner.outputs["run"]["exit-code"] == "0" and runner.outputs["run"]["failed"] == "false"
    assert "::notice file=examples/org/keys/app-data.json" in runner.stdout("run")
    (result,) = github_ingestible((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    assert result["suppressions"][0]["justification"].startswith("known")


def test_bad_input_still_uploads_a_document(tmp_path: Path) -> None:
    sarif = tmp_path / "r.sarif"
    runner = Runner({"command": "findings", "paths": "no/such/environment.yaml", "sarif-file": str(sarif)},
                    tmp_path)
    assert runner.run() == 1
    assert runner.outputs["run"]["exit-code"] == "2" and runner.uploaded == [str(sarif)]
    invocation = github_ingestible(sarif.read_text())["runs"][0]["invocations"][0]
    assert invocation["exitCode"] == 2 and invocation["toolExecutionNotifications"]
    assert runner.stdout("run").startswith("::error file=no/such/environment.yaml")


def test_an_unknown_command_is_an_annotation_and_nothing_is_uploaded(tmp_path: Path) -> None:
    runner = Runner({"command": "scan", "paths": "x"}, tmp_path)
    assert runner.run() == 1
    assert runner.outputs["run"] == {"exit-code": "2", "sarif-file": "", "failed": "true"}
    assert runner.uploaded == []  # the upload step's condition is false
    assert runner.stdout("run").startswith("::error title=reasoner action::input `command` must be one of")


def test_fail_on_error_lets_findings_pass(tmp_path: Path) -> None:
    runner = Runner({"command": "lint", "paths": "examples/org/environment.yaml", "fail-on": "error",
                     "sarif-file": str(tmp_path / "r.sarif")}, tmp_path)
    assert runner.run() == 0 and runner.outputs["run"]["exit-code"] == "1"


# ---- the workflow of docs/ci.md ------------------------------------------------------------------------


def test_the_documented_workflow_uses_the_action_as_declared() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    workflow = yaml.safe_load(re.search(r"```yaml\n(name: access policies.*?)```", text, re.S)[1])  # type: ignore[index]
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["permissions"]["contents"] == "read"
    on = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in on
    inputs = load_action()["inputs"]
    required = {k for k, v in inputs.items() if v.get("required")}
    repository = REPO_URL.removeprefix("https://github.com/").split("/blob/")[0]
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    ours = [s for s in steps if s.get("uses", "").startswith(repository + "@")]
    assert len(ours) == 2
    for step in ours:
        assert required <= set(step["with"]) <= set(inputs), step["with"]
    table = re.findall(r"^\| `([\w-]+)` \|", text, re.M)
    assert set(table) == set(inputs)  # every input is documented


# ---- pre-commit ----------------------------------------------------------------------------------------


def _hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return {h["id"]: h for h in hooks}


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    # examples/org/cloudformation/security.access needs template parameters (UNKNOWN without them, by design)
    shutil.copytree(ROOT / "examples" / "org", repo, ignore=shutil.ignore_patterns("failing", "security.access"))
    (repo / ".git").mkdir()
    return repo


def _run_hook(hook: dict[str, Any], repo: Path, changed: list[str]) -> subprocess.CompletedProcess[str]:
    """What pre-commit does with a hook: filter the changed files by `files` and `types`, then run
    `entry args files` (or `entry args` when `pass_filenames` is false) with the installed console script."""
    files = [f for f in changed if re.search(hook.get("files", ""), f)
             and ("json" not in hook.get("types", []) or f.endswith(".json"))]
    if not files:
        raise AssertionError(f"hook {hook['id']} would not run for {changed}")
    command, *entry_args = hook["entry"].split()
    script = Path(sys.executable).parent / command
    argv = [str(script), *entry_args, *hook.get("args", []), *(files if hook.get("pass_filenames", True) else [])]
    return subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=300, check=False)


def test_pre_commit_hooks(tmp_path: Path) -> None:
    hooks = _hooks()
    assert set(hooks) == {"reasoner-validate", "reasoner-check"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["name"] and hook["entry"].split()[0] in scripts
    repo = _repository(tmp_path)
    changed = ["keys/app-data.json", "iam/444455556666/analytics.json", "environment.yaml", "README.md"]
    ok = _run_hook(hooks["reasoner-validate"], repo, changed)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "in 2 files" in ok.stdout  # the two policies, not the manifest nor the README
    (repo / "keys" / "broken.json").write_text('{"Statement": [{"Effect": "allow"}]}', encoding="utf-8")
    bad = _run_hook(hooks["reasoner-validate"], repo, ["keys/broken.json"])
    assert bad.returncode == 1 and "keys/broken.json:1:" in bad.stdout
    checked = _run_hook(hooks["reasoner-check"], repo, ["keys/app-data.json"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shutil.copytree(ROOT / "examples" / "org" / "failing", repo / "failing")
    failing = _run_hook(hooks["reasoner-check"], repo, ["failing/external-decrypt.access"])
    assert failing.returncode == 1 and "REFUTED" in failing.stdout
