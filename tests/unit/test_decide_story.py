"""One story between `check` and `decide` (issue 14, item 6; docs/cli.md "decide").

- `decide` on a caller of an account whose IAM is not given assumes what `check` assumes (identity policies
  that allow everything, `Options.unknown_iam_worst_case`), says so (`assuming the IAM of account ... was not
  given`), and `--no-worst-case` turns it off.
- Every counterexample passed back gets the decision `check` claims for it: through `--request FILE` (the JSON
  report, one result, or the counterexample object) and through `--assume` with the `assuming NAME = VALUE`
  lines of the text output. The counterexamples: every refuted assertion of the bundled examples, scenarios
  whose counterexamples assume each kind of fact (organization, principal tag, key owner's organization,
  opt-in Region, role path, unique id, a federated user's source, unknown IAM), and random key policies.
- Bad input: a request file that is not JSON, not a counterexample, or holds several; an unknown assumption.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope, ScopeKind
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.face.cli import main
from reasoner.face.render.results import render_json, render_text
from reasoner.face.requests import assumed_key, parse_assume
from reasoner.front.ast import PolicyKind
from reasoner.front.manifest import load_environment
from tests import strategies

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main([str(a) for a in argv], out, err), out.getvalue(), err.getvalue()


def _manifest(tmp: Path, statements: list[dict[str, Any]], key: str = KEY, extra: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "key.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2))
    (tmp / "environment.yaml").write_text(f"keys:\n  - arn: {key}\n    policy: key.json\n{extra}")
    return tmp / "environment.yaml"


def _assuming(text: str) -> list[str]:
    """The `assuming NAME = VALUE` lines of a text report, as --assume items."""
    return [f"{m.group(1)}={m.group(2)}" for m in re.finditer(r"^\s+assuming (.+?) = (.*)$", text, re.M)]


def _roundtrip(env_path: Path, result: CheckResult, tmp: Path) -> dict[str, Any]:
    """Pass `result`'s counterexample back to `decide` three ways; each must give the decision `check` claims.
    Returns the counterexample object."""
    assert result.verdict is Verdict.REFUTED and result.evaluation is not None
    claimed = result.evaluation.decision.value
    report = json.loads(render_json([result]))
    (res,) = report["results"]
    assert res["decision"] == claimed
    cx = res["counterexample"]
    for i, doc in enumerate((report, res, cx)):
        f = tmp / f"request{i}.json"
        f.write_text(json.dumps(doc))
        status, out, err = cli("decide", env_path, "--request", f, "--format", "json")
        assert status in (0, 1), err
        got = json.loads(out)
        assert got["decision"] == claimed, (doc, got)
        assert (status == 0) == (claimed == "ALLOW")
    # the text output's assumption lines, as --assume, with the request's own fields
    argv: list[str] = ["decide", str(env_path), "--principal", cx["principal"], "--action", cx["action"],
                       "--resource", cx["resource"]]
    for k, vs in cx["context"].items():
        for v in vs:
            argv += ["--context", f"{k}={v}"]
    lines = _assuming(render_text([result]))
    assert len(lines) == len(cx["assumed"])
    for line in lines:
        argv += ["--assume", line]
    status, out, err = cli(*argv)
    assert out.splitlines()[0] == claimed, (argv, out, err)
    return cx


def _refuted(env_path: Path, prop: Any) -> CheckResult:
    result = check(load_environment(env_path), prop, rlimit=20_000_000)
    assert result.verdict is Verdict.REFUTED, result.reason
    return result


OUTSIDE = PrincipalScope.outside_account(OWNER)


def test_unknown_iam_is_the_worst_case_and_said(tmp_path: Path) -> None:
    ext = {"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
           "Action": "kms:Decrypt", "Resource": "*"}
    env = _manifest(tmp_path, [ROOT_STMT, ext], extra=f'accounts:\n  - id: "{OWNER}"\n')
    session = f"arn:aws:sts::{EXT}:assumed-role/App/s"
    base = ("decide", env, "--principal", session, "--action", "kms:Decrypt", "--resource", KEY)
    status, out, _ = cli(*base)
    assert status == 0 and out.startswith("ALLOW\n")
    assert f"assuming the IAM of account {EXT} was not given: its identity policies may allow anything" in out
    status, out, _ = cli(*base, "--no-worst-case")
    assert status == 1 and out.startswith("IMPLICIT_DENY\n") and "assuming" not in out
    status, out, _ = cli(*base, "--format", "json")
    doc = json.loads(out)
    assert doc["worst_case"] is True and doc["assumptions"] and doc["decision"] == "ALLOW"
    # a declared account whose IAM is given: nothing assumed
    env2 = _manifest(tmp_path / "given", [ROOT_STMT], extra=f'accounts:\n  - id: "{OWNER}"\n  - id: "{EXT}"\n')
    status, out, _ = cli("decide", env2, "--principal", session, "--action", "kms:Decrypt", "--resource", KEY)
    assert status == 1 and "assuming" not in out
    # the counterexample of `check` decides the same
    cx = _roundtrip(env, _refuted(env, AccessNotGranted(OUTSIDE, ("kms:Decrypt",))), tmp_path)
    assert cx["principal"].split(":")[4] != OWNER


#: Scenarios whose counterexamples assume each kind of fact about what the environment does not describe.
SCENARIOS: dict[str, tuple[list[dict[str, Any]], str, str]] = {
    "org": ([ROOT_STMT, {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}],
            KEY, ""),
    "orgpath": ([ROOT_STMT, {"Sid": "Path", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                             "Resource": "*", "Condition": {"ForAnyValue:StringLike": {
                                 "aws:PrincipalOrgPaths": "o-abcdefghij/r-ab12/ou-ab12-11111111/*"}}}], KEY, ""),
    "tag": ([ROOT_STMT, {"Sid": "Tag", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}], KEY, ""),
    "keyorg": ([{"Sid": "OwnOrg", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}}], KEY, ""),
    "region": ([ROOT_STMT, {"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                            "Action": "kms:Decrypt", "Resource": "*"}],
               KEY.replace("us-west-2", "af-south-1"), ""),
    "rolepath": ([ROOT_STMT, {"Sid": "Path", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                              "Resource": "*",
                              "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/team/*"}}}], KEY, ""),
    "uid": ([ROOT_STMT, {"Sid": "Uid", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                         "Resource": "*", "Condition": {"StringLike": {"aws:userid": "AROAEXAMPLEROLEID123:*"}}}],
            KEY, ""),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_kind_of_assumption_is_passed_back(tmp_path: Path, name: str) -> None:
    statements, key, extra = SCENARIOS[name]
    env = _manifest(tmp_path, statements, key, extra)
    cx = _roundtrip(env, _refuted(env, AccessNotGranted(OUTSIDE, ("kms:Decrypt",))), tmp_path)
    want = {"tag": "tag:team"}.get(name, name)
    assert want in cx["assumed"], cx


def test_federated_source_is_passed_back(tmp_path: Path) -> None:
    """`none of [user] can ...` refuted by a federated user the environment does not declare, assumed to be a
    session of that user (`fedsource`)."""
    user = f"arn:aws:iam::{EXT}:user/alice"
    bob = {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{EXT}:federated-user/bob"},
           "Action": "kms:Decrypt", "Resource": "*"}
    # the policies name the user (the decoder records a source user the policies or the environment name)
    named = {"Sid": "NamesAlice", "Effect": "Deny", "Principal": {"AWS": user}, "Action": "kms:ScheduleKeyDeletion",
             "Resource": "*"}
    env = _manifest(tmp_path, [ROOT_STMT, bob, named])
    result = _refuted(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (user,)), ("kms:Decrypt",)))
    cx = _roundtrip(env, result, tmp_path)
    assert cx["assumed"] == {"fedsource": user}


def test_bundled_examples_counterexamples(tmp_path: Path) -> None:
    """Every refuted assertion of the bundled property files, passed back as `check --format json` prints it."""
    files = sorted(p for p in (ROOT / "examples").rglob("*.access"))
    status, out, err = cli("check", *files, "--format", "json", "--timeout", "120")
    assert status in (0, 1), err
    # (a counterexample at the end of a chain of steps is decided in the environment the chain left, not in the
    # manifest: `decide` answers one request, so chains are left to tests/unit/test_eventually_face.py)
    refuted = [r for r in json.loads(out)["results"] if r["counterexample"] is not None and not r.get("chain")]
    assert refuted, "the bundled examples have a failing assertion on purpose (examples/org/failing)"
    for i, r in enumerate(refuted):
        f = tmp_path / f"r{i}.json"
        f.write_text(json.dumps(r))
        env = _environment_of(r)
        status, got, err = cli("decide", env, "--request", f, "--format", "json")
        assert json.loads(got)["decision"] == r["decision"], (r, got, err)


def _environment_of(result: dict[str, Any]) -> Path:
    """The manifest named by the `environment` statement of the result's property file."""
    path = Path(result["location"]["file"])
    text = path.read_text()
    m = re.search(r'^environment\s+"([^"]+)"', text, re.M)
    assert m is not None
    return (path.parent / m.group(1)).resolve()


