"""The one place where values unknown before deploy reach a verdict (issue 15).

Input: the environments an analysis reads (`Environment.unknowns`, filled by `reasoner.front.importers` from
CloudFormation parameters without a value, known-after-apply attributes of a Terraform plan, imports from
other stacks, ...).
Output: `reason(envs...)`: None when no verdict can depend on an unknown value, else the UNKNOWN reason, which
names every address (`depends on values not known before deploy: app.yaml#/Parameters/TrustedAccount (...)`).
Guarantee: sound by construction: every entry point of an analysis (`pipeline.check`, `findings.findings`,
`diff.diff`, `hygiene.hygiene`) asks it first and answers UNKNOWN with this reason instead of solving, so a
value no input fixes never makes a verdict PROVED or REFUTED by accident. Generated names (fresh ids AWS makes
up) are not unknown values here: `unknowns.check_generated` proved they cannot change a decision, or demoted
them to values.

This is the hook a later version replaces: instead of answering UNKNOWN, declare each placeholder (its
spelling, `{{unknown-N}}`, is one no real value can take) a solver symbol of its kind (account id, ARN, name)
and report a verdict "assuming <address> is ...", with the witness value in a counterexample.
"""

from __future__ import annotations

from reasoner.semantics.environment import Environment

#: Addresses shown in one reason (the rest are counted).
SHOWN = 5


def reason(*environments: Environment | None) -> str | None:
    """The UNKNOWN reason of an analysis of `environments`, or None when they hold no unknown value."""
    seen: dict[tuple[str, str], str] = {}
    for env in environments:
        for u in env.unknowns if env is not None else ():
            if u.kind == "value":
                seen.setdefault((u.address, u.placeholder), f"{u.address} ({u.why})")
    if not seen:
        return None
    items = list(seen.values())
    more = f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return "depends on values not known before deploy: " + "; ".join(items[:SHOWN]) + more
