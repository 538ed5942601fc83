"""One resource of an environment on its own: the environment every per-resource analysis runs in.

Input: an `Environment` and the ARN of one of its targets (a key, a declared resource, a role with a trust
policy: `resources.declared_targets`).
Output: `Slicer(env).slice(arn) -> Environment`: the same environment with that one target: its keys, resources
and trust policies reduced to the target's own (every account, principal with its identity policies, session,
organization with its SCPs and RCPs, VPC endpoint, option and unknown kept).
Guarantee: a request on the target is decided the same in the slice as in the whole environment: the decision
of a request reads the resource-based policy of the resource it acts on (key policy, resource policy, trust
policy) and nothing of other resources, and every caller the environment declares is still declared (a role
whose trust policy is dropped keeps its identity policies and its sessions; a trust policy decides only the
requests on its role). The analyses of one resource (findings, lint, property checks) ask only about requests
on it, so their verdicts on the slice are theirs on the whole environment, and their cost no longer grows with
the number of other resources (`tests/unit/test_scan.py` compares both on the examples).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reasoner.errors import InputError
from reasoner.semantics.environment import Environment, Principal, PrincipalKind
from reasoner.semantics.resources import declared_targets, resource_type_of

#: An ARN that is not a target of the environment (`--resource`, a property's resource).
NOT_A_TARGET = "INPUT004"


@dataclass(frozen=True)
class Target:
    """One resource of an environment: its ARN, CloudFormation-style type and owner account."""

    arn: str
    type: str
    account: str


def targets(env: Environment) -> list[Target]:
    """Every key, declared resource and role with a trust policy, in that order (as `declared_targets`)."""
    out: list[Target] = []
    kinds = {k.arn: "AWS::KMS::Key" for k in env.keys}
    for arn in declared_targets(env):
        if arn in kinds:
            kind = kinds[arn]
        elif env.resource(arn) is not None:
            rt = resource_type_of(arn)
            kind = rt.label if rt is not None else "resource"
        else:
            kind = "AWS::IAM::Role"
        parts = arn.split(":")
        out.append(Target(arn, kind, parts[4] if len(parts) > 4 else ""))
    return out


class Slicer:
    """Slices of one environment (what every slice shares is computed once)."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._keys = {k.arn: k for k in env.keys}
        self._resources = {r.arn: r for r in env.resources}
        self._roles = {p.arn: p for p in env.principals if p.kind is PrincipalKind.ROLE and p.trust_policy is not None}
        # every principal, trust policies dropped (a role's trust policy decides only requests on the role)
        self._bare: tuple[Principal, ...] = tuple(
            replace(p, trust_policy=None) if p.trust_policy is not None else p for p in env.principals)

    def slice(self, arn: str) -> Environment:
        """The environment of the target `arn` alone (see the module docstring); INPUT004 if it is none."""
        key = self._keys.get(arn)
        if key is not None:
            return replace(self.env, keys=(key,), resources=(), principals=self._bare)
        res = self._resources.get(arn)
        if res is not None:
            return replace(self.env, keys=(), resources=(res,), principals=self._bare)
        role = self._roles.get(arn)
        if role is not None:
            principals = tuple(role if p.arn == arn else b for p, b in zip(self.env.principals, self._bare,
                                                                            strict=True))
            return replace(self.env, keys=(), resources=(), principals=principals)
        raise InputError(f"`{arn}` is not a key, resource or role (with a trust policy) of the environment",
                         code=NOT_A_TARGET,
                         help="the ARNs `reasoner scan` reports, or those the manifest declares, are the targets")

    def slice_or_empty(self, arn: str) -> Environment:
        """The slice of `arn`, or when the environment has no such target, the environment with no target at
        all (the other side of a comparison in which the resource is new or gone)."""
        try:
            return self.slice(arn)
        except InputError:
            return replace(self.env, keys=(), resources=(), principals=self._bare)


def slice_environment(env: Environment, arn: str) -> Environment:
    """`Slicer(env).slice(arn)`."""
    return Slicer(env).slice(arn)
