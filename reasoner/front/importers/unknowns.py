"""Values an infrastructure file does not know before deploy, and how they are written in the environment.

Input: what an importer could not resolve (a parameter without a value, a known-after-apply attribute, an
import from another stack, the name AWS generates for a resource, a condition that depends on one of these)
with its address (`template.yaml#/Resources/AppKey/Properties/KeyPolicy/Statement/0/Principal/AWS` or
`plan.json:aws_kms_key.app.arn`).
Output: `Unknowns`, which hands out a placeholder for each (the text the environment carries in its place)
and, at the end, the `Unknown` records of `Environment.unknowns`.
Guarantee: a placeholder is spelled so that no real value can take it, so it can never be mistaken for a
constant, and every one is recorded with its address and where it ended up:

- a *value* (kind "value") is written `{{unknown-N}}`: braces appear in no ARN, account id, name or action, so
  every comparison with it is decided by the placeholder's own spelling, never by chance. A verdict on an
  environment that holds one is UNKNOWN with the addresses (`reasoner.analyses.unresolved`): that is the hook
  where a later version makes the value a solver symbol ("assuming <address> is ...");
- a *generated name* (kind "generated": a KMS key id, a role or bucket name AWS makes up when the template
  names none) is a well-formed name of its kind that AWS never generates (`AppKey-unknown`: key ids are
  hexadecimal; `AppRole@unknown`: generated role names have no `@`; ...). Such a name is fresh: the resource
  it names is compared only with itself (through `Ref` / `GetAtt`, which give the same placeholder) and with
  patterns. `check_generated` proves, per environment, that no string of any policy could compare
  differently with the real name: no literal of the same ARN shape (which could be the real ARN, written after
  deploy) and no wildcard pattern that matches some names of the shape and not others. When that proof
  fails, the generated name is demoted to a value (its verdicts become UNKNOWN with the address and the
  string that could depend on it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from reasoner.semantics.environment import Environment, Unknown
from reasoner.source import Span

#: The spelling of an unknown value: `{{unknown-N}}`.
VALUE_RE = re.compile(r"\{\{unknown-(\d+)\}\}")


def value_placeholder(n: int) -> str:
    return f"{{{{unknown-{n}}}}}"


@dataclass
class Unknowns:
    """The unknowns of one import; `value(...)` and `generated(...)` return the placeholder to write."""

    records: list[Unknown] = field(default_factory=list)
    _by_address: dict[str, str] = field(default_factory=dict)
    start: int = 1

    def value(self, address: str, why: str, span: Span | None = None) -> str:
        """The placeholder of an unknown value (one per address: the same address gives the same text)."""
        if address in self._by_address:
            return self._by_address[address]
        text = value_placeholder(self.start + len(self.records))
        self.records.append(Unknown(address, text, "value", why, span=span))
        self._by_address[address] = text
        return text

    def generated(self, address: str, text: str, why: str, arn_of: Callable[[str], str] | None = None,
                  span: Span | None = None) -> str:
        """Record a generated name at `address`, spelled `text` (made unique among the names of this import by
        a number after its `unknown` marker); `arn_of(name)` is the ARN it stands in, for `check_generated`.
        Returns the spelling (the same for the same address)."""
        if address in self._by_address:
            return self._by_address[address]
        taken = {u.placeholder for u in self.records}
        final, n = text, 1
        while final in taken:
            n += 1
            final = re.sub("unknown", f"unknown{n}", text, count=1, flags=re.IGNORECASE)
        arn = arn_of(final) if arn_of is not None else ""
        self.records.append(Unknown(address, final, "generated", why, arn=arn, span=span))
        self._by_address[address] = final
        return final

    def used(self, placeholder: str, where: str) -> None:
        """Note that `placeholder` ended up in `where` (a policy, a key ARN, ...)."""
        for i, u in enumerate(self.records):
            if u.placeholder == placeholder and where not in u.used_in:
                self.records[i] = Unknown(u.address, u.placeholder, u.kind, u.why, (*u.used_in, where), u.arn,
                                          span=u.span)

    def note_uses(self, text: str, where: str) -> None:
        """Record `where` for every placeholder written in `text`."""
        for u in self.records:
            if u.placeholder in text:
                self.used(u.placeholder, where)


# ---- generated names: the proof that their spelling cannot matter ---------------------------------------

def _strings_of(env: Environment) -> Iterator[tuple[str, str]]:
    """(string, where) for every string a decision compares: every value of every policy, and the ARNs the
    environment declares."""
    docs = []
    for k in env.keys:
        yield k.arn, f"key `{k.arn}`"
        docs.append((k.policy, f"the key policy of `{k.arn}`"))
        for g in k.grants:
            yield g.grantee, f"a grant of `{k.arn}`"
    for r in env.resources:
        yield r.arn, f"resource `{r.arn}`"
        if r.policy is not None:
            docs.append((r.policy, f"the policy of `{r.arn}`"))
    for p in env.principals:
        yield p.arn, f"principal `{p.arn}`"
        docs += [(d, f"a policy of `{p.arn}`") for d in p.identity_policies]
        if p.permissions_boundary is not None:
            docs.append((p.permissions_boundary, f"the boundary of `{p.arn}`"))
        if p.trust_policy is not None:
            docs.append((p.trust_policy, f"the trust policy of `{p.arn}`"))
    for s in env.sessions:
        yield s.arn, f"session `{s.arn}`"
        docs += [(d, f"a session policy of `{s.arn}`") for d in s.session_policies]
    for o in env.organizations:
        for target, policies in (*o.scps.items(), *o.rcps.items()):
            docs += [(d, f"a policy of `{target}`") for d in policies]
    for e in env.vpc_endpoints:
        if e.policy is not None:
            docs.append((e.policy, f"the policy of `{e.id}`"))
    for doc, where in docs:
        for st in doc.statements:
            at = f"{where} ({st.span})"
            if st.principal is not None:
                for entry in st.principal.entries:
                    yield entry.value.text, at
            for block in (st.resource,):
                if block is not None:
                    for v in block.patterns:
                        yield v.text, at
            if st.condition is not None:
                for c in st.condition.conditions:
                    for v in c.values:
                        yield v.text, at


_SEPARATORS = re.compile(r"([:/])")


def _glob(pattern: str, text: str) -> bool:
    """IAM wildcard match (`*` any run, `?` one character), case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _matches_every_name(s: str, prefix: str, suffix: str) -> bool:
    """`s` matches `prefix + X + suffix` for every name X (names hold no `:` or `/`): segment by segment, the
    segments around X match and X's segment is a lone `*` (a segment-wise match is a match)."""
    arn = _SEPARATORS.split(prefix + "\x00" + suffix)
    pat = _SEPARATORS.split(s)
    if len(arn) != len(pat):
        return False
    for a, p in zip(arn, pat, strict=True):
        if "\x00" in a:
            if p != "*" or a != "\x00":
                return False
        elif not _glob(p, a):
            return False
    return True


