"""HYG004 (a redundant statement) reuses the caller-side encoding across statement-removal variants (issue 17).

`hygiene._changes_decision` encodes the environment without one statement of a key's (resource's, role's)
policy once per statement and IAM extreme. The variant differs from the environment only in that policy
(`compiled.callers_alike`), so its encoder takes the caller cases, the identity / SCP / VPC endpoint gates, the
context values and the encoded policies of the environment's encoder (`Encoder(callers_of=...)`) and encodes
only the target's own policy. These tests fail when the sharing changes an issue, when it stops happening, or
when `callers_alike` accepts an environment whose callers differ.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reasoner.analyses import compiled as compiled_mod
from reasoner.analyses.findings import subjects_of
from reasoner.analyses.hygiene import REDUNDANT, _without, hygiene
from reasoner.batch.slices import Slicer, targets
from reasoner.face.api import load_subject
from reasoner.symbolic import encode

pytestmark = pytest.mark.solver

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFESTS = [EXAMPLES / "org" / "environment.yaml", EXAMPLES / "resources" / "environment.yaml",
             EXAMPLES / "seed" / "environment.yaml", EXAMPLES / "chains" / "environment.yaml"]


def _issues(env):  # type: ignore[no-untyped-def]
    r = hygiene(env)
    return ([(i.code, i.key, i.statement, i.span, i.message) for i in r.issues],
            [(i.code, i.key, i.message) for i in r.undecided])


def _count_resolutions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = encode.Encoder.resolve_caller

    def counted(self):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return real(self)

    monkeypatch.setattr(encode.Encoder, "resolve_caller", counted)
    return calls


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.parent.name)
def test_shared_caller_terms_give_the_issues_of_full_encodings(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = load_subject(str(path))
    slicer = Slicer(env)
    envs = [env] + [slicer.slice(t.arn) for t in targets(env)]
    calls = _count_resolutions(monkeypatch)
    shared = [_issues(e) for e in envs]
    with_sharing = calls[0]
    monkeypatch.setattr(compiled_mod, "callers_alike", lambda a, b: False)
    calls[0] = 0
    alone = [_issues(e) for e in envs]
    assert shared == alone
    # every statement judged for HYG004 used to resolve the callers anew; now only the environments do
    assert with_sharing < calls[0]


def test_some_redundant_statements_are_found_with_sharing() -> None:
    """The comparison above is not vacuous: the examples have HYG004 issues (found through shared encoders)."""
    found = [i for p in MANIFESTS for i in hygiene(load_subject(str(p))).issues if i.code == REDUNDANT]
    assert found


def test_callers_alike_accepts_only_resource_side_policy_changes() -> None:
    env = load_subject(str(EXAMPLES / "org" / "environment.yaml"))
    assert compiled_mod.callers_alike(env, env)
    subject = next(s for s in subjects_of(env) if s.policy.statements)
    variant = _without(env, subject, subject.policy.statements[0])
    assert variant is not env and compiled_mod.callers_alike(env, variant)
    # anything the callers, gates or context values read: not alike
    opts = replace(env, options=replace(env.options, unknown_iam_worst_case=not env.options.unknown_iam_worst_case))
    assert not compiled_mod.callers_alike(env, opts)
    p = next(p for p in env.principals if p.identity_policies)
    fewer = replace(env, principals=tuple(replace(x, identity_policies=x.identity_policies[1:]) if x is p else x
                                          for x in env.principals))
    assert not compiled_mod.callers_alike(env, fewer)
    tagged = replace(env, principals=tuple(replace(x, tags={**x.tags, "team": "other"}) if x is p else x
                                           for x in env.principals))
    assert not compiled_mod.callers_alike(env, tagged)
    k = env.keys[0]
    retagged = replace(env, keys=tuple(replace(x, tags={**x.tags, "env": "other"}) if x is k else x
                                       for x in env.keys))
    assert not compiled_mod.callers_alike(env, retagged)
    assert not compiled_mod.callers_alike(env, replace(env, accounts=env.accounts[1:]))
