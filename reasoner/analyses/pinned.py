"""The pinned symbolic decision: every variable of the symbolic request fixed to one concrete request.

Input: a compiled environment and a concrete `Request` (with what it assumes about undescribed callers).
Output: `decide(compiled, request)`: whether the symbolic encoding allows it (None when the solver cannot
tell), for differential tests against the concrete evaluator and the known-answer table.
Guarantee: the pin fixes everything the request determines; an encoding that both allows and denies a
pinned request raises `InternalError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reasoner import limits
from reasoner.analyses.compiled import CompiledEnvironment
from reasoner.analyses.explain import WORST_SOURCE
from reasoner.errors import (
    InternalError,
)
from reasoner.semantics import arns
from reasoner.semantics.evaluate import is_provider
from reasoner.semantics.request import Request
from reasoner.semantics.resources import governing_arn
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PKind, StrField, modelled_principal
from reasoner.symbolic.solve import Status
from reasoner.symbolic.strings import literal
from reasoner.symbolic.variables import Hole, Link, flatten


def _pin_field(f: StrField, value: str) -> list[smt.Term]:
    if value in f.index:
        return [smt.eq(f.sel, smt.int_(f.index[value]))]
    f.atom(literal(value))
    return [f.is_other()]
def _pin_atoms(f: StrField, value: str) -> list[smt.Term]:
    out = [a if nfa.accepts(value) else smt.not_(a) for nfa, (a, _) in f.atoms.items()]
    if value not in f.index:
        from fractions import Fraction

        from reasoner.semantics.values import parse_bool, parse_instant, parse_ip_address, parse_number

        for (name, fam), view in f.domain.views.items():
            if name != f.name:
                continue
            if fam in ("numeric", "date"):
                parsed = (parse_number if fam == "numeric" else parse_instant)(value)
                out.append(view["ok"] if parsed is not None else smt.not_(view["ok"]))
                if parsed is not None:
                    out.append(smt.eq(view["v"], smt.real(Fraction(parsed))))
            elif fam == "bool":
                pb = parse_bool(value)
                out.append(smt.eq(view["b"], "0" if pb is None else "1" if pb else "2"))
            elif fam == "binary":
                from reasoner.semantics.values import decode_base64

                data = decode_base64(value)
                bid = -1 if data is None else f.domain.byte_ids.get(data, 0)
                out.append(smt.eq(view["bytes"], smt.int_(bid)))
            elif fam == "ip":
                addr = parse_ip_address(value)
                if addr is None:
                    out.append(smt.eq(view["fam"], "0"))
                elif addr.version == 4:
                    out += [smt.eq(view["fam"], "4"), smt.eq(view["v4"], smt.bv(int(addr), 32))]
                else:
                    out += [smt.eq(view["fam"], "6"), smt.eq(view["v6"], smt.bv(int(addr), 128))]
    return out
def pin_request(compiled: CompiledEnvironment, request: Request) -> smt.Term:
    """The constraint that fixes the symbolic request to `request` (every variable the decision reads).
    Raises ValueError for a request outside the domain (another action, an unknown key, a caller form the
    domain does not model, more values than a multivalued key has slots)."""

    from reasoner.semantics.catalog import canonical_action

    d = compiled.domain
    t = request.principal
    fields: dict[str, str] = {}
    m = modelled_principal(t)
    if isinstance(m, arns.RootArn):
        kind, fields = PKind.ROOT, {"acct": m.account}
    elif isinstance(m, arns.UserArn):
        path, _, name = m.path_name.rpartition("/")
        kind, fields = PKind.USER, {"acct": m.account, "upath": f"{path}/" if path else "", "uname": name}
    elif isinstance(m, arns.AssumedRoleArn):
        kind, fields = PKind.SESSION, {"acct": m.account, "role": m.role_name, "sess": m.session_name}
        if not any(env.role_named(m.account, m.role_name) for env in d.environments):
            # an undescribed role's path: as the counterexample assumes it, else `/` (what the evaluator uses);
            # a described role's path is fixed by the domain
            fields["rpath"] = request.assumed.get("rolepath", "")
    elif isinstance(m, arns.FederatedUserArn):
        kind, fields = PKind.FEDERATED, {"acct": m.account, "fed": m.name}
        # the source user of a federated user an environment does not declare: as the counterexample assumes
        # it, else the user nothing names that `explain.augment_caller` declares
        src = modelled_principal(request.assumed.get("fedsource", ""))
        path, _, name = src.path_name.rpartition("/") if isinstance(src, arns.UserArn) else ("", "", WORST_SOURCE)
        fields["upath"] = f"{path}/" if path else ""
        fields["uname"] = name
    elif t in ("anonymous", "*") and PKind.ANONYMOUS in d.kinds:
        kind, fields = PKind.ANONYMOUS, {}
    elif is_provider(t) and PKind.PROVIDER in d.kinds:
        kind, fields = PKind.PROVIDER, {"prov": t}
    elif re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com", t):
        kind, fields = PKind.SERVICE, {"svc": t}
    else:
        raise ValueError(f"principal `{t}` is outside the symbolic domain")
    for name, value in fields.items():
        f = d.f(name)
        if not all(h.accepts(value) for h in f.hard):
            raise ValueError(f"`{value}` does not have the shape of field `{name}`")
    if (spelled := d.misspelled_known_name(kind, fields)) is not None:
        raise ValueError(f"principal `{t}` names the known `{spelled}` in another spelling")
    action = canonical_action(request.action) or request.action
    key = d.key_index(governing_arn(request.resource))
    if action not in d.actions or key is None:
        raise ValueError("action or resource outside the symbolic domain")
    target = d.targets[key]
    if isinstance(m, arns.PrincipalArn) and m.partition != target.partition:
        raise ValueError("a caller of another partition than the resource's is outside the symbolic domain")
    sub: str | None = None
    if request.resource != target.arn:
        if not (target.sub_type and request.resource.startswith(target.sub_prefix) and action in target.sub_actions):
            raise ValueError("resource outside the symbolic domain")
        sub = request.resource[len(target.sub_prefix):]
        if not all(h.accepts(sub) for h in d.f("sub").hard):
            raise ValueError(f"`{sub}` does not have the shape of a sub-resource name")
    elif target.sub_type and action not in target.own_actions:
        raise ValueError("the action does not act on the resource itself")
    from reasoner.semantics.catalog import condition_key_may_exist

    # keys that never exist for the action are dropped (as `evaluate._derive` does) before anything else
    given = {
        k: tuple(v)
        for k, v in request.context.items()
        if not (k.lower().startswith("kms:") and condition_key_may_exist(k.lower(), action) is False)
    }
    ctx = {k.lower(): v for k, v in given.items()}
    if "kms:encryptioncontextkeys" not in ctx:
        ec = tuple(k.split(":", 2)[2] for k in given if k.lower().startswith("kms:encryptioncontext:"))
        if ec:
            ctx["kms:encryptioncontextkeys"] = ec
    parts: list[smt.Term] = [
        d.kind_is(kind),
        smt.eq(d.act, smt.int_(d.actions.index(action))),
        smt.eq(d.res, smt.int_(key)),
    ]
    if target.sub_type:
        parts.append(d.onsub if sub is not None else smt.not_(d.onsub))
        if sub is not None:
            fields["sub"] = sub
    pinned: list[tuple[StrField, str]] = []
    for name, value in fields.items():
        parts += _pin_field(d.f(name), value)
        pinned.append((d.f(name), value))
    for key_name, raw in d.raw.items():
        values = ctx.get(key_name, ())
        if len(values) > len(raw.present):
            raise ValueError(f"more values for `{key_name}` than the encoding has slots")
        for i, (p, f) in enumerate(zip(raw.present, raw.fields, strict=True)):
            if i < len(values):
                parts.append(p)
                parts += _pin_field(f, values[i])
                pinned.append((f, values[i]))
            else:
                parts.append(smt.not_(p))
    # what AWS derives for a caller the environment does not describe: as the request assumes it, else what
    # `explain.augment_caller` replays without the fact (no organization, no principal tag)
    # an organization an environment declares is closed: a fact that puts an undeclared account in it is
    # ignored, as `explain.augment_caller` / `augment_key_owner` ignore it
    closed = frozenset().union(*(e.declared_organizations() for e in d.environments))
    facts = {
        k: v
        for k, v in request.assumed.items()
        if not (k in ("org", "orgpath") and request.assumed.get("org") in closed)
        and not (k in ("keyorg", "keyorgpath") and request.assumed.get("keyorg") in closed)
    }
    for view, fact, names in (
        ("p.inorg", "org", (("org", "org"), ("orgpath", "orgpath"))),
        ("r.inorg", "keyorg", (("rorg", "keyorg"), ("rorgpath", "keyorgpath"))),
    ):
        inorg = d.views_bool.get(view)
        if inorg is None:
            continue
        parts.append(inorg if fact in facts else smt.not_(inorg))
        for name, key_name in names if fact in facts else ():
            if name in d.fields:
                if not all(h.accepts(facts.get(key_name, "")) for h in d.fields[name].hard):
                    raise ValueError(f"assumed `{facts.get(key_name, '')}` does not have the shape of `{name}`")
                parts += _pin_field(d.fields[name], facts.get(key_name, ""))
                pinned.append((d.fields[name], facts.get(key_name, "")))
    tags = {k[4:].lower(): v for k, v in facts.items() if k.startswith("tag:")}
    for name, present in list(d.views_bool.items()):
        if name.startswith("p.tag."):
            tag = name[len("p.tag.") :]
            parts.append(present if tag in tags else smt.not_(present))
            if tag in tags:
                parts += _pin_field(d.fields[name], tags[tag])
                pinned.append((d.fields[name], tags[tag]))
    for name in ("uid", "rid"):
        if "uid" in facts and name in d.fields and facts["uid"].startswith("AIDA" if name == "uid" else "AROA"):
            parts += _pin_field(d.fields[name], facts["uid"])
            pinned.append((d.fields[name], facts["uid"]))
    compiled.flush()
    for f, value in pinned:
        parts += _pin_atoms(f, value)
    parts += _pin_links(d.links.values(), {id(f): value for f, value in pinned})
    return smt.and_(parts)


def _pin_links(links: Iterable[Link], values: dict[int, str]) -> list[smt.Term]:
    """The truth of each link (a policy variable's symbolic value against a pattern) whose fields are all pinned;
    a link with a field the request leaves open is in a case the request's guards exclude."""
    out: list[smt.Term] = []
    for lk in links:
        fields = [p for p in (*lk.value, *(h.pieces[0] for h in flatten(list(lk.items)) if isinstance(h, Hole)))
                  if isinstance(p, StrField)]
        if all(id(f) in values for f in fields):
            out.append(lk.atom if lk.holds(lambda f: values[id(f)]) else smt.not_(lk.atom))
    return out
def _possible(compiled: CompiledEnvironment, request: Request) -> None:
    """Raise ValueError for a request AWS never sends (`semantics/requestfacts.py`): the symbolic domain holds
    only the requests AWS can send, so such a request is outside it (the evaluator refuses it too)."""
    from reasoner.errors import ReasonerError
    from reasoner.semantics.evaluate import IMPOSSIBLE_REQUEST, evaluate

    try:
        evaluate(compiled.domain.environments[0], request)
    except ReasonerError as exc:  # only whether AWS could send it matters here
        if exc.code == IMPOSSIBLE_REQUEST:
            raise ValueError(exc.message) from None


def decide(compiled: CompiledEnvironment, request: Request, *, timeout: float | None = None) -> bool | None:
    """The symbolic decision (allowed or not) for one concrete request, or None when the solver cannot tell
    or the encoding is not deterministic for it (both an ALLOW and a deny model exist: a bug)."""
    d = compiled.domain
    _possible(compiled, request)
    pin = pin_request(compiled, request)
    compiled.n_props += 1
    yes = d.script.declare(f"pin.{compiled.n_props}.allow", smt.BOOL)
    no = d.script.declare(f"pin.{compiled.n_props}.deny", smt.BOOL)
    d.script.require(smt.implies(yes, smt.and_(pin, compiled.encoded.allows)))
    d.script.require(smt.implies(no, smt.and_(pin, smt.not_(compiled.encoded.allows))))
    compiled.flush()
    with limits.budget(limits.seconds_or_default(timeout)):
        a = compiled.solver.check([yes])
        b = compiled.solver.check([no])
    if a.status is Status.UNKNOWN or b.status is Status.UNKNOWN:
        return None
    if (a.status is Status.SAT) == (b.status is Status.SAT):
        raise InternalError(
            f"the encoding is not deterministic for `{request}`: allow {a.status.value}, deny {b.status.value}"
        )
    return a.status is Status.SAT
