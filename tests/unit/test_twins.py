"""The organization of examples/org read from its manifest, CloudFormation stacks and Terraform plans gives the
same verdicts (issue 15: the bundled examples gain twins of their manifest).

Every claim of examples/org/twins (the same text in the three files) is checked on each twin; so are claims that
are refuted (a counterexample must exist in every twin), concrete decisions, and the findings of each key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.analyses import findings
from reasoner.analyses.pipeline import check
from reasoner.front.importers import load
from reasoner.language.property_files import Compiler
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Request

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
TWINS = {"manifest": ORG / "environment.yaml", "cloudformation": ORG / "cloudformation" / "environment.yaml",
         "terraform": ORG / "terraform" / "environment.yaml"}
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

pytestmark = pytest.mark.solver


def _claims(path: Path) -> str:
    text = path.read_text()
    return text[text.index("\nlet "):]


def test_the_three_twin_files_state_the_same_claims() -> None:
    texts = {name: _claims(ORG / "twins" / f"{name}.access") for name in TWINS}
    assert texts["manifest"] == texts["cloudformation"] == texts["terraform"]


@pytest.fixture(scope="module")
def environments() -> dict[str, object]:
    return {name: load(path) for name, path in TWINS.items()}


def test_no_twin_has_an_unknown_value(environments: dict[str, object]) -> None:
    for env in environments.values():
        assert [u for u in env.unknowns if u.kind == "value"] == []  # type: ignore[attr-defined]


def test_the_claims_have_the_same_verdicts_on_every_twin() -> None:
    verdicts: dict[str, dict[str, str]] = {}
    for name in TWINS:
        compiled = Compiler().compile_file(ORG / "twins" / f"{name}.access")
        verdicts[name] = {a.name: check(a.environment, a.property).verdict.value for a in compiled}
    assert len(verdicts["manifest"]) == 7
    assert verdicts["manifest"] == verdicts["cloudformation"] == verdicts["terraform"]
    assert set(verdicts["manifest"].values()) == {"PROVED"}


REFUTED = (
    "no principal outside account 111122223333 can kms:Decrypt on key alias/app-data",
    "only [arn:aws:iam::111122223333:role/AppRole] can kms:Decrypt on key alias/app-data",
    "arn:aws:iam::444455556666:user/intern can kms:Decrypt on key alias/app-data",
)


@pytest.mark.parametrize("claim", REFUTED)
def test_refuted_claims_are_refuted_on_every_twin(environments: dict[str, object], claim: str) -> None:
    results = {}
    for name, env in environments.items():
        (assertion,) = Compiler().compile_text(f"assert: {claim}", environment=env, base_dir=ORG)  # type: ignore[arg-type]
        result = check(env, assertion.property)  # type: ignore[arg-type]
        results[name] = (result.verdict.value, result.counterexample.principal if result.counterexample else None)
    assert {v for v, _ in results.values()} == {"REFUTED"}, results


@pytest.mark.parametrize(("principal", "action", "context"), [
    ("arn:aws:sts::444455556666:assumed-role/Analytics/s", "kms:Decrypt",
     {"kms:EncryptionContext:dataset": ("reporting",)}),
    ("arn:aws:sts::444455556666:assumed-role/Analytics/s", "kms:Decrypt", {}),
    ("arn:aws:sts::111122223333:assumed-role/AppRole/web", "kms:GenerateDataKey", {}),
    ("arn:aws:sts::111122223333:assumed-role/AppRole/web", "kms:ScheduleKeyDeletion", {}),
    ("arn:aws:sts::111122223333:assumed-role/KeyAdmin/k", "kms:ScheduleKeyDeletion", {}),
    ("arn:aws:iam::444455556666:user/intern", "kms:DescribeKey", {}),
])
def test_decisions_agree(environments: dict[str, object], principal: str, action: str,
                         context: dict[str, tuple[str, ...]]) -> None:
    decisions = {name: evaluate(env, Request(principal, action, APP, context)).decision.value  # type: ignore[arg-type]
                 for name, env in environments.items()}
    assert len(set(decisions.values())) == 1, decisions


def test_findings_agree(environments: dict[str, object]) -> None:
    seen = {}
    for name, env in environments.items():
        result = findings.findings(env, ["111122223333"])  # type: ignore[arg-type]
        seen[name] = sorted((f.key, f.principal.kind, f.principal.value, f.actions) for f in result.findings)
        assert all(k.complete.value == "PROVED" for k in result.keys)
    assert seen["manifest"] == seen["cloudformation"] == seen["terraform"]
    assert seen["manifest"], "the app-data key is decrypted by the analytics account"
