"""External baselines, run side by side with our stages on the same inputs in the same run.

Input: the runner's `Context` and `Section`; generated scenarios (benchmarks/generate.py) and the corpus.
Output: figures in the section: the baseline's time or throughput, ours on the same queries, the ratio, and
how often the two verdicts agree.
Guarantee: each baseline is optional. When it is not installed the section is skipped with a message that
says how to install it; nothing here is a dependency of the package, of its tests or of CI.

- `reach-security` (PyPI, AGPL): an SMT-based IAM reasoner that answers "can this one principal do this
  action on this resource in some context?". We ask the same as our `CanAccess(principal, action, key)`.
  Install: `pip install reach-security` in the benchmark's environment (or put it on PYTHONPATH).
- `@cloud-copilot/iam-simulate` (npm, AGPL): a concrete simulator of AWS's decision. We time its
  `runSimulation` on the same requests as our `reasoner.semantics.evaluate.evaluate`, through a small Node script
  written to a temp dir at run time. Install: `npm install --prefix benchmarks/node` (its package.json pins
  the package), or point `REASONER_BENCH_NODE_MODULES` at a `node_modules` folder that has it.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.runner import (
    ROOT,
    Context,
    Section,
    Skip,
    Stages,
    build_environment,
    corpus_key_environments,
    evaluate_all,
    generated_requests,
    median,
    session_arn,
    tempdir,
    timed,
)

# ---- reach-security ----------------------------------------------------------------------------------------

def _reach() -> Any:
    try:
        engine = importlib.import_module("reach.engine")
        policy = importlib.import_module("reach.policy")
    except ImportError:
        raise Skip("reach-security is not installed (pip install reach-security)") from None
    return engine, policy


def reach_decide(engine: Any, policy: Any, sc: Any, principal: Any, action: str) -> tuple[float, str]:
    """Time reach's `decide` for `principal` (a generated principal) doing `action` on the scenario's key."""
    kp = policy.parse_policy(json.loads(sc.key_policy), "key-policy")
    ids = [policy.parse_policy(json.loads(t), f"identity-{i}") for i, t in enumerate(principal.policies)]
    pr = engine.Principal(principal.arn, ids)
    q = engine.Query(action, sc.key_arn, resource_policy=engine.ResourcePolicy(kp, sc.owner, required=True))
    t, res = timed(partial(engine.decide, pr, q, no_organization(engine)))
    return t, str(res.verdict.value)


def no_organization(engine: Any) -> Any:
    """reach's environment for accounts in no organisation, as ours are (`Account(id)` without one): the
    organisation keys are pinned absent, otherwise reach lets the caller choose them."""
    return engine.Environment(org_context={"aws:PrincipalOrgID": None, "aws:PrincipalOrgPaths": None})


def run_reach(ctx: Context, sec: Section) -> None:
    from benchmarks.generate import GenSpec, generate
    from reasoner.analyses.properties import CanAccess

    engine, policy = _reach()
    Stages.parse()
    try:
        check = Stages.check()
    except Skip as exc:
        check = None
        sec.notes.append(f"ours: skipped: {exc}; reach times only, no ratio")
    sizes = (1, 10) if ctx.quick else (1, 10, 100)
    seeds = (0,) if ctx.quick else (0, 1, 2)
    actions = ("kms:Decrypt",) if ctx.quick else ("kms:Decrypt", "kms:ScheduleKeyDeletion")
    # warm both sides once (imports, catalogues, grammar) so the figures are per query, not start-up
    warm = generate(GenSpec(statements=1))
    reach_decide(engine, policy, warm, warm.principals[1], "kms:Decrypt")
    agree = disagree = 0
    for n in sizes:
        theirs: list[float] = []
        ours: list[float] = []
        for seed in seeds:
            sc = generate(GenSpec(statements=n, seed=seed))
            env, _ = build_environment(sc)
            if check is not None and n == sizes[0] and seed == seeds[0]:
                try:  # warm-up
                    check(env, CanAccess(sc.principals[1].arn, ("kms:Decrypt",), (sc.key_arn,)))
                except Skip as exc:
                    check = None
                    sec.notes.append(f"ours: skipped: {exc}; reach times only, no ratio")
            # one concrete principal with identity policies: an external account's role, an owner's user
            chosen = [p for p in sc.principals if p.kind in ("role", "user")]
            picks = [chosen[-2] if len(chosen) > 2 else chosen[0],
                     chosen[1] if len(chosen) > 1 else chosen[0]]
            for p in picks:
                for action in actions:
                    t, verdict = reach_decide(engine, policy, sc, p, action)
                    theirs.append(t)
                    if check is None:
                        continue
                    prop = CanAccess(p.arn, (action,), (sc.key_arn,))
                    cold_env, _ = build_environment(sc)  # cold, like reach: freshly parsed, compiled anew
                    t2, res = timed(partial(check, cold_env, prop))
                    ours.append(t2)
                    v = getattr(getattr(res, "verdict", None), "value", "")
                    if verdict in ("allowed", "denied") and v in ("PROVED", "REFUTED"):
                        if (verdict == "allowed") == (v == "PROVED"):
                            agree += 1
                        else:
                            disagree += 1
                            sec.notes.append(f"DISAGREE statements={n} seed={seed} {p.arn} {action}: "
                                             f"reach {verdict}, ours {v}")
        sec.add(f"reach_ms_at_{n}", median(theirs) * 1000, "ms", "lower")
        if ours:
            o = median(ours)
            sec.add(f"ours_ms_at_{n}", o * 1000, "ms", "lower")
            sec.add(f"speedup_at_{n}", median(theirs) / o if o > 0 else float("inf"), "x", "higher")
    a2, d2 = _reach_corpus(ctx, sec, engine, policy, check)
    if check is not None:
        sec.add("verdicts_agree", agree + a2, "queries")
        sec.add("verdicts_disagree", disagree + d2, "queries", "lower")
    try:
        from importlib.metadata import version

        sec.notes.append(f"reach-security {version('reach-security')}")
    except Exception:
        sec.notes.append("reach-security (version unknown: not installed as a distribution)")


ADMIN_POLICY = {"Version": "2012-10-17",
                "Statement": [{"Sid": "KmsAll", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}


def _reach_corpus(ctx: Context, sec: Section, engine: Any, policy: Any, check: Any) -> tuple[int, int]:
    """The corpus key policies: can a role of the owner account, whose identity policy allows kms:*, call
    kms:Decrypt? Returns (agree, disagree)."""
    from reasoner.analyses.properties import CanAccess
    from reasoner.front.ast import PolicyKind
    from reasoner.semantics.environment import Principal, PrincipalKind

    try:
        corpus = ctx.corpus
    except Skip as exc:
        sec.notes.append(f"corpus: skipped: {exc}")
        return 0, 0
    envs, rejected = corpus_key_environments(corpus, 5 if ctx.tiny else 30 if ctx.quick else None)
    parse = Stages.parse()
    ident = parse(json.dumps(ADMIN_POLICY), file="admin.json", kind=PolicyKind.IDENTITY)
    role = "arn:aws:iam::111122223333:role/Admin"
    reach_ident = policy.parse_policy(ADMIN_POLICY, "admin")
    theirs: list[float] = []
    ours: list[float] = []
    agree = disagree = unusable = 0
    for path, env in envs:
        key = env.keys[0]
        source = getattr(key.policy, "source", None)  # the text our parser read (placeholders filled)
        try:
            text = source.text if source is not None else Path(path).read_text(encoding="utf-8")
            kp = policy.parse_policy(json.loads(text), "key-policy")
        except Exception:  # reach rejects documents our parser accepts: not its query
            unusable += 1
            continue
        q = engine.Query("kms:Decrypt", key.arn,
                         resource_policy=engine.ResourcePolicy(kp, key.account, required=True))
        try:
            t, res = timed(partial(engine.decide, engine.Principal(role, [reach_ident]), q,
                                   no_organization(engine)))
        except Exception as exc:  # reach's own error on this input
            unusable += 1
            sec.notes.append(f"reach failed on {Path(path).name}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        theirs.append(t)
        if check is None:
            continue
        admin = Principal(arn=role, kind=PrincipalKind.ROLE, identity_policies=(ident,))
        env2 = replace(env, principals=(admin,))
        try:
            t2, mine = timed(partial(check, env2, CanAccess(role, ("kms:Decrypt",), (key.arn,))))  # cold
        except Skip:
            check = None
            continue
        ours.append(t2)
        v = getattr(getattr(mine, "verdict", None), "value", "")
        verdict = str(res.verdict.value)
        if verdict in ("allowed", "denied") and v in ("PROVED", "REFUTED"):
            if (verdict == "allowed") == (v == "PROVED"):
                agree += 1
            else:
                disagree += 1
                sec.notes.append(f"DISAGREE {Path(path).name} {role} kms:Decrypt: reach {verdict}, ours {v}")
    if theirs:
        sec.add("corpus_reach_p50_ms", median(theirs) * 1000, "ms", "lower")
    if ours:
        sec.add("corpus_ours_p50_ms", median(ours) * 1000, "ms", "lower")
        sec.add("corpus_speedup_p50", median(theirs) / median(ours), "x", "higher")
    sec.notes.append(f"corpus: {len(theirs)} key policies queried, {rejected} not usable by us, "
                     f"{unusable} not usable by reach")
    return agree, disagree


# ---- @cloud-copilot/iam-simulate ---------------------------------------------------------------------------

NODE_SCRIPT = r"""
// Times @cloud-copilot/iam-simulate's runSimulation on the simulations in argv[2]; prints JSON on stdout.
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const fs = require('fs');

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const sims = input.simulations;
  const results = [];
  for (const sim of sims) {  // first pass: answers and warm-up
    const r = await runSimulation(sim, {});
    results.push(r.resultType === 'error'
      ? 'error: ' + JSON.stringify(r.errors).slice(0, 300) : r.overallResult);
  }
  const repeat = input.repeat || 1;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) {
    for (const sim of sims) {
      await runSimulation(sim, {});
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ results, seconds, count: sims.length * repeat }));
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
"""


def node_modules() -> Path | None:
    """A node_modules folder that has @cloud-copilot/iam-simulate, or None."""
    candidates = []
    if os.environ.get("REASONER_BENCH_NODE_MODULES"):
        candidates.append(Path(os.environ["REASONER_BENCH_NODE_MODULES"]))
    candidates.append(ROOT / "benchmarks" / "node" / "node_modules")
    for c in candidates:
        if (c / "@cloud-copilot" / "iam-simulate" / "package.json").is_file():
            return c
    return None


def _simulation(sc: Any, req: Any, context: Any = None) -> dict[str, Any]:
    """The iam-simulate input for one of our requests on a generated scenario. iam-simulate does not derive
    the keys AWS sets from the caller (aws:PrincipalArn, kms:CallerAccount, ...); `context`, when given, is
    the full context our evaluator derived, so both tools decide the same request."""
    caller = req.principal
    owner_arn = caller
    if ":assumed-role/" in caller:
        acct = caller.split(":")[4]
        role = caller.split("/")[1]
        owner_arn = f"arn:aws:iam::{acct}:role/{role}"
    ids: list[dict[str, Any]] = []
    for p in sc.principals:
        if p.arn == owner_arn:
            ids = [{"name": f"identity-{i}", "policy": json.loads(t)} for i, t in enumerate(p.policies)]
    from reasoner.semantics import catalog
    source = context if context is not None else req.context
    ctx = {k: (list(v) if len(v) != 1 or catalog.is_multivalued(k) else v[0]) for k, v in source.items()}
    return {
        "request": {"principal": caller, "action": req.action,
                    "resource": {"resource": req.resource, "accountId": sc.owner}, "contextVariables": ctx},
        "identityPolicies": ids,
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
        "resourcePolicy": json.loads(sc.key_policy),
    }


_DECISIONS = {"ALLOW": "Allowed", "EXPLICIT_DENY": "ExplicitlyDenied", "IMPLICIT_DENY": "ImplicitlyDenied"}


def run_iam_simulate(ctx: Context, sec: Section) -> None:
    from benchmarks.generate import GenSpec, generate

    node = shutil.which("node")
    if node is None:
        raise Skip("node is not installed (iam-simulate runs on Node.js)")
    modules = node_modules()
    if modules is None:
        raise Skip("@cloud-copilot/iam-simulate is not installed (npm install --prefix benchmarks/node)")
    Stages.parse()
    try:
        evaluate = Stages.evaluate()
    except Skip as exc:
        evaluate = None
        sec.notes.append(f"ours: skipped: {exc}; iam-simulate throughput only, no ratio")
    sizes = (10,) if ctx.quick else (10, 100)
    repeat = 1 if ctx.tiny else 3 if ctx.quick else 10
    agree = disagree = errors = 0
    with tempdir() as tmp:
        script = Path(tmp) / "simulate.cjs"
        script.write_text(NODE_SCRIPT, encoding="utf-8")
        for n in sizes:
            sc = generate(GenSpec(statements=n))
            env, _ = build_environment(sc)
            reqs = generated_requests(sc, limit=40 if ctx.tiny else None)
            contexts: list[Any] = [None] * len(reqs)
            if evaluate is not None:
                try:
                    contexts = [evaluate(env, r).context for r in reqs]
                except Skip as exc:
                    sec.notes.append(f"ours: skipped: {exc}; iam-simulate throughput only, no ratio")
                    evaluate = None
            if evaluate is None:
                sec.notes.append("iam-simulate gets the request context only (no derived principal keys)")
            sims = [_simulation(sc, r, c) for r, c in zip(reqs, contexts, strict=True)]
            inp = Path(tmp) / f"sims-{n}.json"
            inp.write_text(json.dumps({"simulations": sims, "repeat": repeat}), encoding="utf-8")
            t0 = time.perf_counter()
            proc = subprocess.run([node, str(script), str(inp)], capture_output=True, text=True, timeout=600,
                                  env={**os.environ, "NODE_PATH": str(modules)}, check=False)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"iam-simulate script failed: {proc.stderr.strip()[-500:]}")
            out = json.loads(proc.stdout)
            theirs_per_s = out["count"] / out["seconds"] if out["seconds"] > 0 else float("inf")
            sec.add(f"iam_simulate_decisions_per_s_at_{n}", theirs_per_s, "/s", "higher")
            sec.add(f"iam_simulate_process_ms_at_{n}", wall * 1000, "ms", "lower",
                    note="node start-up, import and one pass included")
            if evaluate is None:
                continue
            best = float("inf")
            answers: list[Any] = []
            for _ in range(repeat):
                t, answers = timed(partial(evaluate_all, evaluate, env, reqs))
                best = min(best, t)
            ours_per_s = len(reqs) / best
            sec.add(f"ours_decisions_per_s_at_{n}", ours_per_s, "/s", "higher")
            sec.add(f"speedup_at_{n}", ours_per_s / theirs_per_s, "x", "higher")
            for req, ev, theirs in zip(reqs, answers, out["results"], strict=True):
                if str(theirs).startswith("error"):
                    errors += 1
                    continue
                ours_v = _DECISIONS.get(ev.decision.name, ev.decision.name)
                if ours_v == theirs:
                    agree += 1
                else:
                    disagree += 1
                    if disagree <= 5:
                        sec.notes.append(f"DIFFERS statements={n} {req.principal} {req.action} "
                                         f"context={dict(req.context)}: ours {ours_v}, iam-simulate {theirs}")
    if evaluate is not None:
        sec.add("decisions_agree", agree, "requests")
        sec.add("decisions_differ", disagree, "requests", "lower")
    if errors:
        sec.notes.append(f"iam-simulate rejected {errors} simulations as invalid input")
    pkg_json = modules / "@cloud-copilot" / "iam-simulate" / "package.json"
    pkg = json.loads(pkg_json.read_text(encoding="utf-8"))
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                  check=False).stdout.strip()
    sec.notes.append(f"@cloud-copilot/iam-simulate {pkg.get('version')}, node {node_version}")


__all__ = ["node_modules", "run_iam_simulate", "run_reach", "session_arn"]
