"""Content hashes of work units: the cache key of a resource's record.

Input: the environments of a run, a unit (environment, target, property checks) and the run's options.
Output: `Digests(job).unit_key(unit) -> str`, a SHA-256 hex digest.
Guarantee: the key covers everything the record depends on: the engine (`reasoner.__version__`, the z3 and
Lark versions, the record's shape), the options, the resource (its policy text and file name, its facts),
everything of its environment that every slice keeps (accounts, principals with their identity policies,
sessions, organizations with SCPs and RCPs, VPC endpoints, options, unknowns), and each property check (the
property, the assertion's name, place and modifiers, and the slices it is checked on, or the whole
environment for a chain of steps). A policy is hashed by
its kind, file name and text (it is a function of them: `reasoner.front.parse`); other values by a canonical
JSON form (sets sorted, mappings by key), so the key does not depend on the process's hash seed. What the
slices share is hashed once per environment, so keying N resources costs O(N), not O(N x environment).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from reasoner.batch.units import RECORD_VERSION, CheckSpec, Job, Unit
from reasoner.front.ast import PolicyDocument
from reasoner.semantics.environment import Environment
from reasoner.version import __version__


def engine_version() -> str:
    """What the engine is: our version and those of the solver and parser behind it."""
    import lark

    from reasoner.symbolic.solve import z3_version

    return f"reasoner {__version__}; z3 {z3_version()}; lark {lark.__version__}; record {RECORD_VERSION}"


def canonical(value: Any) -> Any:
    """A JSON-able form of `value` that is the same in every process (see the module docstring)."""
    if isinstance(value, PolicyDocument) and value.source is not None:
        return {"policy": value.kind.value, "file": value.source.name, "text": value.source.text,
                "span": canonical(value.span)}
    if isinstance(value, Environment):
        return {"environment": _environment_digest(value)}
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"@": type(value).__name__, **{f.name: canonical(getattr(value, f.name))
                                               for f in dataclasses.fields(value) if f.compare}}
    if isinstance(value, Mapping):
        return {"@map": sorted([json.dumps(canonical(k), sort_keys=True), canonical(v)] for k, v in value.items())}
    if isinstance(value, frozenset | set):
        return {"@set": sorted(json.dumps(canonical(v), sort_keys=True) for v in value)}
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _hash(value: Any) -> str:
    text = json.dumps(canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_ENV_DIGESTS: dict[int, tuple[Environment, str]] = {}


def _environment_digest(env: Environment) -> str:
    """The digest of a whole environment (for the other side of a comparison built in code), kept per object."""
    hit = _ENV_DIGESTS.get(id(env))
    if hit is not None and hit[0] is env:
        return hit[1]
    shared = _shared(env)
    own = _hash([[canonical(k) for k in env.keys], [canonical(r) for r in env.resources],
                 [canonical(p.trust_policy) for p in env.principals]])
    digest = hashlib.sha256(f"{shared}\0{own}".encode()).hexdigest()
    _ENV_DIGESTS[id(env)] = (env, digest)
    return digest


def _shared(env: Environment) -> str:
    """What every slice of `env` keeps (principals without their trust policies)."""
    bare = [dataclasses.replace(p, trust_policy=None) for p in env.principals]
    return _hash({"accounts": env.accounts, "principals": bare, "sessions": env.sessions,
                  "organizations": env.organizations, "options": env.options, "source": env.source,
                  "vpc_endpoints": env.vpc_endpoints, "unknowns": env.unknowns})


class Digests:
    """Cache keys of the units of one job."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._shared: dict[int, str] = {}
        self._own: dict[tuple[int, str], str] = {}
        self._objects: dict[int, dict[str, list[Any]]] = {}
        self._base = _hash({"engine": engine_version(), "options": job.options})

    def shared(self, env: int) -> str:
        hit = self._shared.get(env)
        if hit is None:
            hit = self._shared[env] = _shared(self.job.environments[env])
        return hit

    def resource(self, env: int, arn: str) -> str:
        """The digest of the slice of `arn` in environment `env` (what it shares, and the resource's own)."""
        hit = self._own.get((env, arn))
        if hit is None:
            objects = self._objects.get(env)
            if objects is None:  # the resource-specific objects of every target, indexed once per environment
                e = self.job.environments[env]
                objects = self._objects[env] = {}
                for k in e.keys:
                    objects.setdefault(k.arn, []).append(k)
                for r in e.resources:
                    objects.setdefault(r.arn, []).append(r)
                for p in e.principals:
                    if p.trust_policy is not None:
                        objects.setdefault(p.arn, []).append(p.trust_policy)
            own = [canonical(o) for o in objects.get(arn, [])]
            hit = self._own[(env, arn)] = hashlib.sha256(
                f"{self.shared(env)}\0{arn}\0{_hash(own)}".encode()).hexdigest()
        return hit

    def check(self, spec: CheckSpec, arn: str) -> str:
        from reasoner.analyses.properties import Eventually

        prop = spec.property
        if spec.old is not None:
            prop = dataclasses.replace(prop, old=None)  # type: ignore[arg-type]
        if isinstance(prop, Eventually):  # checked on the whole environment (`units.check`)
            env, old = self.whole(spec.env), None
        else:
            env = self.resource(spec.env, arn)
            old = None if spec.old is None else self.resource(spec.old, arn)
        return _hash({"name": spec.name, "span": spec.span, "allow_unknown": spec.allow_unknown,
                      "timeout": spec.timeout, "property": prop, "env": env, "old": old})

    def whole(self, env: int) -> str:
        """The digest of the whole environment `env` (what a chain of steps is checked on)."""
        return _environment_digest(self.job.environments[env])

    def unit_key(self, unit: Unit) -> str:
        arn = unit.target.arn
        parts = [self._base, self.job.inputs[unit.env], self.resource(unit.env, arn), unit.target.type,
                 *(self.check(c, arn) for c in unit.checks)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()