def _could_depend(s: str, prefix: str, suffix: str) -> bool:
    """Whether `s` (a literal or an IAM wildcard pattern) may compare differently with two ARNs
    `prefix + X + suffix` for two different names X. False only when proved: `s` is a literal of another
    shape, differs from the ARN before its first or after its last wildcard (never matches, case ignored), or
    matches every name (`_matches_every_name`)."""
    low, lp, ls = s.lower(), prefix.lower(), suffix.lower()
    wild = [i for i, c in enumerate(s) if c in "*?"]
    if not wild:  # a literal: it could be the real ARN if it has the ARN's shape
        return low.startswith(lp) and low.endswith(ls) and len(s) > len(prefix) + len(suffix)
    k = wild[0]
    common = min(k, len(lp))
    if low[:common] != lp[:common]:
        return False  # differs before the name and before any wildcard: never matches
    if s[k:] == "*" and k <= len(prefix):
        return False  # `<a prefix of the ARN before the name>*`, `*` itself: matches every name
    tail = low[wild[-1] + 1:]
    if len(tail) <= len(ls) and not ls.endswith(tail):
        return False  # differs after the name and after the last wildcard: never matches
    return not _matches_every_name(s, prefix, suffix)


def check_generated(env: Environment) -> tuple[Unknown, ...]:
    """`env.unknowns` with every generated name that some string could compare differently with its real
    value demoted to kind "value" (the string and its place are added to `why`)."""
    out: list[Unknown] = []
    strings: list[tuple[str, str]] | None = None
    #: a literal that holds another generated name names another resource, which is not this one
    fresh = [g.placeholder for g in env.unknowns if g.kind == "generated"]
    for u in env.unknowns:
        if u.kind != "generated" or not u.arn or u.placeholder not in u.arn:
            out.append(u)
            continue
        others = [g for g in fresh if g != u.placeholder]
        if strings is None:
            strings = list(_strings_of(env))
        prefix, _, suffix = u.arn.partition(u.placeholder)
        culprit = next(((s, where) for s, where in strings
                        if u.placeholder not in s and VALUE_RE.search(s) is None
                        and not ("*" not in s and "?" not in s and any(g in s for g in others))
                        and _could_depend(s, prefix, suffix)),
                       None)
        if culprit is None:
            out.append(u)
        else:
            s, where = culprit
            out.append(Unknown(u.address, u.placeholder, "value",
                               f"{u.why}; `{s}` in {where} could compare differently with the real name",
                               u.used_in, u.arn, span=u.span))
    return tuple(out)


def value_unknowns(envs: Iterable[Environment]) -> list[Unknown]:
    """The unknown values (kind "value") of the environments, each once."""
    seen: dict[tuple[str, str], Unknown] = {}
    for env in envs:
        for u in env.unknowns:
            if u.kind == "value":
                seen.setdefault((u.address, u.placeholder), u)
    return list(seen.values())
