"""The symbolic request and its well-formedness, separate from what the policies say.

Input: the environments of one check (one, or old and new) and the constants of the property.
Output: `Domain`: a symbolic request, i.e. the caller (kind, account, names), the action (closed world
over the catalogue's KMS key actions), the key, and every context key the policies can observe, each as
solver variables of an `smt.Script`; plus `Value` / `Case` (built by `encode.Encoder.derive_context`), a
context key's value in each case of the caller and the key, which `encode.py` compares with policy values.
Guarantee (over-approximation): every concrete request that `evaluate.evaluate` accepts for these
environments corresponds to an assignment of the variables that satisfies the domain constraints, with the
same derived context (semantics §5). String fields are abstracted as a choice among the literals of the
policies plus "some other string"; for "other" each pattern is a free Boolean atom, whose consistency is
checked after solving by a witness search (`strings.find_witness`) and refined with lemmas in `pipeline.py`.
Well-formedness (assumed, so that the solver only picks real requests and the witness search only builds
valid names; the IAM name rules live in `semantics/names.py`): account ids are 12 digits; IAM user and role
names are 1..64 characters of `[A-Za-z0-9_+=,.@-]`, role-session names 2..64 and federated-user names 2..32
of the same characters; user paths are `/`-delimited segments of the same characters; user and role names
are unique in an account ignoring case, so a known user or role is always spelled as the environment spells it.
Modelled: callers in the partitions `aws`, `aws-cn`, `aws-us-gov` (a principal ARN of another partition than
the target's never matches, semantics §P.2; ARNs are read by `semantics/arns.py`: root, users, role
sessions, federated users of any account; service principals `*.amazonaws.com`; anonymous callers only when a
target takes unsigned requests, which KMS does not); context keys of the form
`prefix:name` (a template placeholder such as `${ACCELERATOR_PREFIX}` names a key no request has); an
account whose IAM was not given may have any identity policy (`Options.unknown_iam_worst_case`).
Callers the environment does not describe (what AWS derives for them is unknown, never assumed absent):
- Organizations: an organization the environment declares (in `organizations`, or named by a declared
  account) is closed: its members are exactly the declared accounts naming it, with their declared OU paths;
  a declared account is in the organization it declares (None: none). An account the environment does not
  declare is in no organization or in any organization the environment does not declare (`p.inorg`, the
  field `org` of shape `o-` + 10..32 characters, literals from the policies), at any path under it (`org` +
  `/` + field `orgpath`, `r-.../ou-.../`): aws:PrincipalOrgID and aws:PrincipalOrgPaths. The owner account of
  a key, when the environment does not declare it, likewise (the caller's when the caller is in that account,
  else `r.inorg`, fields `rorg` / `rorgpath`): aws:ResourceOrgID and aws:ResourceOrgPaths.
- Principal tags: a user or role session the environment does not declare has unknown tags (each
  aws:PrincipalTag/<k> absent or any value, `unknown_tag`); a declared session's tags are fixed and
  override its role's, an undeclared session of a declared role may override any of the role's tags, and
  an undeclared role contributes unknown tags under a declared session's; an undeclared federated user has
  unknown tags (its source user is unknown too). A declared user, a declared session of a declared role, or
  a declared federated user has exactly its declared tags.
- Opt-in Regions: an account the environment does not declare may have enabled any opt-in Region (a
  declared account enabled exactly its `enabled_regions`), semantics §4.3; encoded in `encode.py`.
- Role paths: a role the environment does not describe has any path (field `rpath`), which its sessions'
  ARNs do not show but aws:PrincipalArn and role-ARN principals (`role/<path>/<name>`) do.
- Federated users: a federated user (GetFederationToken session) the environment does not declare is a
  session of some user of its account (fields `upath` / `uname`, `fed_source_arn`): a declared user or one the
  environment does not describe, possibly one a policy names (a user-ARN principal matches its federated
  sessions, semantics §4.2). Its session policy is unknown (worst case: allows everything).
- aws:userid: a user or role without a declared unique id has one of the right shape (`AIDA` / `AROA` + 16
  characters, fields `uid` / `rid`); role sessions `<role id>:<session name>`.
A counterexample records these choices in `Request.assumed`; `explain.augment_caller` replays them in a copy
of the environment that declares them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from functools import lru_cache
from typing import Any, TypeVar

from reasoner import limits
from reasoner.errors import UnsupportedFeatureError
from reasoner.front.ast import PolicyDocument, SetQualifier
from reasoner.semantics import arns, awsrules, catalog, names, requestfacts, resources
from reasoner.semantics.environment import Environment, Key, Options, Principal, PrincipalKind, Resource, Session
from reasoner.semantics.evaluate import WEB_IDENTITY_HOSTS
from reasoner.semantics.values import decode_base64, parse_bool, parse_instant, parse_ip_address, parse_number
from reasoner.symbolic import smt, strings
from reasoner.symbolic.smt import FALSE, TRUE, Term
from reasoner.symbolic.strings import Nfa


class PKind(IntEnum):
    """Caller kinds (semantics §2.3). ANONYMOUS (unsigned requests) and PROVIDER (the user of a web identity or
    SAML provider calling AssumeRoleWith*) exist only in domains whose targets can take them
    (`Domain.kinds`)."""

    ROOT = 0
    USER = 1
    SESSION = 2
    FEDERATED = 3
    SERVICE = 4
    ANONYMOUS = 5
    PROVIDER = 6


#: The one partition the symbolic core models: an environment naming another is UnsupportedFeatureError.
PARTITION = "aws"
#: The constant heads of the caller ARNs of `Domain.request_arn` (the rest of `arns`' grammar follows there).
IAM_PREFIX = f"arn:{PARTITION}:iam::"
STS_PREFIX = f"arn:{PARTITION}:sts::"


def _provider_arn(kind: str) -> Nfa:
    """`arn:PARTITION:iam::ACCOUNT:KIND-provider/NAME` (KIND `saml` or `oidc`)."""
    part = strings.CharSet(frozenset("abcdefghijklmnopqrstuvwxyz-"))
    name = strings.CharSet(frozenset(" \t\n\r"), negated=True)
    return strings.sequence("arn:", strings.Tok(part), strings.Tok(part, True), ":iam::",
                            *([strings.Tok(strings.DIGITS)] * 12), f":{kind}-provider/", strings.Tok(name),
                            strings.Tok(name, True))


def modelled_principal(text: str) -> arns.PrincipalArn | None:
    """The root, user, role, assumed-role or federated-user ARN `text` names (`arns.parse_principal`) when it
    is in one of the modelled partitions (`arns.PARTITIONS`), else None."""
    p = arns.parse_principal(text)
    return p if p is not None and p.partition in arns.PARTITIONS else None


def iam_prefix(partition: str) -> str:
    return f"arn:{partition}:iam::"


def sts_prefix(partition: str) -> str:
    return f"arn:{partition}:sts::"


_ACCOUNT_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
_SERVICE_RE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?")

#: Readable values tried first when a field needs a fresh string.
PREFER: dict[str, tuple[str, ...]] = {
    "acct": ("999999999999", "444455556666", "123456789012"),
    "uname": ("example", "ExampleUser"),
    "upath": ("", "example/"),
    "rpath": ("", "example/"),
    "role": ("example", "ExampleRole"),
    "sess": ("example", "session"),
    "fed": ("example",),
    "svc": ("example.amazonaws.com",),
    "org": ("o-exampleorg",),
    "orgpath": ("r-ab12/",),
    "uid": ("AIDAEXAMPLEUSERID000",),
    "rid": ("AROAEXAMPLEROLEID000",),
    "prov": ("accounts.google.com",),
    "sub": ("example",),
}

_LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#: Shapes of the values AWS derives for callers the environment does not describe (see the module docstring):
#: organization ids `o-` + 10..32 lower-case letters or digits; the part of an organization path after
#: `o-.../`: a root id `r-` + 4..32 characters, then OU ids, each followed by `/`; unique ids of users
#: (`AIDA`) and roles (`AROA`) + 16 upper-case letters or digits.
_UNKNOWN_SHAPES: dict[str, tuple[Nfa, ...]] = {
    "org": (strings.glob("o-??????????*"), strings.shape(strings.CharSet(frozenset(_LOWER_DIGITS + "-")), 12, 34)),
    "orgpath": (
        strings.glob("r-????*/"),
        strings.shape(strings.CharSet(frozenset(_LOWER_DIGITS + "-/")), 7, 512),
    ),
    "uid": (strings.glob("AIDA*"), strings.shape(strings.CharSet(frozenset(_UPPER_DIGITS)), 20, 20)),
    "rid": (strings.glob("AROA*"), strings.shape(strings.CharSet(frozenset(_UPPER_DIGITS)), 20, 20)),
}
# the requested key's undeclared owner account: the same shapes as a caller's organization and path
_UNKNOWN_SHAPES["rorg"] = _UNKNOWN_SHAPES["org"]
_UNKNOWN_SHAPES["rorgpath"] = _UNKNOWN_SHAPES["orgpath"]
_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")

#: Characters of IAM user, role, session and federated-user names (`semantics/names.py`).
NAME_CHARS = strings.CharSet(names.NAME_CHARS)
_PATH_CHARS = strings.CharSet(NAME_CHARS.chars | frozenset("/"))
#: An IAM path as it appears before a name: "" for `/`, else `/`-delimited segments each followed by `/`
#: (`names.well_formed` for `upath` / `rpath`).
_PATH = Nfa(
    (strings.Tok(NAME_CHARS), strings.Tok(_PATH_CHARS, True), strings.Tok(strings.CharSet(frozenset("/")))),
    frozenset({0, 3}),
    frozenset({3}),
)
#: The characters of a service principal's name.
_SVC_CHARS = strings.shape(strings.CharSet(frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")), 1)
#: Well-formedness of the caller's fields: the IAM name and path rules of `semantics/names.py` (user and role
#: names 1..64 name characters, paths, role-session names 2..64, federated-user names 2..32), account ids 12
#: digits, service principals `*.amazonaws.com`.
_SHAPES: dict[str, tuple[Nfa, ...]] = {
    "acct": (strings.ACCOUNT_ID,),
    **{f: (strings.shape(NAME_CHARS, low, high),) for f, (low, high) in names.NAME_LENGTHS.items()},
    **dict.fromkeys(names.PATH_FIELDS, (_PATH,)),
    "svc": (strings.glob("?*.amazonaws.com"), _SVC_CHARS),
    # a web identity host or an IAM SAML / OIDC provider ARN: printable, no blanks
    "prov": (strings.shape(strings.CharSet(frozenset(" \t\n\r"), negated=True), 1, 2048),),
    # the name of a sub-resource (an S3 object key: 1..1024 characters)
    "sub": (strings.shape(strings.CharSet(frozenset("\n\r"), negated=True), 1, 1024),),
}



def _cn_or_not(nfa: Nfa) -> Nfa:
    """`nfa` (a pattern ending in `.amazonaws.com.cn`) accepting also its strings without the `.cn`."""
    n = len(nfa.toks)
    return Nfa(nfa.toks, nfa.starts, frozenset({n - 3, n}))


#: The `svc` shapes when a target is in the `aws-cn` partition: its service principals are `*.amazonaws.com.cn`
#: (and some `*.amazonaws.com`; semantics-services §P.4).
_SVC_CN_SHAPES: tuple[Nfa, ...] = (_cn_or_not(strings.glob("?*.amazonaws.com.cn")), _SVC_CHARS)

def _shape_of(glob: str) -> Nfa:
    """A `requestfacts.SHAPES` glob as an automaton: `*` is one or more of `requestfacts.SHAPE_CHARS`."""
    cs = strings.CharSet(requestfacts.SHAPE_CHARS)
    toks: list[strings.Tok] = []
    for ch in glob:
        toks += [strings.Tok(cs), strings.Tok(cs, True)] if ch == "*" else [strings.Tok(strings.CharSet(frozenset(ch)))]
    return strings.sequence(*toks)


_NO_COLON_RUN = strings.Tok(strings.NO_COLON, True)
#: The form AWS gives the values of some keys (requestfacts, facts 2, 5, 6, 7), as hard shapes of their fields.
_KEY_SHAPES: dict[str, tuple[Nfa, ...]] = {
    **{k: (_shape_of(g),) for k, g in requestfacts.SHAPES.items()},
    "aws:sourceaccount": (strings.ACCOUNT_ID,),
    "aws:sourcearn": (strings.sequence("arn:", *(p for _ in range(4) for p in (_NO_COLON_RUN, ":")),
                                       strings.Tok(strings.ANY, True)),),
}


# ---- string fields -----------------------------------------------------------------------------------


_S = TypeVar("_S", arns.AssumedRoleArn, arns.FederatedUserArn)


#: Characters a text may hold and still parse under an operator family (`semantics/values.py`: numbers without
#: exponents, ISO-8601 instants and epoch seconds, IPv4/IPv6 addresses, Booleans, strict base64; blanks are
#: stripped first). A shape none of whose strings stays within them never parses (`_shaped_view`).
_PARSE_CHARS: dict[str, strings.CharSet] = {
    "numeric": strings.CharSet(frozenset("0123456789+-. \t\n\r")),
    "date": strings.CharSet(frozenset("0123456789+-.:TZtzW \t\n\r")),
    "ip": strings.CharSet(frozenset("0123456789abcdefABCDEF:./% \t\n\r")),
    "bool": strings.CharSet(frozenset("trueTRUEfalsFALS \t\n\r")),
    "binary": strings.CharSet(frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\n\r")),
}


#: Address characters, `%`, then anything: every IPv6 address with a scope is of this form.
_SCOPED_ADDRESS = strings.sequence(
    strings.Tok(_PARSE_CHARS["ip"]), strings.Tok(_PARSE_CHARS["ip"], True),
    strings.Tok(strings.CharSet(frozenset("%"))), strings.Tok(strings.ANY, True))


@lru_cache(maxsize=1024)
def _never_parses(hard: tuple[Nfa, ...], family: str) -> bool:
    """No string of the shapes `hard` parses under `family` (each holds a character the family's texts never do;
    for addresses, also no `%` that could start an IPv6 scope)."""
    try:
        if strings.find_witness([*hard, strings.shape(_PARSE_CHARS[family])]) is not None:
            return False
        # an IPv6 address may carry a scope of any characters after `%` (`fe80::1%eth0`)
        return family != "ip" or strings.find_witness([*hard, _SCOPED_ADDRESS]) is None
    except strings.WitnessBudgetExceeded:
        return False


def _shaped_view(hard: tuple[Nfa, ...], family: str, view: dict[str, Term]) -> Term:
    """What the shapes `hard` of a field say about its typed view when its value is none of its literals: nothing,
    except that a shape that never parses under the family makes the view "no value", and an account id (12
    digits) is as a number and as epoch seconds an integer below 10^12, and no address."""
    if _never_parses(hard, family):
        if family in ("numeric", "date"):
            return smt.not_(view["ok"])
        if family == "ip":
            return smt.eq(view["fam"], "0")
        return smt.eq(view["b"], "0") if family == "bool" else smt.eq(view["bytes"], "(- 1)")
    if any(h is strings.ACCOUNT_ID for h in hard):
        if family in ("numeric", "date"):
            v = view["v"]
            return smt.and_(view["ok"], f"(is_int {v})", smt.cmp(">=", v, smt.real(0)),
                            smt.cmp("<", v, smt.real(10**12)))
        if family == "ip":
            return smt.eq(view["fam"], "0")  # digits alone are no address (`values.parse_ip_address`)
    return TRUE


class StrField:
    """A string-valued unknown: one of `lits` (selector value i) or some other string (selector value
    len(lits)), constrained by `hard` shape automata. Pattern atoms are exact for literals and free for
    "other"."""

    def __init__(
        self,
        domain: Domain,
        name: str,
        lits: Iterable[str],
        hard: tuple[Nfa, ...] = (),
        prefer: tuple[str, ...] = (),
    ) -> None:
        self.domain = domain
        self.name = name
        self.hard = hard
        self.prefer = prefer
        ok = [s for s in dict.fromkeys(lits) if all(h.accepts(s) for h in hard)]
        self.lits: list[str] = ok
        self.index = {s: i for i, s in enumerate(ok)}
        self.sel = domain.script.declare(f"{name}.sel", smt.INT)
        self.atoms: dict[Nfa, tuple[Term, Term]] = {}  # nfa -> (atom symbol, free symbol)
        self.typed: dict[str, Term] = {}
        self.constants: dict[str, set[object]] = {}  # family -> constants compared with (for decoding)
        self._ranged = False
        self._defined = 0
        #: automaton positions its literals reach, per (automaton, start states) (encode._targets)
        self.lit_targets: dict[tuple[tuple[strings.Tok, ...], frozenset[int]], frozenset[int]] = {}

    @property
    def other_index(self) -> int:
        return len(self.lits)

    def is_other(self) -> Term:
        return smt.eq(self.sel, smt.int_(self.other_index))

    def is_lit(self, s: str) -> Term:
        i = self.index.get(s)
        if i is not None:
            return smt.eq(self.sel, smt.int_(i))
        if not all(h.accepts(s) for h in self.hard):
            return FALSE  # the field's value always has its shape (no atom, no search: e.g. the `.com.cn` twin
            # of a service principal name, which the `svc` shape of the `aws` partition excludes)
        return self.atom(strings.literal(s))

    def atom(self, nfa: Nfa) -> Term:
        """`value ∈ L(nfa)`."""
        if nfa.is_empty_language:
            return FALSE
        if nfa.accepts_everything:
            return TRUE
        hit = self.atoms.get(nfa)
        if hit is not None:
            return hit[0]
        n = len(self.atoms)
        a = self.domain.script.declare(f"{self.name}.m{n}", smt.BOOL)
        f = self.domain.script.declare(f"{self.name}.f{n}", smt.BOOL)
        self.atoms[nfa] = (a, f)
        return a

    def finalize(self, sc: smt.Script) -> None:
        """Range of the selector and the definition of every atom not defined yet (incremental: a later
        environment of the same check may add atoms)."""
        if not self._ranged:
            self._ranged = True
            sc.require(smt.and_(smt.cmp(">=", self.sel, "0"), smt.cmp("<=", self.sel, smt.int_(self.other_index))))
        items = list(self.atoms.items())
        fresh = items[self._defined :]
        self._defined = len(items)
        for nfa, (a, f) in fresh:
            limits.tick()
            hits = [smt.eq(self.sel, smt.int_(i)) for i, s in enumerate(self.lits) if nfa.accepts(s)]
            # cheap facts for "other": the pattern is impossible, or implied, under the field's shape
            other: Term = f
            text = nfa.literal_text
            try:
                if text is not None and text in self.index:
                    other = FALSE  # "other" is none of the literals
                elif nfa.accepts_everything:
                    other = TRUE
                elif not self.hard:
                    other = f  # no shape: a pattern is impossible or certain only in the cases above
                elif _certain(self.hard, nfa, frozenset(self.lits), self.prefer):
                    other = TRUE
                elif _impossible(self.hard, nfa, frozenset(self.lits), self.prefer):
                    other = FALSE
            except strings.WitnessBudgetExceeded:
                other = f  # no cheap fact: the atom stays free and refinement decides
            sc.require(smt.iff(a, smt.or_(*hits, smt.and_(self.is_other(), other))))

    # typed views of the same string (numbers, dates, booleans, IP addresses) -------------------------

    def typed_view(self, family: str) -> dict[str, Term]:
        """Variables for the parsed value of this string under an operator family, tied to the literals."""
        key = f"view:{family}"
        if key in self.typed:
            return self.domain.views[(self.name, family)]
        self.typed[key] = TRUE
        sc = self.domain.script
        out: dict[str, Term] = {}
        if family in ("numeric", "date"):
            ok = sc.declare(f"{self.name}.{family}.ok", smt.BOOL)
            val = sc.declare(f"{self.name}.{family}.v", smt.REAL)
            out = {"ok": ok, "v": val}
            parse = parse_number if family == "numeric" else parse_instant
            for i, s in enumerate(self.lits):
                parsed = parse(s)
                fact = smt.not_(ok) if parsed is None else smt.and_(ok, smt.eq(val, smt.real(_frac(parsed))))
                sc.require(smt.implies(smt.eq(self.sel, smt.int_(i)), fact))
        elif family == "bool":
            b = sc.declare(f"{self.name}.bool", smt.INT)  # 0: not a Boolean, 1: true, 2: false
            out = {"b": b}
            sc.require(smt.and_(smt.cmp(">=", b, "0"), smt.cmp("<=", b, "2")))
            for i, s in enumerate(self.lits):
                pb = parse_bool(s)
                sc.require(
                    smt.implies(smt.eq(self.sel, smt.int_(i)), smt.eq(b, "0" if pb is None else ("1" if pb else "2")))
                )
        elif family == "ip":
            fam = sc.declare(f"{self.name}.ipfam", smt.INT)  # 0: not an address, 4, 6
            v4 = sc.declare(f"{self.name}.ip4", smt.bitvec_sort(32))
            v6 = sc.declare(f"{self.name}.ip6", smt.bitvec_sort(128))
            out = {"fam": fam, "v4": v4, "v6": v6}
            sc.require(smt.or_(smt.eq(fam, "0"), smt.eq(fam, "4"), smt.eq(fam, "6")))
            for i, s in enumerate(self.lits):
                addr = parse_ip_address(s)
                if addr is None:
                    fact = smt.eq(fam, "0")
                elif addr.version == 4:
                    fact = smt.and_(smt.eq(fam, "4"), smt.eq(v4, smt.bv(int(addr), 32)))
                else:
                    fact = smt.and_(smt.eq(fam, "6"), smt.eq(v6, smt.bv(int(addr), 128)))
                sc.require(smt.implies(smt.eq(self.sel, smt.int_(i)), fact))
        elif family == "binary":
            # -1: not strict base64; 0: bytes equal to no constant of the check; k > 0: `Domain.byte_id`
            b = sc.declare(f"{self.name}.bytes", smt.INT)
            out = {"bytes": b}
            sc.require(smt.cmp(">=", b, "(- 1)"))
            for i, s in enumerate(self.lits):
                raw = decode_base64(s)
                bid = -1 if raw is None else self.domain.byte_id(raw)
                sc.require(smt.implies(smt.eq(self.sel, smt.int_(i)), smt.eq(b, smt.int_(bid))))
        else:
            raise UnsupportedFeatureError(
                f"condition operators of family `{family}` are not supported by the symbolic core"
            )
        self.domain.views[(self.name, family)] = out
        if family in ("numeric", "date"):
            other = self.domain.views.get((self.name, "date" if family == "numeric" else "numeric"))
            if other is not None:
                # a string that parses both as a number and as an instant is an epoch number: same value
                sc.require(smt.implies(smt.and_(out["ok"], other["ok"]), smt.eq(out["v"], other["v"])))
                # a number that is not an instant is spelled `N.` (an integer) or `.D` (below 1 in magnitude):
                # every other decimal spelling is an epoch number (values.parse_instant)
                num, date = (out, other) if family == "numeric" else (other, out)
                v = num["v"]
                odd = smt.or_(f"(is_int {v})", smt.and_(smt.cmp(">", v, smt.real(-1)), smt.cmp("<", v, smt.real(1))))
                sc.require(smt.implies(smt.and_(num["ok"], smt.not_(date["ok"])), odd))
        if self.hard:
            sc.require(smt.implies(self.is_other(), _shaped_view(self.hard, family, out)))
        return out


def _frac(d: Decimal) -> Fraction:
    return Fraction(d)


@lru_cache(maxsize=65536)
def _impossible(hard: tuple[Nfa, ...], nfa: Nfa, lits: frozenset[str], prefer: tuple[str, ...] = ()) -> bool:
    """No string of the field's shape other than its literals is in the pattern: the atom is false for
    "other" (cached: the same shapes, pieces and literals recur across properties and compilations; a
    preferred value of the field that is in the pattern answers without a search)."""
    if any(p not in lits and nfa.accepts(p) and all(h.accepts(p) for h in hard) for p in prefer):
        return False
    if any(w not in lits and nfa.accepts(w) and all(h.accepts(w) for h in hard) for w in _samples(nfa)):
        return False  # a string of the pattern itself has the field's shape
    if (finite := _finite_language(nfa)) is not None:
        # a literal (case-insensitive ones have 2^n spellings): the first spelling outside the literals
        # that has the field's shape decides
        for w in itertools.islice(finite, 4096):
            if w not in lits and all(h.accepts(w) for h in hard):
                return False
        if next(finite, None) is None:
            return True  # every spelling was tried
    return strings.find_witness([*hard, nfa], avoid=lits, budget=20_000) is None


def _finite_language(nfa: Nfa) -> Iterator[str] | None:
    """The strings of a pattern without `*` over finite character sets, or None for other patterns."""
    if len(nfa.starts) != 1 or len(nfa.finals) != 1:
        return None
    (s,), (f,) = nfa.starts, nfa.finals
    toks = nfa.toks[s:f]
    if s > f or any(t.star or t.cs.negated for t in toks):
        return None
    return ("".join(p) for p in itertools.product(*(sorted(t.cs.chars) for t in toks)))


@lru_cache(maxsize=65536)
def _certain(hard: tuple[Nfa, ...], nfa: Nfa, lits: frozenset[str], prefer: tuple[str, ...] = ()) -> bool:
    """Every string of the field's shape other than its literals is in the pattern: the atom is true (a
    preferred value of the field outside the pattern answers without a search)."""
    if any(p not in lits and not nfa.accepts(p) and all(h.accepts(p) for h in hard) for p in prefer):
        return False
    if any(w not in lits and not nfa.accepts(w) and all(h.accepts(w) for h in hard)
           for h0 in hard[:1] for w in _samples(h0)):
        return False  # a string of the field's shape is outside the pattern
    return strings.find_witness(list(hard), [nfa], avoid=lits, budget=20_000) is None


#: Characters tried for a `*` of a pattern or shape (`_samples`), in this order.
_FILLERS = ("a", "1", "x-")


def _samples(nfa: Nfa) -> tuple[str, ...]:
    """A few strings to try before a search (`_impossible`, `_certain`: each is tested, none is assumed to be
    in any language): the pattern read from its start with each `*` over a filler (`_FILLERS`, or the first
    character its class allows) or empty, each other position its first allowed character."""
    if len(nfa.starts) != 1:
        return ()
    (s,) = nfa.starts
    out: list[str] = []
    for fill in ("", *_FILLERS):
        text: list[str] = []
        for t in nfa.toks[s:]:
            cs = t.cs
            if t.star:
                if fill and all(c in cs for c in fill):
                    text.append(fill)
                continue
            c = next((c for c in ("a", "1", *sorted(cs.chars)) if c in cs), None) \
                if cs.negated or len(cs.chars) != 1 else next(iter(cs.chars))
            if c is None:
                break
            text.append(c)
        else:
            out.append("".join(text))
    return tuple(dict.fromkeys(out))


# ---- values of context keys --------------------------------------------------------------------------

Piece = str | StrField


@dataclass(frozen=True)
class Case:
    """In the situation `guard`, the key is present with the value `pieces` concatenated (or absent when
    `pieces` is None). Multivalued keys have one Case list per slot."""

    guard: Term
    pieces: tuple[Piece, ...] | None

    @property
    def constant(self) -> str | None:
        if self.pieces is None or not all(isinstance(p, str) for p in self.pieces):
            return None
        return "".join(p for p in self.pieces if isinstance(p, str))


@dataclass
class Value:
    """A context key's value: `slots` (one for a single-valued key), each a list of mutually exclusive
    cases (a request outside every case has no value in that slot)."""

    key: str
    slots: list[list[Case]]
    multivalued: bool = False


@dataclass
class RawKey:
    """A caller-controlled context key: per slot a presence bit and a string field."""

    key: str
    present: list[Term]
    fields: list[StrField]
    multivalued: bool


# ---- action and key universes --------------------------------------------------------------------------


def key_actions() -> tuple[str, ...]:
    """The KMS actions whose resource is a key (alias-management actions excluded: their resource is an
    alias ARN), in catalogue order: the closed world of actions a property over keys ranges over."""
    from reasoner.semantics.evaluate import KMS_ALIAS_ACTIONS

    return tuple(
        a for a in catalog.kms_actions() if a in catalog.kms_key_resource_actions() and a not in KMS_ALIAS_ACTIONS
    )


@dataclass(frozen=True)
class SymTarget:
    """A resource the symbolic request can act on: a KMS key, a role with its trust policy, or a declared
    resource (`Environment.resources`). `actions` are the catalogue actions that act on it or on its
    sub-resource (an S3 bucket's objects, a DynamoDB table's indexes: `sub_type`); a request on the
    sub-resource names `sub_prefix` + the field `r.sub`."""

    arn: str
    kind: str  # "key" | "role" | "resource"
    rtype: resources.ResourceType | None
    owner: str
    partition: str
    actions: tuple[str, ...]
    own_actions: frozenset[str] = frozenset()
    sub_actions: frozenset[str] = frozenset()
    sub_type: str | None = None
    sub_prefix: str = ""
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def facts(self) -> awsrules.Facts:
        """What the AWS-side rules read of this target (`awsrules.Facts`)."""
        return awsrules.Facts(self.arn, self.service, self.rtype.name if self.rtype else "", self.attributes)

    @property
    def region(self) -> str:
        parts = self.arn.split(":", 5)
        return parts[3] if len(parts) == 6 else ""

    @property
    def service(self) -> str:
        return self.rtype.service if self.rtype is not None else ""


#: The request ARN of a sub-resource whose parent's policy governs it: (service, parent type) ->
#: (sub-resource type, text between the parent's ARN and the sub-resource's name).
SUB_RESOURCES: dict[tuple[str, str], tuple[str, str]] = {
    ("s3", "bucket"): ("object", "/"),
    ("dynamodb", "table"): ("index", "/index/"),
}


def _actions_on(rtype: resources.ResourceType, names_: tuple[str, ...], services: tuple[str, ...]) -> list[str]:
    """Catalogue actions of `services` that act on one of the resource types `names_`, in catalogue order."""
    out: list[str] = []
    for svc in services:
        for a in catalog.actions_of(svc):
            types = resources.action_resource_types(a)
            if any(n in types for n in names_):
                out.append(a)
    return out


def key_target(k: Key) -> SymTarget:
    acts = key_actions()
    return SymTarget(k.arn, "key", resources.resource_type_of(k.arn), k.account, k.arn.split(":")[1], acts,
                     own_actions=frozenset(acts), attributes=(("aws_managed", "true"),) if k.aws_managed else ())


def role_target(p: Principal) -> SymTarget:
    rt = resources.resource_type_of(p.arn)
    assert rt is not None
    acts = tuple(_actions_on(rt, ("role",), ("sts", "iam")))
    return SymTarget(p.arn, "role", rt, p.arn.split(":")[4], p.arn.split(":")[1], acts, own_actions=frozenset(acts))


def resource_target(r: Resource) -> SymTarget | None:
    rt = resources.resource_type_of(r.arn)
    if rt is None:
        return None
    sub = SUB_RESOURCES.get((rt.service, rt.name))
    own = _actions_on(rt, (resources.action_type(rt),), (rt.service,))
    subs = _actions_on(rt, (sub[0],), (rt.service,)) if sub else []
    acts = tuple(dict.fromkeys(own + subs))
    return SymTarget(
        r.arn, "resource", rt, r.account, r.partition, acts, frozenset(own), frozenset(subs),
        sub[0] if sub else None, r.arn + sub[1] if sub else "", tuple(sorted(r.attributes.items())),
    )


def targets_of(environments: Iterable[Environment]) -> tuple[SymTarget, ...]:
    """The targets of a check over `environments`: every key (first), every declared resource, every role
    with a trust policy, each once (by ARN, as the first environment that declares it has it)."""
    keys: dict[str, SymTarget] = {}
    res: dict[str, SymTarget] = {}
    roles: dict[str, SymTarget] = {}
    for env in environments:
        for k in env.keys:
            if k.arn not in keys:
                keys[k.arn] = key_target(k)
        for r in env.resources:
            if r.arn not in res and (t := resource_target(r)) is not None and t.actions:
                res[r.arn] = t
        for p in env.principals:
            if p.kind is PrincipalKind.ROLE and p.trust_policy is not None and p.arn not in roles:
                roles[p.arn] = role_target(p)
    return (*keys.values(), *res.values(), *roles.values())


# ---- the symbolic request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownCaller:
    """A caller identity the environment describes (guard: the symbolic caller is this one)."""

    guard: Term
    kind: PKind
    account: str
    principal: Principal | None  # the user, the role, or the user behind a federated session
    session: Session | None
    role_arn: str | None = None
    session_name: str | None = None


@dataclass
class Domain:
    """The symbolic request shared by every environment of one check."""

    script: smt.Script
    environments: tuple[Environment, ...]
    actions: tuple[str, ...]
    keys: tuple[Key, ...]
    extra_literals: dict[str, set[str]] = field(default_factory=dict)
    #: every resource the request can act on, keys first (in the order of `keys`); default: the keys
    targets: tuple[SymTarget, ...] = ()
    fields: dict[str, StrField] = field(default_factory=dict)
    raw: dict[str, RawKey] = field(default_factory=dict)
    views: dict[tuple[str, str], dict[str, Term]] = field(default_factory=dict)
    slot_counts: dict[str, int] = field(default_factory=dict)
    key_literals: dict[str, set[str]] = field(default_factory=dict)
    key_spelling: dict[str, str] = field(default_factory=dict)
    byte_ids: dict[bytes, int] = field(default_factory=dict)
    views_bool: dict[str, Term] = field(default_factory=dict)  # Boolean unknowns of undescribed callers
    _ec_done: set[str] = field(default_factory=set)
    #: encode.match_pieces results over this domain's fields, by (automaton, pieces)
    match_memo: dict[tuple[Nfa, tuple[Piece, ...]], Term] = field(default_factory=dict)
    #: relations between fields of symbolic policy-variable values (`variables.Link`), by (value, pattern)
    links: dict[tuple[object, ...], Any] = field(default_factory=dict)
    _ec_pairs: set[tuple[str, str]] = field(default_factory=set)
    #: the request facts (`requestfacts`) already stated, by fact and key
    _facts_done: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        sc = self.script
        if not self.targets:
            self.targets = tuple(key_target(k) for k in self.keys)
        self._target_index = {t.arn: i for i, t in enumerate(self.targets)}
        self._action_index = {a: i for i, a in enumerate(self.actions)}
        self.partitions = tuple(sorted({t.partition for t in self.targets} or {PARTITION}))
        for p in self.partitions:
            if p not in arns.PARTITIONS:
                raise UnsupportedFeatureError(f"partition `{p}` is not one of {', '.join(arns.PARTITIONS)}")
        # caller kinds: anonymous callers where a target's service accepts unsigned requests, web identity /
        # SAML providers where a role can be assumed
        self.kinds = [PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED, PKind.SERVICE]
        options = self.environments[0].options if self.environments else Options()
        if any(resources.accepts_anonymous(a, facts, options)
               for t in self.targets for facts in (t.facts,) for a in t.actions):  # facts: one per target
            self.kinds.append(PKind.ANONYMOUS)
        if any(t.kind == "role" for t in self.targets):
            self.kinds.append(PKind.PROVIDER)
        self.pkind = sc.declare("req.pkind", smt.INT)
        self.act = sc.declare("req.action", smt.INT)
        self.res = sc.declare("req.key", smt.INT)
        sc.require(smt.or_(smt.eq(self.pkind, smt.int_(int(k))) for k in self.kinds)
                   if len(self.kinds) > 5 else smt.and_(smt.cmp(">=", self.pkind, "0"), smt.cmp("<=", self.pkind, "4")))
        sc.require(smt.and_(smt.cmp(">=", self.act, "0"), smt.cmp("<=", self.act, smt.int_(len(self.actions) - 1))))
        sc.require(smt.and_(smt.cmp(">=", self.res, "0"), smt.cmp("<=", self.res, smt.int_(len(self.targets) - 1))))
        everything = set(self.actions)
        for t in self.targets:
            if set(t.actions) != everything:  # a target is acted on by its own actions only
                sc.require(smt.implies(self.target_is(t), self.action_in(t.actions)))
        lits = self._collect_literals()
        for name in ("acct", "uname", "upath", "role", "rpath", "sess", "fed", "svc"):
            shapes = _SVC_CN_SHAPES if name == "svc" and "aws-cn" in self.partitions else _SHAPES[name]
            self.fields[name] = StrField(
                self, f"p.{name}", sorted(lits.get(name, ())), shapes, PREFER.get(name, ())
            )
        if PKind.PROVIDER in self.kinds:
            prov_lits = sorted(set(lits.get("prov", ())) | WEB_IDENTITY_HOSTS)
            prov = self.fields["prov"] = StrField(self, "p.prov", prov_lits, _SHAPES["prov"], PREFER["prov"])
            # identity providers are named case-insensitively (DNS names, IAM provider names unique ignoring
            # case): a provider a policy names is spelled as the policy spells it
            # a provider is a web identity host AWS knows, or the ARN of an IAM SAML / OIDC provider
            # (evaluate.is_provider)
            kinds_ = [prov.atom(_provider_arn(k)) for k in ("saml", "oidc")]
            sc.require(smt.or_(*kinds_, *(prov.is_lit(h) for h in sorted(WEB_IDENTITY_HOSTS) if h in prov.index)))
            folded: dict[str, list[str]] = {}
            for lit in prov.lits:
                folded.setdefault(lit.lower(), []).append(lit)
            for spellings in folded.values():
                if len(spellings) == 1:  # policies that spell one provider two ways leave it open
                    lit = spellings[0]
                    sc.require(smt.implies(prov.atom(strings.literal(lit, ignore_case=True)), prov.is_lit(lit)))
        self.onsub: Term = FALSE
        if any(t.sub_type for t in self.targets):
            # the request names a sub-resource of its target (an S3 object of a bucket): `r.sub` is its name
            self.onsub = sc.declare("req.onsub", smt.BOOL)
            self.fields["sub"] = StrField(self, "r.sub", sorted(lits.get("sub", ())), _SHAPES["sub"],
                                          PREFER["sub"])
            for t in self.targets:
                at = self.target_is(t)
                if not t.sub_type:
                    sc.require(smt.implies(at, smt.not_(self.onsub)))
                    continue
                sc.require(smt.implies(smt.and_(at, self.onsub), self.action_in(t.sub_actions)))
                sc.require(smt.implies(smt.and_(at, smt.not_(self.onsub)), self.action_in(t.own_actions)))
        self._known = list(self._known_callers())
        self._unique_names()

    # -- literals -----------------------------------------------------------------------------------

    def _collect_literals(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {k: set(v) for k, v in self.extra_literals.items()}

        def add(name: str, value: str) -> None:
            out.setdefault(name, set()).add(value)

        def principal_text(text: str) -> None:
            for a in _ACCOUNT_RE.findall(text):
                add("acct", a)
            m = modelled_principal(text)
            if isinstance(m, arns.UserArn):
                path, _, name = m.path_name.rpartition("/")
                add("upath", f"{path}/" if path else "")
                add("uname", name)
            elif isinstance(m, arns.RoleArn):
                path, _, name = m.path_name.rpartition("/")
                add("rpath", f"{path}/" if path else "")
                add("role", name)
            elif isinstance(m, arns.AssumedRoleArn):
                add("role", m.role_name)
                add("sess", m.session_name)
            elif isinstance(m, arns.FederatedUserArn):
                add("fed", m.name)
            elif _SERVICE_RE.fullmatch(text.lower()):
                add("svc", text.lower())

        for env in self.environments:
            for a in env.accounts:
                add("acct", a.id)
            for o in env.organizations:
                add("acct", o.management_account)
            for k in env.keys:
                add("acct", k.account)
                for g in k.grants:
                    principal_text(g.grantee)
                    if g.retiring_principal:
                        principal_text(g.retiring_principal)
            for p in env.principals:
                principal_text(p.arn)
            for s in env.sessions:
                principal_text(s.arn)
                principal_text(s.source)
            for r in env.resources:
                add("acct", r.account)
                for shared in r.shared_with:
                    if shared != "all":
                        add("acct", shared)
            for ep in env.vpc_endpoints:
                self.key_literals.setdefault("aws:sourcevpce", set()).add(ep.id)
                self.key_literals.setdefault("aws:sourcevpc", set()).add(ep.vpc)
                if ep.account:
                    add("acct", ep.account)
            for policy in iter_policies(env):
                for st in policy.statements:
                    if st.principal is not None:
                        for e in st.principal.entries:
                            if e.type.value == "Federated":
                                add("prov", e.value.text)
                                continue
                            principal_text(e.value.text)
                    if st.condition is not None:
                        for c in st.condition.conditions:
                            low = c.key.text.lower()
                            self.key_spelling.setdefault(low, c.key.text)
                            for v in c.values:
                                self.key_literals.setdefault(low, set()).add(v.text)
                                principal_text(v.text)
        return out

    def context_literals(self, key: str) -> set[str]:
        return self.key_literals.get(key, set())

    # -- caller ---------------------------------------------------------------------------------------

    def kind_is(self, kind: PKind) -> Term:
        return smt.eq(self.pkind, smt.int_(int(kind)))

    def f(self, name: str) -> StrField:
        return self.fields[name]

    def unknown_field(self, name: str) -> StrField:
        """A field of what AWS derives for a caller the environment does not describe (created on first use):
        `org` (its organization id), `orgpath` (its organization path after `<org id>/`), `uid` / `rid` (the
        unique id of an unknown user / role); `rorg` / `rorgpath`, the same for the owner account of the
        requested key when the environment does not declare it. Literals: the values the policies compare
        these keys with."""
        hit = self.fields.get(name)
        if hit is not None:
            return hit
        lits: set[str] = set()
        if name in ("org", "orgpath", "rorg", "rorgpath"):
            for env in self.environments:
                lits |= {o.id for o in env.organizations} | {a.organization for a in env.accounts if a.organization}
            for prefix in ("aws:principal", "aws:resource"):
                lits |= self.context_literals(prefix + "orgid")
                for v in self.context_literals(prefix + "orgpaths"):
                    head, _, rest = v.partition("/")
                    if _ORG_ID.fullmatch(head):
                        lits.add(head)
                    if name.endswith("orgpath") and rest and "*" not in rest and "?" not in rest and "$" not in rest:
                        lits.add(rest)
            if name.endswith("orgpath"):
                lits = {x for x in lits if not x.startswith("o-")}
        elif name == "uid":
            lits = {v.split(":", 1)[0] for v in self.context_literals("aws:userid") if v.startswith("AIDA")}
        else:
            lits = {v.split(":", 1)[0] for v in self.context_literals("aws:userid") if v.startswith("AROA")}
        f = StrField(self, f"p.{name}", sorted(lits), _UNKNOWN_SHAPES[name], PREFER.get(name, ()))
        self.fields[name] = f
        return f

    def unknown_in_org(self) -> Term:
        """The account of a caller the environment does not describe is in some organization."""
        hit = self.views_bool.get("p.inorg")
        if hit is None:
            hit = self.views_bool["p.inorg"] = self.script.declare("p.inorg", smt.BOOL)
        return hit

    def key_owner_in_org(self) -> Term:
        """The owner account of the requested key, which the environment does not declare and which is not the
        caller's, is in some organization (fields `rorg` / `rorgpath`)."""
        hit = self.views_bool.get("r.inorg")
        if hit is None:
            hit = self.views_bool["r.inorg"] = self.script.declare("r.inorg", smt.BOOL)
        return hit

    def unknown_tag(self, tag: str) -> tuple[Term, StrField]:
        """Presence and value of principal tag `tag` (lower case) of a caller the environment does not
        describe (created on first use; literals: the values the policies compare the tag with)."""
        name = f"p.tag.{tag}"
        hit = self.fields.get(name)
        if hit is None:
            hit = StrField(self, name, sorted(self.context_literals(f"aws:principaltag/{tag}")), (), ("example",))
            self.fields[name] = hit
            self.views_bool[name] = self.script.declare(f"{name}.present", smt.BOOL)
        return self.views_bool[name], hit

    def saml_provider(self) -> Term:
        """The caller's provider (`prov`) is an IAM SAML provider's ARN (`evaluate.provider_action`); any other
        provider is a web identity provider."""
        return self.f("prov").atom(_provider_arn("saml"))

    def account_is(self, account: str) -> Term:
        """The caller is a principal of `account`: not a service principal, an anonymous caller or the user of a web
        identity / SAML provider, which are in no account (their `acct` field is free)."""
        nobody = [self.kind_is(k) for k in (PKind.SERVICE, PKind.ANONYMOUS, PKind.PROVIDER)
                  if k is PKind.SERVICE or k in self.kinds]
        return smt.and_(smt.not_(smt.or_(nobody)), self.f("acct").is_lit(account))

    def _known_callers(self) -> Iterator[KnownCaller]:
        env = self.environments[0]
        seen: set[str] = set()
        for env in self.environments:
            for p in env.principals:
                if p.arn in seen:
                    continue
                seen.add(p.arn)
                m = modelled_principal(p.arn)
                if p.kind is PrincipalKind.USER and isinstance(m, arns.UserArn):
                    acct, rest = m.account, m.path_name
                    path, _, name = rest.rpartition("/")
                    guard = smt.and_(
                        self.kind_is(PKind.USER),
                        self.f("acct").is_lit(acct),
                        self.f("upath").is_lit(f"{path}/" if path else ""),
                        self.f("uname").is_lit(name),
                    )
                    yield KnownCaller(guard, PKind.USER, acct, p, None)
                elif p.kind is PrincipalKind.ROLE and isinstance(m, arns.RoleArn):
                    acct, name = m.account, m.name
                    guard = smt.and_(
                        self.kind_is(PKind.SESSION),
                        self.f("acct").is_lit(acct),
                        self.f("role").atom(strings.literal(name, ignore_case=True)),
                    )
                    yield KnownCaller(guard, PKind.SESSION, acct, p, None, role_arn=p.arn)
                elif (arn := arns.parse(p.arn)) is not None and arn.partition != PARTITION:
                    raise UnsupportedFeatureError(
                        f"principal `{p.arn}` is not in partition `{PARTITION}`", span=p.span
                    )

    def _known_names(self) -> Iterator[tuple[PKind, str, str, str]]:
        """(kind, account, path or "", name) of the users and roles the environment describes."""
        for k in self._known:
            if k.principal is None:
                continue
            m = modelled_principal(k.principal.arn)
            if k.kind is PKind.SESSION and isinstance(m, arns.RoleArn):
                path, _, name = m.path_name.rpartition("/")
                yield PKind.SESSION, m.account, f"{path}/" if path else "", name
            elif k.kind is PKind.USER and isinstance(m, arns.UserArn):
                path, _, name = m.path_name.rpartition("/")
                yield PKind.USER, m.account, f"{path}/" if path else "", name

    def _unique_names(self) -> None:
        """Well-formedness: IAM user and role names are unique within an account ignoring case, so a caller
        of an account whose user or role the environment describes spells that name (and its path) as
        the environment does (session ARNs carry the role's own spelling)."""
        sc = self.script
        for kind, acct, path, name in self._known_names():
            fname = "role" if kind is PKind.SESSION else "uname"
            same = smt.and_(
                self.kind_is(kind), self.f("acct").is_lit(acct), self.f(fname).atom(strings.literal(name, True))
            )
            exact = self.f(fname).is_lit(name)
            # a user's or role's path is the one the environment gives (one world for every environment)
            exact = smt.and_(exact, self.f("upath" if kind is PKind.USER else "rpath").is_lit(path))
            sc.require(smt.implies(same, exact))

    def misspelled_known_name(self, kind: PKind, fields: dict[str, str]) -> str | None:
        """The environment's spelling of a known user or role that `fields` names in another case (or, for a
        user, under another path): a request outside the well-formed domain (None when there is none)."""
        for k, acct, path, name in self._known_names():
            if k is not kind or fields.get("acct") != acct:
                continue
            given = fields.get("role" if kind is PKind.SESSION else "uname", "")
            if given.lower() == name.lower() and (given != name or (kind is PKind.USER and fields["upath"] != path)):
                return name
        return None

    def _declared_sessions(self, cls: type[_S]) -> Iterator[tuple[Session, _S]]:
        """Every session the environments describe whose ARN parses as `cls`, once each."""
        seen: set[str] = set()
        for env in self.environments:
            for s in env.sessions:
                if s.arn not in seen:
                    seen.add(s.arn)
                    if isinstance(m := modelled_principal(s.arn), cls):
                        yield s, m

    def known_sessions(self) -> Iterator[tuple[Term, Session, str, str]]:
        """(guard, session, role name, session name) of known role sessions."""
        for s, m in self._declared_sessions(arns.AssumedRoleArn):
            guard = smt.and_(
                self.kind_is(PKind.SESSION),
                self.f("acct").is_lit(m.account),
                self.f("role").is_lit(m.role_name),
                self.f("sess").is_lit(m.session_name),
            )
            yield guard, s, m.role_name, m.session_name

    def known_federated(self) -> Iterator[tuple[Term, Session, str, str]]:
        """(guard, session, account, name) of federated users the environment describes."""
        for s, m in self._declared_sessions(arns.FederatedUserArn):
            guard = smt.and_(
                self.kind_is(PKind.FEDERATED), self.f("acct").is_lit(m.account), self.f("fed").is_lit(m.name)
            )
            yield guard, s, m.account, m.name

    def known_callers(self) -> list[KnownCaller]:
        return self._known

    def partition_is(self, partition: str) -> Term:
        """The requested resource is in `partition` (a caller is in its resource's partition: partitions are
        separate worlds)."""
        if self.partitions == (partition,):
            return TRUE
        return self.target_in(t.arn for t in self.targets if t.partition == partition)

    def request_arn(self) -> list[tuple[Term, tuple[Piece, ...]]]:
        """The request principal (caller.arn) per kind and partition, as concatenations of constants and
        fields (the first four cases are the IAM principals, one per partition each)."""
        a = self.f("acct")
        out: list[tuple[Term, tuple[Piece, ...]]] = []
        for kind in (PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED):
            for p in self.partitions:
                guard = smt.and_(self.kind_is(kind), self.partition_is(p))
                iam, sts = iam_prefix(p), sts_prefix(p)
                pieces: tuple[Piece, ...] = {
                    PKind.ROOT: (iam, a, ":root"),
                    PKind.USER: (iam, a, ":user/", self.f("upath"), self.f("uname")),
                    PKind.SESSION: (sts, a, ":assumed-role/", self.f("role"), "/", self.f("sess")),
                    PKind.FEDERATED: (sts, a, ":federated-user/", self.f("fed")),
                }[kind]
                out.append((guard, pieces))
        out.append((self.kind_is(PKind.SERVICE), (self.f("svc"),)))
        if PKind.ANONYMOUS in self.kinds:
            out.append((self.kind_is(PKind.ANONYMOUS), ("anonymous",)))
        if PKind.PROVIDER in self.kinds:
            out.append((self.kind_is(PKind.PROVIDER), (self.f("prov"),)))
        return out

    def iam_arns(self) -> list[tuple[Term, tuple[Piece, ...]]]:
        """`request_arn` restricted to the IAM principals (root, users, role sessions, federated users)."""
        return [(g, p) for g, p in self.request_arn() if p and isinstance(p[0], str) and p[0].startswith("arn:")]

    def by_partition(self, build: Callable[[str], tuple[Piece, ...]]) -> list[tuple[Term, tuple[Piece, ...]]]:
        """`build(partition)` for each partition of the domain, guarded by it."""
        return [(self.partition_is(p), build(p)) for p in self.partitions]

    def fed_source_arn(self) -> tuple[Piece, ...]:
        """The ARN of the source user of a federated user the environment does not declare: a user of the
        caller's account with any path and name (fields `upath` / `uname`, which federated callers do not
        otherwise use). In a domain of several partitions use `fed_source_arns`."""
        return self.fed_source_arns()[0][1]

    def fed_source_arns(self) -> list[tuple[Term, tuple[Piece, ...]]]:
        return self.by_partition(lambda p: (iam_prefix(p), self.f("acct"), ":user/", self.f("upath"), self.f("uname")))

    def unknown_role_arn(self) -> tuple[Piece, ...]:
        """The ARN of a role the environment does not describe: any path (`rpath`, "" for `/`), then its name
        (session ARNs do not show the path). In a domain of several partitions use `unknown_role_arns`."""
        return self.unknown_role_arns()[0][1]

    def unknown_role_arns(self) -> list[tuple[Term, tuple[Piece, ...]]]:
        return self.by_partition(lambda p: (iam_prefix(p), self.f("acct"), ":role/", self.f("rpath"), self.f("role")))

    def request_resource(self) -> list[tuple[Term, tuple[Piece, ...]]]:
        """The request resource per target: its ARN, or `sub_prefix` + `r.sub` for a sub-resource."""
        out: list[tuple[Term, tuple[Piece, ...]]] = []
        for t in self.targets:
            at = self.target_is(t)
            if t.sub_type:
                out.append((smt.and_(at, smt.not_(self.onsub)), (t.arn,)))
                out.append((smt.and_(at, self.onsub), (t.sub_prefix, self.f("sub"))))
            else:
                out.append((at, (t.arn,)))
        return out

    def role_known(self) -> Term:
        return smt.or_(k.guard for k in self._known if k.kind is PKind.SESSION)

    # -- action and key -------------------------------------------------------------------------------

    def byte_id(self, data: bytes) -> int:
        """A positive id per distinct byte string compared by BinaryEquals (0 is "any other bytes")."""
        return self.byte_ids.setdefault(data, len(self.byte_ids) + 1)

    def key_exists(self, key: str) -> Term:
        """The context key can exist for the action (`catalog.condition_key_may_exist`; kms: keys only)."""
        if not key.startswith("kms:"):
            return TRUE
        return self.action_in(a for a in self.actions if key_may_exist(key, a) is not False)

    def action_is(self, action: str) -> Term:
        i = self._action_index.get(action)
        return FALSE if i is None else smt.eq(self.act, smt.int_(i))

    def action_in(self, names: Iterable[str]) -> Term:
        where = self._action_index
        idx = sorted({i for a in names if (i := where.get(a)) is not None})
        if len(idx) == len(self.actions):
            return TRUE
        return smt.or_(smt.eq(self.act, smt.int_(i)) for i in idx)

    def key_index(self, arn: str) -> int | None:
        """The index of the target of ARN `arn` (keys first, as in `keys`)."""
        return self._target_index.get(arn)

    def key_is(self, key: Key) -> Term:
        i = self.key_index(key.arn)
        return FALSE if i is None else smt.eq(self.res, smt.int_(i))

    def key_in(self, arns: Iterable[str]) -> Term:
        return self.target_in(arns)

    def target_is(self, target: SymTarget | str) -> Term:
        i = self.key_index(target if isinstance(target, str) else target.arn)
        return FALSE if i is None else smt.eq(self.res, smt.int_(i))

    def target_in(self, arns: Iterable[str]) -> Term:
        idx = sorted({i for a in arns if (i := self.key_index(a)) is not None})
        if len(idx) == len(self.targets):
            return TRUE
        return smt.or_(smt.eq(self.res, smt.int_(i)) for i in idx)

    def target(self, arn: str) -> SymTarget | None:
        i = self.key_index(arn)
        return None if i is None else self.targets[i]

    # -- context keys -------------------------------------------------------------------------------------

    def raw_key(self, key: str) -> RawKey:
        """The caller-controlled value of context key `key` (lower case): presence and string per slot."""
        hit = self.raw.get(key)
        if hit is not None:
            return hit
        multi = catalog.is_multivalued(key)
        n = self.slot_counts.get(key, 1) if multi else 1
        # a Boolean AWS sets is `true` or `false` (requestfacts, fact 1): those two are its only values
        lits = ["true", "false"] if key in requestfacts.BOOLEAN_KEYS else sorted(self.context_literals(key))
        hard = _KEY_SHAPES.get(key, ())
        prefer = requestfacts.PREFER.get(key, ("example",))
        present: list[Term] = []
        fields: list[StrField] = []
        for i in range(n):
            suffix = f"#{i}" if multi else ""
            present.append(self.script.declare(f"ctx.{key}{suffix}.present", smt.BOOL))
            fields.append(StrField(self, f"ctx.{key}{suffix}", lits, hard, prefer))
        raw = RawKey(key, present, fields, multi)
        self.raw[key] = raw
        return raw

    def finalize(self) -> None:
        """Emit the definitions of everything created since the last call into the current script, plus the
        well-formedness of the encryption context (semantics §5.1: kms:EncryptionContextKeys lists exactly
        the keys of the kms:EncryptionContext:* entries, case-insensitively)."""
        sc = self.script
        ec_keys = self.raw.get("kms:encryptioncontextkeys")
        if ec_keys is not None:
            # kms:EncryptionContextKeys lists every key of the encryption context; when the request has no
            # kms:EncryptionContext:* entry at all the list may be given on its own (evaluate._derive)
            names = sorted(n for n in self.raw if n.startswith("kms:encryptioncontext:"))
            eff = {n: smt.and_(self.raw[n].present[0], self.key_exists(n)) for n in names}
            for name in names:
                k = name.split(":", 2)[2]
                lit = strings.literal(k, ignore_case=True)
                listed = [
                    smt.and_(p, f.atom(lit), self.key_exists("kms:encryptioncontextkeys"))
                    for p, f in zip(ec_keys.present, ec_keys.fields, strict=True)
                ]
                if name not in self._ec_done:
                    sc.require(smt.implies(eff[name], smt.or_(listed)))
                for other in names:
                    if (name, other) in self._ec_pairs:
                        continue
                    self._ec_pairs.add((name, other))
                    sc.require(smt.implies(smt.and_(eff[other], smt.or_(listed)), eff[name]))
                self._ec_done.add(name)
        self._request_facts()
        for f in self.fields.values():
            f.finalize(sc)
        for raw in self.raw.values():
            for f in raw.fields:
                f.finalize(sc)

    # -- what AWS guarantees about a request's context (requestfacts) --------------------------------------

    def _once(self, fact: str, key: str) -> bool:
        if (fact, key) in self._facts_done:
            return False
        self._facts_done.add((fact, key))
        return True

    def _given(self, key: str) -> Term:
        """The request carries `key` (some slot present), masked by the action for kms: keys."""
        raw = self.raw_key(key)
        return smt.and_(smt.or_(raw.present), self.key_exists(key))

    def fas(self) -> Term:
        """The request is a forward access session: one of `requestfacts.FAS_KEYS` is present (fact 3)."""
        return smt.or_(self._given(k) for k in requestfacts.FAS_KEYS)

    def iam_caller(self) -> Term:
        return smt.or_(self.kind_is(k) for k in (PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED))

    def _request_facts(self) -> None:
        """State `requestfacts` over the keys the policies read (the facts' other keys are created for them)."""
        sc = self.script
        keys = set(self.raw)
        for key in sorted(keys & requestfacts.BOOLEAN_KEYS):
            raw = self.raw[key]
            if self._once("boolean", key):
                for p, f in zip(raw.present, raw.fields, strict=True):
                    sc.require(smt.implies(p, smt.not_(f.is_other())))
        if keys & {"aws:viaawsservice", *requestfacts.FAS_KEYS} and self._once("fas", ""):
            via = self.raw_key("aws:viaawsservice")
            fas = self.fas()
            given_true = smt.and_(via.present[0], via.fields[0].is_lit("true"))
            sc.require(smt.implies(smt.and_(fas, via.present[0]), via.fields[0].is_lit("true")))
            sc.require(smt.implies(smt.or_(fas, given_true), self.iam_caller()))
        if "kms:grantisforawsresource" in keys and self._once("grant-for-aws-resource", ""):
            g = self.raw_key("kms:grantisforawsresource")
            given_true = smt.and_(g.present[0], self.key_exists("kms:grantisforawsresource"),
                                  g.fields[0].is_lit("true"))
            sc.require(smt.implies(given_true, self._given("kms:viaservice")))
        for key in sorted(keys & set(requestfacts.SERVICE_ONLY_KEYS)):
            if self._once("service-only", key):
                sc.require(smt.implies(self._given(key), self.kind_is(PKind.SERVICE)))
        if keys & {"aws:calledvia", "aws:calledviafirst", "aws:calledvialast"} and self._once("calledvia", ""):
            called = self.raw_key("aws:calledvia")
            ends = [self.raw_key(k) for k in ("aws:calledviafirst", "aws:calledvialast")]
            lits = tuple(dict.fromkeys(lit for raw in (called, *ends) for f in raw.fields for lit in f.lits))
            for one in ends:
                sc.require(smt.iff(one.present[0], smt.or_(called.present)))
                sc.require(smt.implies(one.present[0], smt.or_(
                    smt.and_(p, self.equal_fields(one.fields[0], f, lits))
                    for p, f in zip(called.present, called.fields, strict=True))))
        for key in ("aws:sourcevpc", "aws:vpcsourceip"):
            if key in keys and self._once("vpc", key):
                sc.require(smt.implies(self._given(key), self._given("aws:sourcevpce")))
        if "aws:sourceip" in keys and self._once("vpc", "aws:sourceip"):
            sc.require(smt.implies(self._given("aws:sourcevpce"), smt.not_(self._given("aws:sourceip"))))

    def equal_fields(self, a: StrField, b: StrField, lits: tuple[str, ...] = ()) -> Term:
        """The two fields hold the same string: a `variables.Link` ("a is in the pattern that is exactly b"),
        stated for every literal of either and of `lits` (literals of fields related to these), and realised by
        decoding for the rest."""
        from reasoner.symbolic import variables

        items: tuple[variables.Item, ...] = (variables.Hole((b,)),)
        key = ((a,), items)
        hit = self.links.get(key)
        if hit is None:
            atom = self.script.declare(f"link.{len(self.links)}", smt.BOOL)
            hit = self.links[key] = variables.Link(atom, (a,), items)
            for lit in dict.fromkeys([*a.lits, *b.lits, *lits]):
                self.script.require(smt.implies(a.is_lit(lit), smt.iff(atom, b.is_lit(lit))))
                self.script.require(smt.implies(b.is_lit(lit), smt.iff(atom, a.is_lit(lit))))
        return hit.atom