# ---- random key policies -----------------------------------------------------------------------------------


@settings(max_examples=strategies.examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(strategies.policy_json(PolicyKind.KEY_POLICY), st.sampled_from(["kms:Decrypt", "kms:CreateGrant", "kms:*"]))
def test_random_counterexamples_decide_as_claimed(tmp_path: Path, doc: dict[str, Any], action: str) -> None:
    work = tmp_path / str(abs(hash(json.dumps(doc, sort_keys=True))) % 10**12)
    env = _manifest(work, doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]])
    (work / "key.json").write_text(json.dumps(doc, indent=2))
    try:
        environment = load_environment(env)
    except Exception:  # a policy the manifest refuses (e.g. a key-policy lint that is an error there)
        return
    result = check(environment, AccessNotGranted(OUTSIDE, (action,)), rlimit=20_000_000)
    if result.verdict is not Verdict.REFUTED:
        return
    _roundtrip(env, result, work)


# ---- bad input ------------------------------------------------------------------------------------------------


def test_request_file_errors(tmp_path: Path) -> None:
    env = _manifest(tmp_path, [ROOT_STMT])
    bad = tmp_path / "bad.json"
    bad.write_text('{"principal": "x",\n  "action": }')
    status, _, err = cli("decide", env, "--request", bad)
    assert status == 2 and f"{bad}:2:13: error: REQ001" in err
    bad.write_text('{"results": []}')
    status, _, err = cli("decide", env, "--request", bad)
    assert status == 2 and "REQ001 the report holds 0 counterexamples" in err
    bad.write_text('{"principal": "arn:aws:iam::111122223333:root", "action": "kms:Decrypt"}')
    status, _, err = cli("decide", env, "--request", bad)
    assert status == 2 and "no `resource` string" in err
    bad.write_text(json.dumps({"principal": "arn:aws:iam::111122223333:root", "action": "kms:Decrypt",
                               "resource": KEY, "assumed": {"colour": "red"}}))
    status, _, err = cli("decide", env, "--request", bad)
    assert status == 2 and "unknown assumption `colour`" in err
    status, _, err = cli("decide", env, "--request", tmp_path / "missing.json")
    assert status == 2 and "REQ001" in err
    status, _, err = cli("decide", env, "--principal", "arn:aws:iam::111122223333:root", "--action",
                         "kms:Decrypt", "--resource", KEY, "--assume", "colour=red")
    assert status == 2 and "INPUT004" in err
    status, _, err = cli("decide", env, "--action", "kms:Decrypt", "--resource", KEY)
    assert status == 2 and "--principal" in err


def test_assumption_names() -> None:
    assert parse_assume(["organization of the caller's account=o-abcdefghij",
                         "its path under the organization = r-ab12/ou-ab12-11111111/",
                         "principal tag team = red", "uid=AROAEXAMPLE"]) == {
        "org": "o-abcdefghij", "orgpath": "r-ab12/ou-ab12-11111111/", "tag:team": "red", "uid": "AROAEXAMPLE"}
    assert parse_assume(["organization of the key's owner account=o-abcdefghij",
                         "its path under the organization=r-ab12/"]) == {"keyorg": "o-abcdefghij",
                                                                         "keyorgpath": "r-ab12/"}
    assert assumed_key("TAG:Team") == "tag:Team" and assumed_key("colour") is None
