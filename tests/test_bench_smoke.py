"""Smoke test of the benchmark runner (benchmarks/, issue 7): it runs, prints and writes every section.

These tests check that the runner works, not how fast anything is: the run uses the smallest budget
(`--tiny`), and a section may be "skipped" when its stage or an optional baseline is not installed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import runner
from benchmarks.generate import GenSpec, generate, scaling_grid

EXPECTED = ["parse", "decide", "check", "scaling", "strings", "reach", "iam-simulate", "findings", "services",
            "eventually", "cold-start", "memory", "hostile", "scan"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], Path]:
    out_json = tmp_path_factory.mktemp("bench") / "report.json"
    buf = io.StringIO()
    status = runner.main(["--tiny", "--quiet", "--json", str(out_json)], stdout=buf, stderr=io.StringIO())
    return status, buf.getvalue(), json.loads(out_json.read_text(encoding="utf-8")), out_json


def test_every_section_is_printed_and_written(smoke: tuple[int, str, dict[str, Any], Path]) -> None:
    status, text, data, _ = smoke
    sections = data["sections"]
    assert isinstance(sections, dict)
    assert list(sections) == EXPECTED
    for name in EXPECTED:
        assert f"== {name}: " in text
        sec = sections[name]
        assert sec["status"] in ("ok", "skipped", "error"), name
        if sec["status"] != "ok":
            assert sec["reason"], f"{name} is {sec['status']} without a reason"
            assert f"{sec['status']}: {sec['reason']}" in text
        for fname, fig in sec["figures"].items():
            assert isinstance(fig["value"], float), (name, fname)
    assert status == (1 if any(s["status"] == "error" for s in sections.values()) else 0)
    assert data["schema"] == runner.SCHEMA
    assert data["machine"]["python"]
    assert data["quick"] is True


def test_runner_owned_sections_do_not_error(smoke: tuple[int, str, dict[str, Any], Path]) -> None:
    """Every section of our own stages either works or says which stage is missing (an internal error in a
    stage, e.g. a counterexample that does not replay, is an `error` status)."""
    _, _, data, _ = smoke
    sections = data["sections"]
    assert isinstance(sections, dict)
    for name in ("parse", "decide", "check", "scaling", "strings", "findings", "services", "cold-start", "memory",
                 "hostile", "scan"):
        assert sections[name]["status"] in ("ok", "skipped"), (name, sections[name].get("reason"))
    if sections["hostile"]["status"] == "ok":  # every hostile input ends with the documented exit status
        figures = sections["hostile"]["figures"]
        exits = [f for n, f in figures.items() if n.endswith(".exit_ok")]
        assert exits and all(f["value"] == 1.0 for f in exits), figures
    if sections["scaling"]["status"] == "ok":
        assert "statements=10.parse_ms" in sections["scaling"]["figures"]
    if sections["strings"]["status"] == "ok":
        assert "strings_ms_at_10" in sections["strings"]["figures"]
        assert sections["strings"]["figures"].get("verdicts_disagree", {"value": 0.0})["value"] == 0.0


def test_services_section_has_every_service(smoke: tuple[int, str, dict[str, Any], Path]) -> None:
    """The `services` section (benchmarks/bench_services.py) measures every service, generated environments where the
    tiny corpus has none: the latencies of the first and further checks and of findings, and the verdicts."""
    from benchmarks.bench_services import SERVICES

    _, text, data, _ = smoke
    sec = data["sections"]["services"]
    assert sec["status"] == "ok", sec.get("reason")
    figures = sec["figures"]
    for service in SERVICES:
        for figure in ("first_check.p50_ms", "first_check.p99_ms", "further_check.p50_ms", "further_check.p99_ms",
                       "findings.p50_ms", "environments"):
            assert f"{service}.{figure}" in figures, (service, figure)
        assert figures[f"{service}.environments"]["value"] >= 1
        verdicts = [f"{service}.first_{v}" for v in ("proved", "refuted", "unknown")]
        assert sum(figures[v]["value"] for v in verdicts if v in figures) >= 1, service
        assert figures[f"{service}.first_check.p50_ms"]["unit"] == "ms"
        assert figures[f"{service}.first_check.p50_ms"]["better"] == "lower"
    assert "== services: " in text


def test_services_corpus_environment_instantiates_the_resource(tmp_path: Path) -> None:
    """A corpus resource policy becomes an environment around the resource it names: placeholders standing for the
    resource replaced by its ARN, the account of the resource it names renamed to the owner 111122223333, an ECR
    statement without Resource given the repository (benchmarks/bench_services.py)."""
    from benchmarks.bench_services import OWNER, CorpusPolicy, Unusable, corpus_environment

    bucket = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:role/Reader"},
         "Action": "s3:GetObject", "Resource": "{{tf:aws_s3_bucket.reports.arn}}/*"}]})
    env, kind, arn = corpus_environment(CorpusPolicy("b.json", bucket, "AWS::S3::Bucket", "resource-policy"))
    assert kind.label == "AWS::S3::Bucket" and env.resources[0].arn == arn and env.resources[0].account == OWNER
    (stmt,) = env.resources[0].policy.statements
    assert [p.text for p in stmt.resource.patterns] == [f"{arn}/*"]
    queue = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::644160558196:root"}, "Action": "sqs:SendMessage",
         "Resource": "arn:aws:sqs:us-east-2:644160558196:orders"}]})
    env, _, arn = corpus_environment(CorpusPolicy("q.json", queue, "AWS::SQS::Queue", "resource-policy"))
    assert arn == f"arn:aws:sqs:us-east-2:{OWNER}:orders"
    assert f"arn:aws:iam::{OWNER}:root" in env.resources[0].policy.source.text
    repo = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "ecr:BatchGetImage"}]})
    env, _, arn = corpus_environment(CorpusPolicy("r.json", repo, "AWS::ECR::Repository", "resource-policy"))
    assert [p.text for p in env.resources[0].policy.statements[0].resource.patterns] == [arn]
    with pytest.raises(Unusable, match="no resource-based policy model"):
        corpus_environment(CorpusPolicy("l.json", repo, "AWS::Logs::ResourcePolicy", "resource-policy"))


def test_compare_prints_a_ratio_per_figure(smoke: tuple[int, str, dict[str, Any], Path]) -> None:
    _, _, data, path = smoke
    old = json.loads(path.read_text(encoding="utf-8"))
    for sec in old["sections"].values():
        for fig in sec["figures"].values():
            fig["value"] = fig["value"] * 2 if fig["value"] else 1.0
    buf = io.StringIO()
    runner.render_compare(data, old, buf)
    text = buf.getvalue()
    flat = runner.flatten_report(data)
    assert f"({len(flat)} common" in text
    for name, value in flat.items():
        if value:
            assert name in text
    if any(flat.values()):
        assert "x0.5" in text


def test_only_and_unknown_sections() -> None:
    buf, err = io.StringIO(), io.StringIO()
    assert runner.main(["--only", "nosuch"], stdout=buf, stderr=err) == 2
    assert "unknown section" in err.getvalue()
    buf = io.StringIO()
    assert runner.main(["--list"], stdout=buf) == 0
    assert buf.getvalue().split()[0] == "parse"


def test_stage_dicts_are_read_with_units_and_targets() -> None:
    sec = runner.Section("check", "t")
    runner.read_stage_dict(sec, {
        "figures": {
            "AccessNotGranted": {"p50_ms": 12.0, "p99_ms": 400.0, "count": 7},
            "policies_per_s": {"value": 10.0, "unit": "policies/s", "better": "higher"},
            "label": "corpus",
            "broken": float("nan"),
        },
        "notes": ["n1"],
    })
    figs = {f.name: f for f in sec.figures}
    assert figs["AccessNotGranted.p50_ms"].unit == "ms"
    assert figs["AccessNotGranted.p50_ms"].target is not None
    assert figs["AccessNotGranted.p50_ms"].target.met(12.0)
    assert not figs["AccessNotGranted.p99_ms"].target.met(400.0)  # type: ignore[union-attr]
    assert figs["AccessNotGranted.count"].better == ""
    assert figs["policies_per_s"].unit == "policies/s"
    assert "broken" not in figs  # not a number: never printed as one
    assert sec.notes == ["n1", "label: corpus"]
    with pytest.raises(runner.Skip, match="no parser"):
        runner.read_stage_dict(runner.Section("parse", "t"), {"skipped": "no parser"})


def test_further_properties_have_the_issue_17_targets() -> None:
    for name in ("corpus.further.p50_ms", "corpus.further_cpu.p50_ms"):
        t = runner.target_for("check", name)
        assert t is not None and t.met(0.5) and not t.met(0.51)
    t = runner.target_for("check", "corpus.further.p99_ms")
    assert t is not None and t.met(5.0) and not t.met(5.1)
    t = runner.target_for("check", "corpus.CanAccess.p50_ms")  # a single property keeps the issue-4 target
    assert t is not None and t.met(30.0)


def test_percentile() -> None:
    assert runner.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert runner.percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert runner.percentile([5.0], 99) == 5.0
    assert runner.percentile([0.0, 10.0], 90) == pytest.approx(9.0)


def test_generator_is_deterministic_and_covers_the_grid() -> None:
    spec = GenSpec(statements=20, accounts=5, conditions=4, wildcards=0.5, seed=3,
                   families=("string", "other"))
    a, b = generate(spec), generate(spec)
    assert a == b
    doc = json.loads(a.key_policy)
    assert len(doc["Statement"]) == 20
    assert len(a.accounts) == 5 and len(set(a.accounts)) == 5
    text = a.key_policy + "".join(t for p in a.principals for t in p.policies)
    assert "*" in text
    assert generate(GenSpec(statements=1000)).oversized
    assert not generate(GenSpec(statements=10)).oversized
    grid = scaling_grid()
    assert [s.statements for s in grid["statements"]] == [1, 10, 100, 1000]
    assert max(s.accounts for s in grid["accounts"]) == 50
    assert max(s.conditions for s in grid["conditions"]) == 20


# ---- the plain string baseline is a cross-check, so its answers must be right ------------------------------

OWNER, OTHER = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _env(extra: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    from reasoner.front import parse
    from reasoner.front.ast import PolicyKind
    from reasoner.semantics.environment import Account, Environment, Key

    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
         "Action": "kms:*", "Resource": "*"}, *extra]}
    kp = parse.parse_policy(json.dumps(doc), file="kp.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(arn=KEY, policy=kp),), accounts=(Account(id=OWNER),))


def _external(condition: dict[str, object] | None = None) -> dict[str, object]:
    st: dict[str, object] = {"Sid": "External", "Effect": "Allow",
                             "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                             "Action": ["kms:Decrypt", "kms:ScheduleKeyDeletion"], "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return st


def _service(condition: dict[str, object] | None = None) -> dict[str, object]:
    st: dict[str, object] = {"Sid": "Service", "Effect": "Allow", "Resource": "*",
                             "Principal": {"Service": "cloudtrail.amazonaws.com"},
                             "Action": ["kms:Decrypt", "kms:ScheduleKeyDeletion"]}
    if condition:
        st["Condition"] = condition
    return st


CASES = [
    ([_external()], "kms:Decrypt", "REFUTED"),  # semantics §4.4: KP_acct(A) and A's IAM (unknown: may allow)
    ([], "kms:Decrypt", "PROVED"),
    ([_external()], "kms:ScheduleKeyDeletion", "PROVED"),  # §4.6: not cross-account capable
    ([_external({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})], "kms:Decrypt",
     "REFUTED"),
    ([_external({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}})], "kms:Decrypt", "PROVED"),
    ([_external({"StringNotEquals": {"kms:CallerAccount": OTHER}})], "kms:Decrypt", "PROVED"),
    ([_external(), {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}}}],
     "kms:Decrypt", "PROVED"),
    # §4.4: a service principal is allowed by the key policy alone, on any action; it is in no account
    ([_service()], "kms:ScheduleKeyDeletion", "REFUTED"),
    ([_service({"StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}})],
     "kms:Decrypt", "REFUTED"),
    ([_service({"Bool": {"aws:PrincipalIsAWSService": "false"}})], "kms:Decrypt", "PROVED"),
    ([_service(), {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                   "Condition": {"StringNotEquals": {"kms:CallerAccount": OWNER}}}],
     "kms:Decrypt", "PROVED"),  # kms:CallerAccount is absent for a service: the negated test is true
]


@pytest.mark.solver
@pytest.mark.parametrize(("extra", "action", "want"), CASES)
def test_string_baseline_answers(extra: list[dict[str, object]], action: str, want: str) -> None:
    from benchmarks import baseline_strings
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope

    prop = AccessNotGranted(PrincipalScope.outside_account(OWNER), (action,), (KEY,))
    res = baseline_strings.check(_env(extra), prop, timeout_s=20)
    assert res.verdict == want, res


@pytest.mark.solver
def test_string_baseline_can_access_and_subset() -> None:
    from benchmarks import baseline_strings
    from reasoner.analyses.properties import CanAccess, Equivalent

    env = _env([_external()])
    assert baseline_strings.check(env, CanAccess(f"arn:aws:iam::{OWNER}:root", ("kms:PutKeyPolicy",), (KEY,)),
                                  timeout_s=20).verdict == "PROVED"
    # a user of the owner without identity policies gets nothing through the account principal (§4.4, case 24)
    assert baseline_strings.check(env, CanAccess(f"arn:aws:iam::{OWNER}:user/u", ("kms:Decrypt",), (KEY,)),
                                  timeout_s=20).verdict == "REFUTED"
    res = baseline_strings.check(env, Equivalent(env), timeout_s=5)
    assert res.verdict == "NOT_EXPRESSIBLE" and "Equivalent" in res.reason


@pytest.mark.solver
@pytest.mark.parametrize(("extra", "action", "want"), CASES)
def test_core_agrees_with_the_string_baseline(extra: list[dict[str, object]], action: str, want: str) -> None:
    """The same cases through the symbolic core: the two encodings must give the same verdict."""
    from reasoner.analyses import pipeline
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope

    prop = AccessNotGranted(PrincipalScope.outside_account(OWNER), (action,), (KEY,))
    assert pipeline.check(_env(extra), prop).verdict.value == want


def test_markdown_has_a_table_per_measured_section(smoke: tuple[int, str, dict[str, Any], Path]) -> None:
    _, _, data, _ = smoke
    md = runner.render_markdown(data)
    assert md.startswith("Machine: ")
    for name, sec in data["sections"].items():
        assert f"**{name}**" in md
        for fname in sec["figures"]:
            assert f"| `{fname}` |" in md