@lru_cache(maxsize=65536)
def key_may_exist(key: str, action: str) -> bool | None:
    """`catalog.condition_key_may_exist`, cached (the encoder asks it for every key and action)."""
    return catalog.condition_key_may_exist(key, action)


def iter_policies(env: Environment) -> Iterator[PolicyDocument]:
    """Every policy document of an environment (key policies, resource and trust policies, identity,
    boundaries, sessions, SCPs, RCPs, VPC endpoint policies)."""
    for k in env.keys:
        yield k.policy
    for r in env.resources:
        if r.policy is not None:
            yield r.policy
        elif (implied := resources.resource_policy(r, env.options)) is not None:
            yield implied
    for e in env.vpc_endpoints:
        if e.policy is not None:
            yield e.policy
    for p in env.principals:
        yield from p.identity_policies
        if p.permissions_boundary is not None:
            yield p.permissions_boundary
        if p.trust_policy is not None:
            yield p.trust_policy
    for s in env.sessions:
        yield from s.session_policies
    for o in env.organizations:
        for docs in o.scps.values():
            yield from docs
        for docs in o.rcps.values():
            yield from docs


def count_set_conditions(envs: Iterable[Environment]) -> dict[str, int]:
    """Per multivalued key, how many set elements a counterexample may need: each distinct condition
    (qualifier, operator, values) asks for at most one witness element (ForAnyValue where it must hold,
    ForAllValues where it must fail; the other polarity is universal), plus one element for a plain
    operator's presence test. So many slots keep the bounded set encoding complete."""
    seen: dict[str, set[tuple[str, str, tuple[str, ...]]]] = {}
    for env in envs:
        for policy in iter_policies(env):
            for st in policy.statements:
                if st.condition is None:
                    continue
                for c in st.condition.conditions:
                    low = c.key.text.lower()
                    if catalog.is_multivalued(low) or c.qualifier is not SetQualifier.NONE:
                        sig = (c.qualifier.value, c.operator.value, tuple(sorted(v.text for v in c.values)))
                        seen.setdefault(low, set()).add(sig)
    return {k: len(v) + 1 for k, v in seen.items()}


__all__ = [
    "Case",
    "Domain",
    "PKind",
    "Piece",
    "RawKey",
    "StrField",
    "Value",
    "count_set_conditions",
    "iter_policies",
    "key_actions",
]
