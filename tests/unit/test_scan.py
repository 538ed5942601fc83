"""`reasoner scan` (issue 17): per-resource work units, their cache and resumption, the process pool and Dask.

What would break: a record that differs from the per-resource commands (`findings`/`lint --resource`,
`check`), a slice that changes a verdict, executors that disagree byte for byte, a worker death that loses a
result, a cache that recomputes what did not change (or reuses what did), a run that cannot resume.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from reasoner.batch import executors
from reasoner.batch.slices import Slicer, slice_environment, targets
from reasoner.batch.units import CheckSpec, Job, ScanOptions, Unit, record_line
from reasoner.face.cli import main

from ..sarif import valid_sarif

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ORG = EXAMPLES / "org" / "environment.yaml"
PROPOSED = EXAMPLES / "org" / "proposed" / "environment.yaml"
RESOURCES = EXAMPLES / "resources" / "environment.yaml"
SEED = EXAMPLES / "seed" / "environment.yaml"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def scan_records(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
    status, out, err = run_cli("scan", *argv, "--format", "jsonl", "--quiet")
    return status, [json.loads(line) for line in out.splitlines()], err


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


# ---- slices -----------------------------------------------------------------------------------------------


def test_a_slice_keeps_everything_but_the_other_resources() -> None:
    from reasoner.face.api import load_subject

    env = load_subject(str(RESOURCES))
    ts = targets(env)
    assert [t.type for t in ts][:1] == ["AWS::S3::Bucket"] and "AWS::IAM::Role" in {t.type for t in ts}
    s = Slicer(env)
    for t in ts:
        one = s.slice(t.arn, prune=False)
        assert [x.arn for x in targets(one)] == [t.arn]
        assert one.accounts == env.accounts and one.organizations == env.organizations
        assert [p.arn for p in one.principals] == [p.arn for p in env.principals]
        assert [p.identity_policies for p in one.principals] == [p.identity_policies for p in env.principals]
        # the same, but for caller-side statements that cannot apply to the target (`mentions=None`: every
        # role kept; by default the roles then indistinguishable from undeclared ones are left out)
        pruned = s.slice(t.arn, mentions=None)
        assert [p.arn for p in pruned.principals] == [p.arn for p in one.principals]
        assert {p.arn for p in s.slice(t.arn).principals} <= {p.arn for p in one.principals}
        assert pruned.keys == one.keys and pruned.resources == one.resources
        assert [len(p.identity_policies) for p in pruned.principals] == [len(p.identity_policies)
                                                                         for p in one.principals]
    from reasoner.errors import InputError

    with pytest.raises(InputError, match="not a key, resource or role"):
        slice_environment(env, "arn:aws:s3:::no-such-bucket")


def _classes(result: Any) -> dict[str, Any]:
    """What findings claim, without the example requests the solver happened to pick."""
    out = {}
    for k in result.keys:
        out[k.key] = (k.complete.value, sorted(
            (f.principal.kind, f.principal.value, f.actions, tuple(str(c) for c in f.conditions), f.public,
             tuple((s.policy, s.index) for s in f.statements)) for f in k.findings))
    return out


@pytest.mark.parametrize("path", [ORG, RESOURCES, SEED], ids=["org", "resources", "seed"])
def test_findings_and_lint_on_slices_are_those_of_the_whole_environment(path: Path) -> None:
    """The slices are sound: the classes of access (and the lint issues) of every resource are the ones the
    analysis of the whole environment gives it."""
    from reasoner.analyses.findings import findings
    from reasoner.analyses.hygiene import hygiene
    from reasoner.face.api import load_subject

    env = load_subject(str(path))
    full, full_lint = _classes(findings(env, timeout=120)), hygiene(env, timeout=120)
    s = Slicer(env)
    for t in targets(env):
        one = s.slice(t.arn)
        assert _classes(findings(one, timeout=120)) == {k: v for k, v in full.items() if k == t.arn}
        issues = hygiene(one, timeout=120)
        assert sorted((i.code, i.key, i.statement) for i in issues.issues) == sorted(
            (i.code, i.key, i.statement) for i in full_lint.issues if i.key == t.arn)
        assert not issues.undecided


def _two_account_org(tmp_path: Path) -> Path:
    """Two accounts, each with a key, a bucket and a role whose identity policy uses the account's keys
    (statement 0) and objects (statement 1): the shape of `benchmarks/org.py`."""
    lines = ["accounts:"]
    keys, buckets, roles = ["keys:"], ["resources:"], ["principals:"]
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::A:root"}, "Action": "kms:*", "Resource": "*"}]}
    for n, a in enumerate(("111100000001", "111100000002")):
        lines.append(f'  - {{id: "{a}"}}')
        (tmp_path / f"key{n}.json").write_text(json.dumps(key_policy).replace(":A:", f":{a}:"), encoding="utf-8")
        keys += [f"  - arn: arn:aws:kms:us-east-1:{a}:key/k{n}", f"    policy: key{n}.json"]
        bucket = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": a}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{n}/*"}]}
        (tmp_path / f"bucket{n}.json").write_text(json.dumps(bucket), encoding="utf-8")
        buckets += [f"  - arn: arn:aws:s3:::b{n}", f'    account: "{a}"', f"    policy: bucket{n}.json"]
        ident = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": f"arn:aws:kms:*:{a}:key/*"},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::b{n}/*"}]}
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": a},
                                                         "Action": "sts:AssumeRole"}]}
        (tmp_path / f"id{n}.json").write_text(json.dumps(ident), encoding="utf-8")
        (tmp_path / f"trust{n}.json").write_text(json.dumps(trust), encoding="utf-8")
        roles += [f"  - arn: arn:aws:iam::{a}:role/App", f"    policies: [id{n}.json]",
                  f"    trust_policy: trust{n}.json"]
    (tmp_path / "environment.yaml").write_text("\n".join(lines + keys + buckets + roles) + "\n", encoding="utf-8")
    return tmp_path / "environment.yaml"


def test_a_slice_drops_exactly_the_caller_statements_that_cannot_apply_to_its_target(tmp_path: Path) -> None:
    """A key's slice keeps the key statement of its own account's role (its identity policy names the
    account's keys) and drops the other role's and every S3 statement; a bucket's keeps its account's object
    statement (`bucket/*`, a sub-resource) and no KMS statement; a role's keeps none (none acts on roles)."""
    from reasoner.face.api import load_subject

    env = load_subject(str(_two_account_org(tmp_path)))
    s = Slicer(env)
    ts = targets(env)
    assert [t.type for t in ts] == ["AWS::KMS::Key"] * 2 + ["AWS::S3::Bucket"] * 2 + ["AWS::IAM::Role"] * 2
    for t in ts:
        kept = {p.arn: [st.index for st in p.identity_policies[0].statements] for p in s.slice(t.arn).principals}
        owner = t.account or env.resource(t.arn).account  # an S3 ARN names no account
        for arn, sts in kept.items():
            own = f":{owner}:" in arn
            want = {"AWS::KMS::Key": [0], "AWS::S3::Bucket": [1], "AWS::IAM::Role": []}[t.type] if own else []
            assert sts == want, (t.arn, arn)
        assert _classes(findings_of(s.slice(t.arn))) == _classes(findings_of(s.slice(t.arn, prune=False)))


def findings_of(env: Any) -> Any:
    from reasoner.analyses.findings import findings

    return findings(env, timeout=120)


def test_may_match_below_is_conservative() -> None:
    from reasoner.batch.slices import _may_match_below
    from reasoner.semantics.patterns import compile_resource

    def below(pattern: str) -> bool:
        return _may_match_below(compile_resource(pattern), "arn:aws:s3:::bucket-a/")

    assert below("arn:aws:s3:::bucket-a/*") and below("arn:aws:s3:::bucket-a/logs/x") and below("arn:aws:s3:::b*")
    assert below("arn:aws:s3:::bucket-?/x") and below("arn:aws:s3:*:*:x") and below("arn:aws:*")
    assert below("arn:aws:s3:::BUCKET-A/*")  # case: kept when unsure
    assert not below("arn:aws:s3:::bucket-b/*") and not below("arn:aws:s3:::bucket-a")  # the bucket alone
    assert not below("arn:aws:kms:::bucket-a/*") and not below("arn:aws:s3:::bucket-ab/*")


@pytest.mark.parametrize("path", [ORG, RESOURCES, SEED], ids=["org", "resources", "seed"])
def test_pruned_slices_give_the_findings_lint_and_verdicts_of_plain_slices(path: Path) -> None:
    """Dropping caller-side statements that cannot apply changes no finding, lint issue or verdict."""
    from reasoner.analyses.findings import findings
    from reasoner.analyses.hygiene import hygiene
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope, ScopeKind
    from reasoner.face.api import load_subject

    env = load_subject(str(path))
    s = Slicer(env)
    for t in targets(env):
        plain, pruned = s.slice(t.arn, prune=False), s.slice(t.arn)
        assert _classes(findings(pruned, timeout=120)) == _classes(findings(plain, timeout=120))
        assert sorted((i.code, i.statement) for i in hygiene(pruned, timeout=120).issues) == sorted(
            (i.code, i.statement) for i in hygiene(plain, timeout=120).issues)
        for scope in (PrincipalScope(ScopeKind.ANY), PrincipalScope.outside_account(t.account or "111122223333")):
            claim = AccessNotGranted(scope, actions=("*",), resources=(t.arn,))
            assert check(pruned, claim, timeout=120).verdict == check(plain, claim, timeout=120).verdict


# ---- records are the per-resource commands' results ----------------------------------------------------------


def test_records_equal_findings_and_lint_of_each_resource() -> None:
    from reasoner.face.api import load_subject

    status, records, _ = scan_records(str(ORG), str(RESOURCES), "--no-cache")
    assert status == 1  # the examples have external access and lint issues
    assert [r["resource"] for r in records[:2]] == [
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"]
    assert len(records) == 2 + len(targets(load_subject(str(RESOURCES))))
    for rec in records:
        env = rec["input"]
        st, out, _ = run_cli("findings", env, "--resource", rec["resource"], "--format", "json")
        doc = json.loads(out)
        assert [_untimed(k) for k in doc["keys"]] == ([rec["findings"]] if rec["findings"] else [])
        st_l, out, _ = run_cli("lint", env, "--resource", rec["resource"], "--format", "json")
        doc = json.loads(out)
        assert rec["lint"] == {"issues": doc["issues"], "undecided": doc["undecided"]}
        assert rec["status"] == (1 if 1 in (st, st_l) else 3 if 3 in (st, st_l) else 0)


def test_findings_and_lint_of_the_whole_environment_are_the_merge_of_the_resources() -> None:
    st, out, _ = run_cli("findings", str(RESOURCES), "--format", "json")
    whole = json.loads(out)
    _, records, _ = scan_records(str(RESOURCES), "--no-cache", "--no-lint")
    assert [_untimed(k) for k in whole["keys"]] == [r["findings"] for r in records if r["findings"]]
    st2, out2, _ = run_cli("findings", str(RESOURCES), "--format", "json", "--jobs", "2")
    assert st2 == st and [_untimed(k) for k in json.loads(out2)["keys"]] == [_untimed(k) for k in whole["keys"]]


def test_checks_of_a_scan_agree_with_reasoner_check() -> None:
    """Each assertion of the examples, checked resource by resource, holds on every resource it names exactly
    when `reasoner check` proves it; a refuted one is refuted on some resource."""
    status, records, _ = scan_records(str(ORG), str(PROPOSED), "--properties", str(EXAMPLES / "org" / "checks"),
                                      str(EXAMPLES / "org" / "failing"), "--no-cache", "--no-findings", "--no-lint")
    by_name: dict[str, list[str]] = {}
    for rec in records:
        for c in rec["checks"]:
            by_name.setdefault(c["name"], []).append(c["verdict"])
    st, out, _ = run_cli("check", str(EXAMPLES / "org" / "checks"), str(EXAMPLES / "org" / "failing"),
                         "--format", "json")
    whole = {r["name"]: r["verdict"] for r in json.loads(out)["results"]}
    assert set(by_name) == set(whole)
    for name, verdict in whole.items():
        per = by_name[name]
        expected = "REFUTED" if "REFUTED" in per else ("UNKNOWN" if "UNKNOWN" in per else "PROVED")
        assert expected == verdict, name
    assert "REFUTED" in whole.values() and status == st == 1


CHAINS = EXAMPLES / "chains"


@pytest.mark.parametrize("variant", ["checks", "failing"])
def test_chains_of_a_scan_are_those_of_reasoner_check(variant: str) -> None:
    """A chain of steps crosses resources (assume a role through its trust policy, pass a role to Lambda, write
    a key policy): a scan checks an `eventually` assertion on the whole environment and answers what `reasoner
    check` answers (on a slice that drops the other roles' trust policies, three of the four failing chains were
    UNKNOWN: "role(s) whose trust policy the environment does not give")."""
    env = CHAINS / variant / "environment.yaml" if variant == "failing" else CHAINS / "environment.yaml"
    prop = CHAINS / variant / "chains.access"
    _, records, _ = scan_records(str(env), "--properties", str(prop), "--no-cache", "--no-findings", "--no-lint")
    per_resource = {c["name"]: c["verdict"] for rec in records for c in rec["checks"]}
    _, out, _ = run_cli("check", str(prop), "--format", "json")
    whole = {r["name"]: r["verdict"] for r in json.loads(out)["results"]}
    assert per_resource == whole
    assert set(whole.values()) == ({"REFUTED"} if variant == "failing" else {"PROVED"})


def test_a_chain_is_cached_under_its_whole_environment(tmp_path: Path) -> None:
    """The cache key of an `eventually` check covers what its verdict reads beyond its resource: fixing
    another role's trust policy (Deployer's, not the key's) is recomputed, not read from the cache."""
    tree = tmp_path / "chains"
    shutil.copytree(CHAINS, tree)
    env, prop = tree / "failing" / "environment.yaml", tree / "failing" / "chains.access"
    cache = tmp_path / "cache.sqlite"
    vendor = "the CI vendor reaches app data across three accounts (no external id)"

    def verdict() -> str:
        _, records, _ = scan_records(str(env), "--properties", str(prop), "--cache", str(cache),
                                     "--no-findings", "--no-lint", "--root", str(tmp_path))
        return next(c["verdict"] for rec in records for c in rec["checks"] if c["name"] == vendor)

    assert verdict() == "REFUTED"
    shutil.copy(tree / "trust" / "deployer.json", tree / "failing" / "trust" / "deployer.json")
    assert verdict() == "PROVED"


def test_template_properties_apply_to_the_resources_they_name(tmp_path: Path) -> None:
    props = tmp_path / "perimeter.access"
    props.write_text('assert "keys stay in the organization": no principal outside organization o-a1b2c3d4e5 '
                     "can kms:Decrypt on all keys\n"
                     'assert "buckets are not deleted": nobody can s3:DeleteBucket\n', encoding="utf-8")
    _, records, _ = scan_records(str(RESOURCES), str(ORG), "--properties", str(props), "--no-cache",
                                 "--no-findings", "--no-lint", "--root", str(ROOT))
    for rec in records:
        names = [c["name"] for c in rec["checks"]]
        if rec["type"] == "AWS::KMS::Key":
            assert names == ["keys stay in the organization"]
        elif rec["type"] == "AWS::S3::Bucket":
            assert names == ["buckets are not deleted"]
        else:
            assert names == []


def test_an_assertion_about_an_environment_not_scanned_is_an_input_error() -> None:
    status, out, err = run_cli("scan", str(RESOURCES), "--properties", str(EXAMPLES / "org" / "checks"),
                               "--no-cache")
    assert status == 2 and "not an input of the scan" in err and out == ""


def test_a_tree_of_manifests_is_every_environment_in_it(tmp_path: Path) -> None:
    for name in ("org", "resources"):
        shutil.copytree(EXAMPLES / name, tmp_path / "tree" / name)
    _, records, _ = scan_records(str(tmp_path / "tree"), "--no-cache", "--no-lint", "--root", str(tmp_path))
    inputs = list(dict.fromkeys(r["input"] for r in records))
    manifests = sorted(str(m.parent) for m in (tmp_path / "tree").rglob("environment.yaml"))
    assert inputs == manifests  # each manifest directory of the tree is an environment, in path order
    assert {str(tmp_path / "tree" / "org"), str(tmp_path / "tree" / "resources")} <= set(inputs)


def test_text_summary_sarif_and_exit_status(tmp_path: Path) -> None:
    sarif_file = tmp_path / "scan.sarif"
    status, out, _ = run_cli("scan", str(ORG), "--no-cache", "--format", "text", "--format", f"sarif={sarif_file}")
    assert status == 1
    assert "AWS::KMS::Key" in out and "2 resource(s)" in out and "exit status 1" in out
    doc = valid_sarif(sarif_file.read_text(encoding="utf-8"))
    rules = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert "FND001" in rules and "HYG004" in rules


# ---- executors -----------------------------------------------------------------------------------------------


def _job_and_units(*paths: Path) -> tuple[Job, list[Unit]]:
    from reasoner.face import scan
    from reasoner.face.api import load_subject

    envs = [load_subject(str(p)) for p in paths]
    units = scan.plan_units(envs, [str(p) for p in paths], scan.Assertions([]))
    return Job(tuple(envs), tuple(str(p) for p in paths), ScanOptions(timeout=120)), units


def _lines(runner: Any, job: Job, units: list[Unit]) -> list[str]:
    try:
        got = dict(runner.map(job, iter(units), "record"))
    finally:
        runner.close()
    return [record_line(got[u]) for u in units]


def test_a_pool_gives_the_records_of_one_process_byte_for_byte() -> None:
    job, units = _job_and_units(ORG, SEED)
    assert _lines(executors.Pool(2), job, units) == _lines(executors.Serial(), job, units)


class _KillsItsWorker:
    """Unpickled in a worker, it ends that process at once (a crash no Python code can catch)."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return os._exit, (7,)


def test_a_worker_that_dies_is_unknown_for_its_resource_and_nothing_else_is_lost() -> None:
    job, units = _job_and_units(ORG, SEED)
    doomed = units[1]
    killer = CheckSpec("kills", None, _KillsItsWorker(), 0)  # type: ignore[arg-type]
    units[1] = Unit(doomed.index, doomed.env, doomed.target, (killer,))
    expected = _lines(executors.Serial(), job, [u for u in units if u is not units[1]])
    got = [json.loads(line) for line in _lines(executors.Pool(2), job, units)]
    assert len(got) == len(units)
    dead = got[1]
    assert dead["resource"] == doomed.target.arn and dead["status"] == 3
    assert "worker process died" in dead["error"]
    assert [record_line(r) for i, r in enumerate(got) if i != 1] == expected


def test_dask_gives_the_records_of_the_pool_byte_for_byte() -> None:
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed "
                                                            "(pip install 'aws-policy-reasoner[dask]')")
    job, units = _job_and_units(ORG, RESOURCES)
    pooled = _lines(executors.Pool(2), job, units)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        dask = executors.executor("dask://" + c.scheduler_address.removeprefix("tcp://"), 2)
        assert _lines(dask, job, units) == pooled


# ---- cache and resumption ------------------------------------------------------------------------------------


def _copy_org(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES / "org", tmp_path / "org")
    return tmp_path / "org" / "environment.yaml"


def test_a_rerun_takes_every_record_from_the_cache_and_recomputes_only_what_changed(tmp_path: Path) -> None:
    env = _copy_org(tmp_path)
    cache = tmp_path / "scan.sqlite"
    argv = (str(env), "--cache", str(cache), "--root", str(tmp_path))
    first = scan_records(*argv)
    _, out, err = run_cli("scan", *argv, "--format", "jsonl")
    assert "2 from the cache" in err and [json.loads(x) for x in out.splitlines()] == first[1]
    key = tmp_path / "org" / "keys" / "audit-logs.json"
    key.write_text(key.read_text(encoding="utf-8").replace("NobodyOutsideTheAccountDecrypts", "NoForeignDecrypt"),
                   encoding="utf-8")
    _, out, err = run_cli("scan", *argv, "--format", "jsonl")
    assert "1 from the cache" in err
    changed = [json.loads(x) for x in out.splitlines()]
    assert changed[0] == first[1][0] and changed[1] != first[1][1]
    assert "NoForeignDecrypt" in json.dumps(changed[1])
    _, out, err = run_cli("scan", *argv, "--format", "jsonl", "--no-cache")
    assert "0 from the cache" in err and [json.loads(x) for x in out.splitlines()] == changed


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    from reasoner.face import scan
    from reasoner.face.cli import build_parser

    cache = tmp_path / "scan.sqlite"
    argv = ["scan", str(ORG), str(RESOURCES), "--cache", str(cache), "--no-lint"]
    complete = scan_records(*argv[1:], "--no-cache")[1]
    assert len(complete) > 3
    seen: list[str] = []

    def stop_after_two(rec: dict[str, Any]) -> None:
        seen.append(rec["resource"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan.command(build_parser().parse_args(argv), io.StringIO(), io.StringIO(), on_record=stop_after_two)
    _, out, err = run_cli(*argv, "--format", "jsonl")  # resumes: the first two from the cache
    assert "2 from the cache" in err
    assert [json.loads(x) for x in out.splitlines()] == complete
    _, out, err = run_cli(*argv, "--format", "jsonl")
    assert f"{len(complete)} from the cache" in err


def test_the_command_line_knows_the_input_formats_without_importing_the_importers() -> None:
    from reasoner.face import cli
    from reasoner.front.importers import FORMATS

    assert cli.INPUT_FORMATS == FORMATS


# ---- check: --jobs ships environments once, --stats ------------------------------------------------------------


def test_check_jobs_never_ships_an_environment_per_assertion(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from reasoner.semantics.environment import Environment

    shipped: list[Any] = []
    submit = ProcessPoolExecutor.submit

    def spy(self: ProcessPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        shipped.append(args)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", spy)
    monkeypatch.chdir(ROOT)
    status, out, _ = run_cli("check", "examples/org/checks", "--jobs", "2", "--format", "json")
    assert status == 0 and len(json.loads(out)["results"]) == len(shipped) > 5

    def environments(value: Any) -> int:
        if isinstance(value, Environment):
            return 1
        if isinstance(value, tuple | list):
            return sum(environments(v) for v in value)
        if hasattr(value, "__dataclass_fields__"):
            return sum(environments(getattr(value, f)) for f in value.__dataclass_fields__)
        return 0

    assert sum(environments(a) for a in shipped) == 0  # the environments went to the workers' initializer


def test_check_reports_solver_statistics_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run_cli("check", "examples/org/checks/control.access", "--format", "json")
    plain = json.loads(out)["results"]
    assert all(set(r["stats"]) <= {"compile_seconds", "refinements"} for r in plain)
    _, out, _ = run_cli("check", "examples/org/checks/control.access", "--format", "json", "--stats")
    asked = json.loads(out)["results"]
    assert all(len(r["stats"]) > 2 for r in asked)
    assert [r["verdict"] for r in asked] == [r["verdict"] for r in plain]
    assert len(out) > len(json.dumps({"results": plain}))


def test_the_checks_of_a_resource_share_one_compiled_environment(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """Compiled environments are reused across the properties of one resource: one compile per unit."""
    from reasoner.analyses import compiled
    from reasoner.batch.units import analyse

    props = tmp_path / "three.access"
    props.write_text("assert: nobody can kms:ScheduleKeyDeletion\nassert: nobody can kms:DisableKey\n"
                     "assert: no principal outside account 111122223333 can kms:Decrypt\n", encoding="utf-8")
    from reasoner.face import scan
    from reasoner.face.api import load_subject

    envs = [load_subject(str(ORG))]
    found = scan.collect_assertions([str(props)], [str(ORG)], envs, root=str(ROOT), loader=None)
    units = scan.plan_units(envs, [str(ORG)], found)
    assert [len(u.checks) for u in units] == [3, 3]
    calls: list[object] = []
    real = compiled.compile_environment

    def counting(env: Any) -> Any:
        calls.append(env)
        return real(env)

    monkeypatch.setattr(compiled, "compile_environment", counting)
    job = Job(tuple(envs), (str(ORG),), ScanOptions(findings=False, lint=False, timeout=120))
    assert all(r.verdict.value in ("PROVED", "REFUTED") for r in analyse(job, units[0]).checks)
    assert len(calls) == 1
    # findings, lint and the checks of a unit: one compile of its slice too (issue 17)
    calls.clear()
    job = Job(tuple(envs), (str(ORG),), ScanOptions(timeout=120))
    done = analyse(job, units[0])
    assert all(k.complete.value == "PROVED" for k in done.findings.keys) and not done.lint.undecided
    assert done.lint.checks and all(r.verdict.value in ("PROVED", "REFUTED") for r in done.checks)
    assert len(calls) == 1


def test_workers_hold_the_job_without_its_resources_and_give_the_same_records() -> None:
    """A worker gets the job without the keys and declared resources (`Job.lean`: in a 10,600-resource
    organisation each worker unpickled ~1.4 GB) and each unit with its own resource (`Job.carried`): its records
    are those of the whole job byte for byte, comparisons with another environment included, and nothing of a
    unit's resource stays in the worker's slicers after it."""
    import pickle

    from reasoner.batch.units import analyse, record
    from reasoner.face import scan
    from reasoner.face.api import load_subject

    inputs = [str(ORG), str(PROPOSED)]
    envs = [load_subject(p) for p in inputs]
    assertions = scan.collect_assertions([str(EXAMPLES / "org" / "checks")], inputs, envs, root=None, loader=None)
    units = scan.plan_units(envs, inputs, assertions)
    job = Job(tuple(envs), tuple(inputs), ScanOptions(timeout=120))
    assert any(spec.old is not None for u in units for spec in u.checks)
    lean = pickle.loads(pickle.dumps(job.lean(units)))
    assert all(not e.keys and not e.resources for e in lean.environments)
    assert len(pickle.dumps(lean)) < len(pickle.dumps(job))
    for u in units:
        with lean.adopt(pickle.loads(pickle.dumps(job.carried(u)))):
            got = record_line(record(lean, u, analyse(lean, u)))
        assert got == record_line(record(job, u, analyse(job, u))), u.target.arn
    assert all(not s._keys and not s._resources for s in lean._slicers.values())


def test_an_environment_a_chain_is_checked_in_is_shipped_whole() -> None:
    from reasoner.face import scan
    from reasoner.face.api import load_subject

    inputs = [str(CHAINS / "environment.yaml")]
    envs = [load_subject(inputs[0])]
    chains = str(CHAINS / "checks" / "chains.access")
    assertions = scan.collect_assertions([chains], inputs, envs, root=None, loader=None)
    units = scan.plan_units(envs, inputs, assertions)
    job = Job(tuple(envs), tuple(inputs), ScanOptions(timeout=120))
    from reasoner.analyses.properties import Eventually

    chained = {spec.env for u in units for spec in u.checks if isinstance(spec.property, Eventually)}
    assert chained
    lean = job.lean(units)
    assert all(lean.environments[i] is job.environments[i] for i in chained)
    bare = job.lean([Unit(u.index, u.env, u.target) for u in units])  # without their checks
    assert all(not e.keys for e in bare.environments)


# ---- roles left out of a slice (slices.py, "Why a role can be left out") ----------------------------------------

CHAINS_ENV = EXAMPLES / "chains" / "environment.yaml"


def _equivalent(new: Any, old: Any) -> str:
    """PROVED when `new` and `old` allow the same requests, checked both ways (each side's callers named)."""
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import Equivalent

    verdicts = {check(a, Equivalent(old=b), timeout=120).verdict.value for a, b in ((new, old), (old, new))}
    return "PROVED" if verdicts == {"PROVED"} else "REFUTED" if "REFUTED" in verdicts else "UNKNOWN"


@pytest.mark.parametrize("path", [ORG, RESOURCES, SEED, CHAINS_ENV], ids=["org", "resources", "seed", "chains"])
def test_roles_left_out_of_a_slice_change_no_decision(path: Path) -> None:
    """Where a slice leaves roles out, it allows exactly what the slice with every role allows (`Equivalent`,
    proved), with the same findings and lint issues (the examples leave out 1 to 4 roles per slice)."""
    from reasoner.analyses.hygiene import hygiene
    from reasoner.face.api import load_subject

    env = load_subject(str(path))
    s = Slicer(env)
    left_out = 0
    for t in targets(env):
        every, fewer = s.slice(t.arn, mentions=None), s.slice(t.arn)
        if len(fewer.principals) == len(every.principals):
            continue
        left_out += 1
        assert _equivalent(fewer, every) == "PROVED", t.arn
        assert _classes(findings_of(fewer)) == _classes(findings_of(every))
        assert sorted((i.code, i.statement) for i in hygiene(fewer, timeout=120).issues) == sorted(
            (i.code, i.statement) for i in hygiene(every, timeout=120).issues)
    assert left_out


def _roles_org(tmp_path: Path, iam_known: bool = False) -> Path:
    """A key and a role (trust policy) in account A; in account B (IAM not known: in the worst case its roles
    may do anything their account's resources allow, so who they are matters) roles with no statement left for
    them, each but `Plain` told apart from an undeclared role by something of the slice; and a role of an
    account the environment does not declare."""
    a, b = "111100000001", "111100000002"
    docs = {
        "key.json": {"Version": "2012-10-17", "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:root"}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "AccountB", "Effect": "Allow", "Principal": {"AWS": b}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AccountC", "Effect": "Allow", "Principal": {"AWS": "111100000003"}, "Action": "kms:Encrypt",
             "Resource": "*"},
            {"Sid": "Named", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{b}:role/Named"},
             "Action": "kms:Decrypt", "Resource": "*"},
            {"Sid": "Untagged", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"Null": {"aws:PrincipalTag/team": "true"}, "StringEquals": {"aws:PrincipalAccount": b}}},
            {"Sid": "Unique", "Effect": "Deny", "Principal": "*", "Action": "kms:Sign", "Resource": "*",
             "Condition": {"StringLike": {"aws:userid": "AROAUNIQUE*"}}}]},
        "scp.json": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ops/Matched"}}}]},
        "trust.json": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{b}:assumed-role/Session/s1"},
             "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
        "boundary.json": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
        "empty.json": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"}]},
    }
    for name, doc in docs.items():
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    roles = ["Plain", "Named", "Matched", "Session", "Tagged", "Unique", "Bounded",
             "aws-service-role/x.amazonaws.com/Linked"]
    lines = [
        "organizations:",
        "  - id: o-rolesorg01",
        f'    management_account: "{a}"',
        "    root: r-root",
        "    scps:",
        "      r-root: [scp.json]",
        "accounts:",
        f'  - {{id: "{a}", organization: o-rolesorg01, ou_path: [r-root], iam_known: true}}',
        f'  - {{id: "{b}", organization: o-rolesorg01, ou_path: [r-root], iam_known: {str(iam_known).lower()}}}',
        "keys:",
        f"  - arn: arn:aws:kms:us-east-1:{a}:key/k1",
        "    policy: key.json",
        "principals:",
        f"  - arn: arn:aws:iam::{a}:role/Target",
        "    trust_policy: trust.json",
    ]
    for r in roles:
        lines += [f"  - arn: arn:aws:iam::{b}:role/{r}", "    policies: [empty.json]"]
        if r == "Tagged":
            lines += ["    tags: {team: red}"]
        if r == "Unique":
            lines += ["    unique_id: AROAUNIQUEID1234567"]
        if r == "Bounded":
            lines += ["    boundary: boundary.json"]
    lines += ["  - arn: arn:aws:iam::111100000003:role/Elsewhere", "    policies: [empty.json]"]  # undeclared account
    lines += ["sessions:", f"  - arn: arn:aws:sts::{b}:assumed-role/Session/s1",
              f"    source: arn:aws:iam::{b}:role/Session"]
    (tmp_path / "environment.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "environment.yaml"


def test_a_role_a_policy_can_tell_apart_is_kept(tmp_path: Path) -> None:
    """Each role of account B has no statement left for the key; only `Plain` is indistinguishable from an
    undeclared role: the others are named by a principal entry, matched by an aws:PrincipalArn pattern, have
    a declared session, tags or a unique id a policy reads, a boundary, are service-linked, or are of an account
    the environment does not declare. With every role kept or with `Plain` left out the slices decide the same
    (proved); left out wrongly, five of the others change decisions (refuted); a property naming `Plain` keeps
    it."""
    from reasoner.face.api import load_subject

    env = load_subject(str(_roles_org(tmp_path)))
    s = Slicer(env)
    key = env.keys[0].arn
    every, fewer = s.slice(key, mentions=None), s.slice(key)
    from dataclasses import replace

    gone = {p.arn.rsplit("/", 1)[1] for p in every.principals} - {p.arn.rsplit("/", 1)[1] for p in fewer.principals}
    assert gone == {"Plain"}
    assert _equivalent(fewer, every) == "PROVED"
    assert _classes(findings_of(fewer)) == _classes(findings_of(every))
    # a wrong drop is caught: without one of these roles the key's slice allows other requests
    for name in ("Session", "Tagged", "Unique", "Bounded", "Elsewhere"):
        wrong = replace(every, principals=tuple(p for p in every.principals if not p.arn.endswith(f"/{name}")))
        assert len(wrong.principals) == len(every.principals) - 1
        assert _equivalent(wrong, every) == "REFUTED", name
    named = frozenset({"no principal but arn:aws:iam::111100000002:role/Plain can kms:Decrypt"})
    assert len(s.slice(key, mentions=named).principals) == len(every.principals)
    # the role's slice has no key: what only the key policy tells apart goes too (the SCP, the session, the
    # boundary and the service link still count)
    role = f"arn:aws:iam::{env.accounts[0].id}:role/Target"
    every, fewer = s.slice(role, mentions=None), s.slice(role)
    assert {p.arn.rsplit("/", 1)[1] for p in every.principals} - {
        p.arn.rsplit("/", 1)[1] for p in fewer.principals} == {"Plain", "Named", "Tagged", "Unique"}
    assert _equivalent(fewer, every) == "PROVED"


def test_a_role_refused_everything_on_the_target_is_told_apart_by_the_target_alone(tmp_path: Path) -> None:
    """With account B's IAM known, its roles' sessions (no identity statement) are refused everything on a key
    of A without grants: only what the key policy (and a property) tells apart keeps a role; the SCP's
    aws:PrincipalArn pattern no longer keeps `Matched`. The slices still decide the same (proved)."""
    from reasoner.analyses.hygiene import hygiene
    from reasoner.face.api import load_subject

    env = load_subject(str(_roles_org(tmp_path, iam_known=True)))
    s = Slicer(env)
    for arn, gone in ((env.keys[0].arn, {"Plain", "Matched"}),
                      (f"arn:aws:iam::{env.accounts[0].id}:role/Target",
                       {"Plain", "Matched", "Named", "Tagged", "Unique"})):
        every, fewer = s.slice(arn, mentions=None), s.slice(arn)
        assert {p.arn.rsplit("/", 1)[1] for p in every.principals} - {
            p.arn.rsplit("/", 1)[1] for p in fewer.principals} == gone
        assert _equivalent(fewer, every) == "PROVED"
        assert _classes(findings_of(fewer)) == _classes(findings_of(every))
        assert sorted((i.code, i.statement) for i in hygiene(fewer, timeout=120).issues) == sorted(
            (i.code, i.statement) for i in hygiene(every, timeout=120).issues)


def test_may_name_is_conservative() -> None:
    from reasoner.batch.slices import _may_name

    assert _may_name("arn:aws:iam::*:role/Admin", "admin")
    assert not _may_name("arn:aws:iam::*:role/Admin", "app1")
    assert _may_name("arn:aws:iam::*:role/app-*", "app1")  # after the wildcard: nothing to tell
    assert _may_name("arn:aws:iam::*:role/*1", "app1") and not _may_name("arn:aws:iam::*:role/*2", "app1")
    assert _may_name("arn:aws:iam::123456789012:role/a/b/App1", "app1")
    assert not _may_name("arn:aws:iam::123456789012:root", "app1")
    assert _may_name("arn:aws:iam::*:role/${aws:username}", "app1")
    assert _may_name("*", "app1")
