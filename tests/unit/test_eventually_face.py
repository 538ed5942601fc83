"""`eventually` in the language, the renderers and the command line (issue 18): the new claim forms compile to
`Eventually` over the plain claim (and nothing else changes), bad bounds are errors at their token, a refuted
claim prints its chain as a numbered path with each step's statements (text, JSON, SARIF related locations,
Markdown, HTML), and `reasoner check` / `reasoner findings --escalation` run on examples/chains."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from reasoner.analyses.escalation import escalation_paths
from reasoner.analyses.properties import AccessNotGranted, Eventually, OnlyPrincipalsCan, PrincipalScope, ScopeKind
from reasoner.errors import InputError
from reasoner.face.cli import main
from reasoner.face.render.results import (
    describe_property,
    render_json,
    render_sarif,
    render_text,
    result_html,
    result_markdown,
)
from reasoner.front.manifest import load_environment
from reasoner.language import property_files as props

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "examples" / "chains"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEV = "arn:aws:iam::111122223333:user/developer"


def compile_one(claim: str) -> object:
    (a,) = props.Compiler().compile_text(f'environment "environment.yaml"\nassert: {claim}', "t.access",
                                         base_dir=CHAINS)
    return a.property


# ---- the language -------------------------------------------------------------------------------------


def test_claim_forms() -> None:
    outside = AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",), (KEY,))
    assert compile_one("no principal outside account 111122223333 can eventually kms:Decrypt on key alias/app-data") \
        == Eventually(outside)
    assert compile_one("nobody outside account 111122223333 can eventually kms:Decrypt on key alias/app-data "
                       "within 3 steps") == Eventually(outside, 3)
    assert compile_one(f"none of [{DEV}] can eventually kms:Decrypt within 1 step") == Eventually(
        AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (DEV,)), ("kms:Decrypt",)), 1)
    assert compile_one(f"only [{DEV}, 111122223333] can eventually kms:PutKeyPolicy on all keys") == Eventually(
        OnlyPrincipalsCan((DEV, "111122223333"), ("kms:PutKeyPolicy",), ("type:AWS::KMS::Key",)))
    # the plain forms are unchanged
    assert compile_one("no principal outside account 111122223333 can kms:Decrypt on key alias/app-data") == outside


@pytest.mark.parametrize(("claim", "col"), [
    ("nobody can eventually kms:Decrypt within 0 steps", 42),
    ("nobody can eventually kms:Decrypt within 1.5 steps", 42),
])
def test_bad_bounds(claim: str, col: int) -> None:
    with pytest.raises(InputError) as info:
        compile_one(claim)
    assert info.value.code == "PROP009" and info.value.span is not None and info.value.span.col == col + 8


def test_eventually_is_not_a_name_after_can() -> None:
    with pytest.raises(props.PropertySyntaxError):
        compile_one("eventually can eventually kms:Decrypt")


def test_describe_property_reads_back() -> None:
    prop = compile_one(f"none of [{DEV}] can eventually kms:Decrypt within 2 steps")
    assert describe_property(prop) == f"none of {DEV} can eventually kms:Decrypt within 2 steps"


# ---- rendering a chain ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refuted() -> object:
    (a,) = [x for x in props.compile_file(CHAINS / "failing" / "chains.access") if "vendor" in x.name]
    return props.check(a.environment, a.property)


@pytest.mark.solver
def test_text_is_a_numbered_path_with_statements(refuted: object) -> None:
    text = render_text([refuted])  # type: ignore[list-item]
    assert "chain of 2 steps" in text
    # the vendor's caller: its root user, a user or a role session (which one the model picks depends on the
    # solver's history in the process)
    assert re.search(r"    1\. arn:aws:(iam|sts)::777788889999:", text), text
    assert "calls sts:AssumeRole on arn:aws:iam::444455556666:role/Deployer" in text
    assert "examples/chains/failing/trust/deployer.json:4:5: allow TheCiVendorWithoutExternalId" in text
    assert "    3. arn:aws:sts::111122223333:assumed-role/AppRole/" in text and "(the access)" in text


@pytest.mark.solver
def test_json_sarif_markdown_html(refuted: object) -> None:
    doc = json.loads(render_json([refuted]))  # type: ignore[list-item]
    chain = doc["results"][0]["chain"]
    assert [s["step"] for s in chain] == [1, 2] and chain[0]["decision"] == "ALLOW"
    assert chain[0]["responsible"][0]["span"]["file"].endswith("failing/trust/deployer.json")
    sarif = json.loads(render_sarif([refuted]))  # type: ignore[list-item]
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "access-not-granted"
    related = [r["message"]["text"] for r in result.get("relatedLocations", [])]
    assert any(t.startswith("step 1: allow") for t in related)
    assert "1. `" in result_markdown(refuted) and "<ol>" in result_html(refuted)  # type: ignore[arg-type]


# ---- the command line -------------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue() + err.getvalue()


@pytest.mark.solver
def test_check_examples() -> None:
    status, out = run("check", str(CHAINS / "checks"), "--timeout", "60")
    assert status == 0, out
    assert out.splitlines()[-1].startswith("8 assertions: 8 proved")
    status, out = run("check", str(CHAINS / "failing"), "--timeout", "60")
    assert status == 1 and "5 refuted" in out.splitlines()[-1], out


@pytest.mark.solver
def test_findings_escalation() -> None:
    env = load_environment(CHAINS / "failing" / "environment.yaml")
    paths = [p for p in escalation_paths(env) if p.confirmed]
    starts = {(p.start.split("/")[1], p.chain[0].request.action) for p in paths}
    assert ("Analytics", "kms:CreateGrant") in starts and ("Deployer", "sts:AssumeRole") in starts
    for p in paths:
        assert p.evaluation is not None and p.evaluation.decision.allowed
        assert p.start.split(":")[4] != "111122223333"  # from outside the zone (the key's account)
    status, out = run("findings", str(CHAINS / "failing" / "environment.yaml"), "--escalation", "--format", "json")
    doc = json.loads(out[: out.rindex("}") + 1])
    assert status == 1 and any(e["chain"] for e in doc["escalations"])


@pytest.mark.solver
def test_report_page_shows_the_chain(refuted: object) -> None:
    from reasoner.face.render.html import checks_html
    from reasoner.face.report import Report

    page = checks_html([Report(refuted, "vendor chain")])  # type: ignore[arg-type]
    assert "Chain (each step replayed" in page and page.count("<li><code>") >= 3
