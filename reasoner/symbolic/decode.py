"""Stage 5: a solver model -> a concrete, readable `Request`.

Input: a `solve.Model` of the domain's variables.
Output: `Decoded`: the request (principal ARN, action, key ARN, the caller-controlled context), or the
refinement lemmas that rule the model out when some field's pattern atoms have no real string behind them
(a subset-minimal conflicting set, `strings.minimal_conflict`).
Guarantee: a returned request realises the model exactly: every field's value satisfies exactly the atoms
the model set (checked), literals are reused when the model chose one, fresh values are readable (account
`999999999999`, names `example`) and context keys the action cannot carry are left out. A field that cannot
be realised for another reason (a typed value that no string represents together with its patterns) raises
`DecodeError` (the check then answers UNKNOWN).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache

from reasoner.semantics import arns
from reasoner.semantics.catalog import condition_key_may_exist, condition_key_names
from reasoner.semantics.evaluate import OPT_IN_REGIONS, given_context
from reasoner.semantics.request import Request
from reasoner.semantics.values import decode_base64, parse_bool, parse_instant, parse_ip_address, parse_number
from reasoner.symbolic import smt, strings, variables
from reasoner.symbolic.domain import PARTITION, Domain, PKind, StrField
from reasoner.symbolic.solve import Model


class DecodeError(Exception):
    """A model that cannot be turned into a request (reported as UNKNOWN with this reason)."""


@dataclass
class Decoded:
    request: Request | None
    lemmas: list[smt.Term] = field(default_factory=list)
    kind: PKind | None = None


def _atoms(f: StrField, model: Model) -> tuple[list[tuple[strings.Nfa, str]], list[tuple[strings.Nfa, str]]]:
    must: list[tuple[strings.Nfa, str]] = []
    must_not: list[tuple[strings.Nfa, str]] = []
    for nfa, (a, _free) in f.atoms.items():
        (must if model[a] else must_not).append((nfa, a))
    return must, must_not


#: The typed views of a field (`StrField.typed_view`): its string read as a number, date, Boolean, address or bytes.
_VIEWS = ("view:numeric", "view:date", "view:bool", "view:ip", "view:binary")
#: Field values fixed by `realise_links` for the decoding of one model (every other field is decoded on demand).
_FIXED: dict[int, str] = {}


def field_value(f: StrField, model: Model, lemmas: list[smt.Term]) -> str | None:
    """The string of field `f` in `model`, or None after appending a lemma that excludes the model."""
    fixed = _FIXED.get(id(f))
    if fixed is not None:
        return fixed
    sel = model[f.sel]
    if 0 <= sel < f.other_index:
        return f.lits[sel]
    must, must_not = _atoms(f, model)
    if any(name in f.typed for name in _VIEWS):
        return _typed_value(f, model, must, must_not)
    w = strings.find_witness([*f.hard, *(n for n, _ in must)], [n for n, _ in must_not], avoid=f.lits, prefer=f.prefer)
    if w is not None:
        return w
    ms, ns = strings.minimal_conflict([n for n, _ in must], [n for n, _ in must_not], hard_must=f.hard, avoid=f.lits)
    lemma = smt.not_(smt.and_(f.is_other(), *(must[i][1] for i in ms), *(smt.not_(must_not[j][1]) for j in ns)))
    lemmas.append(lemma)
    return None


def _decimal_text(q: Fraction, constants: set[object]) -> str:
    """A decimal string for `q`, or for a value in the same gaps between `constants` when `q` has no finite
    decimal expansion."""

    def finite(x: Fraction) -> str | None:
        d = x.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d != 1:
            return None
        text = format(Decimal(x.numerator) / Decimal(x.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    exact = finite(q)
    if exact is not None:
        return exact
    cs = sorted(Fraction(c) for c in constants if isinstance(c, Decimal | int | Fraction))
    lo = max((c for c in cs if c < q), default=None)
    hi = min((c for c in cs if c > q), default=None)
    if lo is None and hi is None:
        return str(round(q))
    if lo is None:
        assert hi is not None
        return finite(Fraction(int(hi) - 1)) or str(int(hi) - 1)
    if hi is None:
        return str(int(lo) + 1)
    return finite((lo + hi) / 2) or str(lo)


def _typed_value(
    f: StrField, model: Model, must: list[tuple[strings.Nfa, str]], must_not: list[tuple[strings.Nfa, str]]
) -> str:
    """A string for a field read by typed operators: candidates from every typed view, the first that is
    consistent with all of them, with the pattern atoms and with the literal exclusion."""
    views = f.domain.views
    candidates: list[str] = []
    for fam in ("numeric", "date"):
        view = views.get((f.name, fam))
        if view is None or not model[view["ok"]]:
            continue
        base = _decimal_text(model[view["v"]], f.constants.get(fam, set()))
        candidates += [base, "+" + base, "0" + base, base + ("0" if "." in base else ".0")]
        if base.isdigit() and len(base) < 12:
            candidates.append(base.zfill(12))  # an account id
        if "." not in base:
            candidates.append(base + ".")  # a number that is not an epoch time
        elif base.startswith(("0.", "-0.")):
            candidates.append(base.replace("0.", ".", 1))  # `.5`: a number that is not an epoch time either
        if fam == "date":
            try:
                moment = datetime.fromtimestamp(float(model[view["v"]]), UTC)
                iso = moment.isoformat()
                candidates += [iso.replace("+00:00", "Z"), iso]
            except (OverflowError, OSError, ValueError):
                pass
    bview = views.get((f.name, "bool"))
    if bview is not None:
        b = model[bview["b"]]
        if b == 1:
            candidates += ["true", "True", "TRUE"]
        elif b == 2:
            candidates += ["false", "False", "FALSE"]
    yview = views.get((f.name, "binary"))
    if yview is not None:
        bid = model[yview["bytes"]]
        by_id = {i: d for d, i in f.domain.byte_ids.items()}
        if bid in by_id:
            candidates.append(base64.b64encode(by_id[bid]).decode("ascii"))
        elif bid >= 0:  # 0, or an id no constant has: bytes equal to no constant
            for extra in (b"example", b"example-1", b"example-2", b"\x00"):
                if extra not in f.domain.byte_ids:
                    candidates.append(base64.b64encode(extra).decode("ascii"))
                    break
    iview = views.get((f.name, "ip"))
    if iview is not None:
        fam_v = model[iview["fam"]]
        if fam_v == 4:
            candidates.append(str(ipaddress.IPv4Address(model[iview["v4"]])))
        elif fam_v == 6:
            addr = ipaddress.IPv6Address(model[iview["v6"]])
            candidates += [str(addr), addr.exploded]
    # every typed parser strips surrounding blanks: a padded copy is another string with the same value
    candidates += [c + " " for c in candidates] + [" " + c for c in candidates]
    candidates += ["example", "x", "example-value"]
    for c in candidates:
        if c in f.lits:
            continue
        if not all(n.accepts(c) for n, _ in must) or any(n.accepts(c) for n, _ in must_not):
            continue
        if not all(h.accepts(c) for h in f.hard):
            continue
        if _typed_consistent(f, model, c):
            return c
    views_v = {fam: {k: model[v] for k, v in view.items()} for (n, fam), view in views.items() if n == f.name}
    raise DecodeError(
        f"no string realises the value the solver chose for `{f.name}`: {views_v} "
        f"must {[n for n, _ in must]} must_not {len(must_not)} lits {f.lits}"
    )


def _typed_consistent(f: StrField, model: Model, text: str) -> bool:
    views = f.domain.views
    yview = views.get((f.name, "binary"))
    if yview is not None:
        data = decode_base64(text)
        want = model[yview["bytes"]]
        if want > 0 and want not in f.domain.byte_ids.values():
            want = 0
        got = -1 if data is None else f.domain.byte_ids.get(data, 0)
        if got != want:
            return False
    for fam in ("numeric", "date", "bool", "ip"):
        view = views.get((f.name, fam))
        if view is None:
            continue
        if fam in ("numeric", "date"):
            parsed = (parse_number if fam == "numeric" else parse_instant)(text)
            if (parsed is not None) != bool(model[view["ok"]]):
                return False
            if parsed is not None and Fraction(parsed) != model[view["v"]]:
                return False
        elif fam == "bool":
            pb = parse_bool(text)
            if (0 if pb is None else 1 if pb else 2) != model[view["b"]]:
                return False
        else:
            addr = parse_ip_address(text)
            fam_v = model[view["fam"]]
            if addr is None:
                if fam_v != 0:
                    return False
            elif addr.version != fam_v or int(addr) != model[view["v4" if fam_v == 4 else "v6"]]:
                return False
    return True


_KIND_FIELDS = {
    PKind.ROOT: ("acct",),
    PKind.USER: ("acct", "upath", "uname"),
    PKind.SESSION: ("acct", "role", "sess"),
    PKind.FEDERATED: ("acct", "fed"),
    PKind.SERVICE: ("svc",),
    PKind.ANONYMOUS: (),
    PKind.PROVIDER: ("prov",),
}


def realise_links(domain: Domain, model: Model, lemmas: list[smt.Term]) -> dict[int, str] | None:
    """Field values under which every link of the domain (`variables.Link`, a relation between a value and a
    pattern whose variables hold fields) has the truth the model gives it. Fields are decoded as usual; a link
    that does not hold is repaired by choosing another string for a field the model left "other" (one the
    pattern accepts or rejects as the link says, and that keeps every atom of the field). When no repair exists
    the conflict becomes a lemma (a fact of the strings alone) and None is returned; a link that cannot be
    decided this way raises `DecodeError`."""
    fixed: dict[int, str] = {}
    links = list(domain.links.values())
    if not links:
        return fixed

    def value(f: object) -> str:
        assert isinstance(f, StrField)
        if id(f) not in fixed:
            v = field_value(f, model, lemmas)
            if v is None:
                raise _Lemma
            fixed[id(f)] = v
        return fixed[id(f)]

    try:
        for _ in range(4 * len(links) + 4):
            bad = [lk for lk in links if lk.holds(value) != model.truth(lk.atom)]
            if not bad:
                return fixed
            lk = bad[0]
            if not _repair(lk, model.truth(lk.atom), model, fixed=fixed, value=value, lemmas=lemmas,
                           others=[(o, model.truth(o.atom)) for o in links]):
                return None
        raise DecodeError("the links between policy-variable values and other fields do not settle")
    except _Lemma:
        return None


class _Lemma(Exception):
    """A field could not be decoded; its lemma is in the list."""


def _is_other(f: StrField, model: Model) -> bool:
    return bool(model[f.sel] == f.other_index)


def _free(f: StrField, model: Model) -> bool:
    """The model leaves `f` "other" and nothing but its atoms reads its string (no typed view): decoding may
    choose any string with the same atoms for it."""
    return _is_other(f, model) and not any(v in f.typed for v in _VIEWS)


def _repair(lk: variables.Link, want: bool, model: Model, *, fixed: dict[int, str],
            value: Callable[[object], str], lemmas: list[smt.Term],
            others: Sequence[tuple[variables.Link, bool]] = ()) -> bool:
    """Make `lk` hold with truth `want` by choosing values for fields the model leaves "other" (see
    `realise_links`): a value field (the holes as decoded), else the hole fields (a way to cut the value, or
    none), else both (a value the pattern accepts for some hole values, then the holes cut from it). False with
    a lemma when the failure is a fact of the fields' literals and atoms."""
    flat = variables.flatten(list(lk.items))
    hole_fields = list(dict.fromkeys(h.pieces[0] for h in flat if isinstance(h, variables.Hole)))
    open_values = [p for p in dict.fromkeys(lk.value)
                   if isinstance(p, StrField) and _free(p, model) and p not in hole_fields]
    for f in reversed(open_values):
        w = _value_witness(lk, f, want, model, value, concrete=True, others=others)
        if w is not None:
            fixed[id(f)] = w
            return True
    if _repair_holes(lk, flat, want, model, fixed=fixed, value=value):
        return True
    open_holes = [g for g in dict.fromkeys(_field(h) for h in flat if isinstance(h, variables.Hole))
                  if _free(g, model)]
    for f in reversed(open_values if want else []):
        for g in open_holes:
            w = _value_witness(lk, f, want, model, value, concrete=False, free=g)
            if w is None:
                continue
            before = fixed.get(id(f))
            fixed[id(f)] = w
            if _repair_holes(lk, flat, want, model, fixed=fixed, value=value):
                return True
            if before is not None:
                fixed[id(f)] = before
    if want:
        done = _realise(lk, flat, model, fixed=fixed, value=value, lemmas=lemmas)
        if done is not None:
            return done
    return _conflict(lk, flat, want, model, value=value, lemmas=lemmas)


def _realise(lk: variables.Link, flat: list[variables.Item], model: Model, *, fixed: dict[int, str],
             value: Callable[[object], str], lemmas: list[smt.Term]) -> bool | None:
    """The link made true by a local string query over its fields (`variables.realise`): True with the values
    fixed; False with a lemma when no strings fit the fields' literals, shapes and atoms as the model has them
    (the query is exact for those, so the lemma is a fact); None when the query cannot tell."""
    fields = list(dict.fromkeys([*(p for p in lk.value if isinstance(p, StrField)),
                                 *(_field(h) for h in flat if isinstance(h, variables.Hole))]))
    facts: dict[StrField, variables.FieldFacts] = {}
    exact = True
    for f in fields:
        if not _is_other(f, model):
            facts[f] = variables.FieldFacts(value(f))
        elif any(v in f.typed for v in _VIEWS):
            facts[f] = variables.FieldFacts(value(f))  # its typed view holds the value: it stays
            exact = False
        else:
            must, must_not = _atoms(f, model)
            facts[f] = variables.FieldFacts(None, f.hard, tuple(n for n, _ in must), tuple(n for n, _ in must_not),
                                            tuple(f.lits))
    status, values = variables.realise(lk, facts)  # type: ignore[arg-type]
    if status == "sat":
        for g, v in values.items():
            assert isinstance(g, StrField)
            if _free(g, model):
                fixed[id(g)] = v
        return True
    if status == "unsat" and exact:
        terms: list[smt.Term] = []
        for f in fields:
            if _is_other(f, model):
                must, must_not = _atoms(f, model)
                terms += [f.is_other(), *(t for _, t in must), *(smt.not_(t) for _, t in must_not)]
        lemmas.append(smt.not_(smt.and_(lk.atom, *terms, *_literal_sels(fields, model))))
        return False
    return None


def another_model(domain: Domain, model: Model) -> smt.Term | None:
    """A term that the model violates and that excludes nothing but its choice for the fields the links relate
    (which literal, or "other" and which of its patterns it is in, each takes): what a query asks once more,
    for this query only, when the links of the model could not be realised (`DecodeError`). Not a lemma:
    strings may well realise that choice; a search under it that ends unsat proves nothing (`refine` answers
    UNKNOWN then). None when no link relates a field."""
    fields: dict[int, StrField] = {}
    for lk in domain.links.values():
        for p in lk.value:
            if isinstance(p, StrField):
                fields.setdefault(id(p), p)
        for item in lk.items:
            if isinstance(item, variables.Hole):
                for p in item.pieces:
                    if isinstance(p, StrField):
                        fields.setdefault(id(p), p)
    if not fields:
        return None
    chosen: list[smt.Term] = []
    for f in fields.values():
        chosen.append(smt.eq(f.sel, smt.int_(int(model[f.sel]))))
        if _is_other(f, model):  # and which of its patterns the string of "other" is in
            chosen.extend(a if model.truth(a) else smt.not_(a) for a, _ in f.atoms.values())
    return smt.not_(smt.and_(*chosen))


def _field(h: variables.Hole) -> StrField:
    f = h.pieces[0]
    assert isinstance(f, StrField)
    return f


def _around(lk: variables.Link, f: StrField, value: Callable[[object], str]) -> tuple[str, str]:
    i = lk.value.index(f)
    before = "".join(p if isinstance(p, str) else value(p) for p in lk.value[:i])
    after = "".join(p if isinstance(p, str) else value(p) for p in lk.value[i + 1 :])
    return before, after


def _value_witness(lk: variables.Link, f: StrField, want: bool, model: Model, value: Callable[[object], str], *,
                   concrete: bool, free: StrField | None = None,
                   others: Sequence[tuple[variables.Link, bool]] = ()) -> str | None:
    """A string for value field `f` (its shape and atoms as the model has them) with which the value is in the
    pattern (`want`) or not: the pattern with its holes as decoded (`concrete`), else with the holes of field
    `free` widened to any run of the characters its shape allows (the others as decoded). The other links of
    `others` whose value holds `f` keep the truth given with them (their holes as decoded), so that repairing
    one link does not break another (aws:CalledViaLast is linked to every slot of aws:CalledVia)."""
    middle = _middle(lk, f, value, concrete=concrete, free=free)
    if middle is None:
        return None
    must, must_not = _atoms(f, model)
    musts = [*f.hard, *(n for n, _ in must)] + ([middle] if want else [])
    nots = [n for n, _ in must_not] + ([] if want else [middle])
    for other, truth in others:
        if other is lk or f not in other.value or any(
                _field(h) is f for h in variables.flatten(list(other.items)) if isinstance(h, variables.Hole)):
            continue
        m = _middle(other, f, value, concrete=True, free=None)
        if m is not None:
            (musts if truth else nots).append(m)
    return strings.find_witness(musts, nots, avoid=f.lits, prefer=f.prefer)


def _middle(lk: variables.Link, f: StrField, value: Callable[[object], str], *, concrete: bool,
            free: StrField | None) -> strings.Nfa | None:
    """The strings value field `f` may hold for the value to be in the pattern of `lk` (see `_value_witness`);
    None when `f` occurs more than once or a hole's decoded value breaks its no-colon rule."""
    if lk.value.count(f) != 1:
        return None
    toks: list[strings.Tok] = []
    for it in variables.flatten(list(lk.items)):
        if isinstance(it, strings.Tok):
            toks.append(it)
        elif not concrete and _field(it) is free:
            cs = _shape_chars(free)
            toks.append(strings.Tok(strings.NO_COLON if it.no_colon and cs == strings.ANY else cs, True))
        else:
            v = value(_field(it))
            if it.no_colon and ":" in v:
                return None
            toks += variables.chars(v, it.ignore_case)
    nfa = strings.sequence(*toks)
    return _suffix_free(nfa, *_around(lk, f, value))


def _shape_chars(f: StrField) -> strings.CharSet:
    """The characters a field's shape allows (a shape of one character class), else any."""
    for h in f.hard:
        classes = {t.cs for t in h.toks}
        if len(classes) == 1:
            return next(iter(classes))
    return strings.ANY


def _fits(f: StrField, v: str, model: Model) -> bool:
    """`v` is a string the model allows for `f` as "other"."""
    must, must_not = _atoms(f, model)
    return (v not in f.index and all(h.accepts(v) for h in f.hard) and all(n.accepts(v) for n, _ in must)
            and not any(n.accepts(v) for n, _ in must_not))


def _ways(text: str, flat: list[variables.Item], model: Model,
          value: Callable[[object], str]) -> list[dict[StrField, str]]:
    """The hole assignments that put `text` in the pattern, each field one value, the fields the model fixed
    to a literal at that literal."""
    out: list[dict[StrField, str]] = []
    for way in variables.cuts(text, flat):
        chosen: dict[StrField, str] = {}
        ok = True
        for h, v in way:
            f = _field(h)
            if not _free(f, model):
                ok = ok and (value(f).lower() == v.lower() if h.ignore_case else value(f) == v)
            else:
                ok = ok and chosen.setdefault(f, v) == v
        if ok and chosen not in out:
            out.append(chosen)
    return out


def _repair_holes(lk: variables.Link, flat: list[variables.Item], want: bool, model: Model, *,
                  fixed: dict[int, str], value: Callable[[object], str]) -> bool:
    text = "".join(p if isinstance(p, str) else value(p) for p in lk.value)
    ways = _ways(text, flat, model, value)
    if want:
        for chosen in ways:
            if chosen and all(_fits(f, v, model) and f not in lk.value for f, v in chosen.items()):
                for f, v in chosen.items():
                    fixed[id(f)] = v
                return True
        return False
    for f in dict.fromkeys(_field(h) for h in flat if isinstance(h, variables.Hole)):
        if not _free(f, model) or f in lk.value:
            continue
        must, must_not = _atoms(f, model)
        taken = {v for chosen in ways for ff, v in chosen.items() if ff is f}
        w = strings.find_witness([*f.hard, *(n for n, _ in must)], [n for n, _ in must_not],
                                 avoid={*f.lits, *taken, *(v.lower() for v in taken), *(v.upper() for v in taken)},
                                 prefer=f.prefer)
        if w is not None and not variables.Link(lk.atom, lk.value, lk.items).holds(
                lambda g, f=f, w=w: w if g is f else value(g)):  # type: ignore[misc]
            fixed[id(f)] = w
            return True
    return False


def _conflict(lk: variables.Link, flat: list[variables.Item], want: bool, model: Model, *,
              value: Callable[[object], str], lemmas: list[smt.Term]) -> bool:
    """No repair: a lemma that excludes the model when the conflict is a fact of literals and atoms, else
    `DecodeError` (the check answers UNKNOWN)."""
    holes = [h for h in flat if isinstance(h, variables.Hole)]
    hole_fields = list(dict.fromkeys(_field(h) for h in holes))
    value_fields = list(dict.fromkeys(p for p in lk.value if isinstance(p, StrField)))
    involved = list(dict.fromkeys([*value_fields, *hole_fields]))
    literal = [f for f in involved if not _is_other(f, model)]
    fact = lk.atom if want else smt.not_(lk.atom)
    if any(not _free(f, model) for f in involved if f not in literal):
        raise DecodeError("a policy variable's value relates fields whose strings are also read as typed values")
    if len(literal) == len(involved):
        lemmas.append(smt.not_(smt.and_(fact, *_literal_sels(involved, model))))
        return False
    open_values = [f for f in value_fields if _is_other(f, model)]
    if want and len(open_values) == 1 and open_values[0] not in hole_fields and lk.value.count(open_values[0]) == 1 \
            and all(not _is_other(h, model) for h in hole_fields):
        # the holes are literals: no string of the value field's atoms is in the pattern with them
        f = open_values[0]
        items = variables.concrete_items(list(lk.items), value)
        nfa = None if items is None else variables.as_nfa(items)
        must, must_not = _atoms(f, model)
        if nfa is None:
            lemmas.append(smt.not_(smt.and_(fact, *_literal_sels(involved, model))))
            return False
        middle = _suffix_free(nfa, *_around(lk, f, value))
        ms, ns = strings.minimal_conflict([n for n, _ in must], [n for n, _ in must_not],
                                          hard_must=[*f.hard, middle], avoid=f.lits)
        lemmas.append(smt.not_(smt.and_(fact, f.is_other(), *(must[j][1] for j in ms),
                                        *(smt.not_(must_not[j][1]) for j in ns), *_literal_sels(involved, model))))
        return False
    if want and not open_values and not any(h.ignore_case for h in holes):
        # the value is a fact of literals: every way to cut it fails a field's shape or one of its atoms
        text = "".join(p if isinstance(p, str) else value(p) for p in lk.value)
        why: list[smt.Term] = []
        for chosen in _ways(text, flat, model, value):
            reason: smt.Term | None = None
            for f, v in chosen.items():
                if v in f.index or not all(h.accepts(v) for h in f.hard):
                    reason = smt.TRUE
                    break
                must, must_not = _atoms(f, model)
                hit = next((t for n, t in must if not n.accepts(v)), None)
                if hit is None:
                    hit = next((smt.not_(t) for n, t in must_not if n.accepts(v)), None)
                if hit is not None:
                    reason = hit
                    break
            if reason is None:
                raise DecodeError("a way to cut a policy variable's value fits every field yet was not taken")
            why.append(reason)
        lemmas.append(smt.not_(smt.and_(fact, *why, *(f.is_other() for f in involved if f not in literal),
                                        *_literal_sels(involved, model))))
        return False
    raise DecodeError("no strings realise a relation between a policy variable's value and another field")


def _literal_sels(fields: Sequence[object], model: Model, skip: object = None) -> list[smt.Term]:
    return [smt.eq(f.sel, smt.int_(model[f.sel])) for f in dict.fromkeys(fields)
            if isinstance(f, StrField) and f is not skip and not _is_other(f, model)]


def _suffix_free(nfa: strings.Nfa, before: str, after: str) -> strings.Nfa:
    """The strings `s` with `before + s + after` in `nfa`."""
    starts = strings.run(nfa.toks, strings.closure(nfa.toks, nfa.starts), before)
    finals = frozenset(q for q in range(len(nfa.toks) + 1)
                       if strings.run(nfa.toks, strings.closure(nfa.toks, {q}), after) & nfa.finals)
    return strings.Nfa(nfa.toks, starts, finals)


def decode_request(domain: Domain, model: Model) -> Decoded:
    """The request of `model`, or the lemmas that exclude it (stage 5 entry point)."""
    lemmas: list[smt.Term] = []
    kind = PKind(model[domain.pkind])
    realised = realise_links(domain, model, lemmas)
    if realised is None:
        return Decoded(None, lemmas or [], kind)
    _FIXED.clear()
    _FIXED.update(realised)
    try:
        return _decode(domain, model, lemmas, kind)
    finally:
        _FIXED.clear()


def _decode(domain: Domain, model: Model, lemmas: list[smt.Term], kind: PKind) -> Decoded:
    kind = PKind(model[domain.pkind])
    values: dict[str, str] = {}
    for name in _KIND_FIELDS[kind]:
        v = field_value(domain.f(name), model, lemmas)
        if v is not None:
            values[name] = v
    action = domain.actions[model[domain.act]]
    target = domain.targets[model[domain.res]]
    resource = target.arn
    if target.sub_type and model.truth(domain.onsub):
        sub = field_value(domain.f("sub"), model, lemmas)
        resource = target.sub_prefix + (sub or "")
    context: dict[str, tuple[str, ...]] = {}
    for key_name, raw in sorted(domain.raw.items()):
        if key_name.startswith("kms:") and condition_key_may_exist(key_name, action) is False:
            continue
        vals: list[str] = []
        for p, f in zip(raw.present, raw.fields, strict=True):
            if not model[p]:
                continue
            v = field_value(f, model, lemmas)
            if v is not None and v not in vals:
                vals.append(v)
        if vals:
            context[key_name] = tuple(vals)
    if lemmas:
        return Decoded(None, lemmas, kind)
    assumed = _assumed(domain, model, kind, lemmas, values)
    if lemmas:
        return Decoded(None, lemmas, kind)
    acct = values.get("acct")
    iam_caller = kind in (PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED)
    if (
        iam_caller
        and target.region in OPT_IN_REGIONS
        and acct != target.owner
        and any(env.account(acct or "") is None for env in domain.environments)
    ):
        # an account the environment does not declare may have enabled the key's opt-in Region (§4.3)
        assumed["region"] = target.region
    inorg = domain.views_bool.get("r.inorg")
    if (
        inorg is not None
        and model[inorg]
        and (not iam_caller or acct != target.owner)
        and any(env.account(target.owner) is None for env in domain.environments)
    ):
        # the organization of the key's owner account, which the environment does not declare (domain.py)
        for name, fact in (("rorg", "keyorg"), ("rorgpath", "keyorgpath")):
            if name in domain.fields:
                v = field_value(domain.fields[name], model, lemmas)
                if v is not None:
                    assumed[fact] = v
        if lemmas:
            return Decoded(None, lemmas, kind)
    principal = principal_arn(kind, values, target.partition)
    request = Request(principal, action, resource, _spelled(domain, _encryption_context(context)), assumed)
    given = given_context(domain.environments[0], request)
    if len(given) != len(request.context):  # keys AWS derives for this resource are not the caller's to give
        request = Request(principal, action, resource, given, assumed)
    return Decoded(request, [], kind)


def _assumed(
    domain: Domain, model: Model, kind: PKind, lemmas: list[smt.Term], values: dict[str, str]
) -> dict[str, str]:
    """What the model chose for the values AWS derives for a caller the environment may not describe
    (`Request.assumed`); `explain.augment` uses only those that apply to the replayed environment."""
    out: dict[str, str] = {}
    if kind not in (PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED):
        return out
    inorg = domain.views_bool.get("p.inorg")
    if inorg is not None and model[inorg]:
        for name in ("org", "orgpath"):
            if name in domain.fields:
                v = field_value(domain.fields[name], model, lemmas)
                if v is not None:
                    out[name] = v
    if kind is PKind.SESSION and "rpath" in domain.fields:
        # the path of a role the environment does not describe (session ARNs do not show it)
        v = field_value(domain.fields["rpath"], model, lemmas)
        if v and not _role_declared(domain, values.get("acct", ""), values.get("role", "")):
            out["rolepath"] = v
    partition = domain.targets[model[domain.res]].partition
    if kind is PKind.FEDERATED and any(env.session(principal_arn(kind, values, partition)) is None
                                       for env in domain.environments):
        # the source user of a federated user an environment does not declare, when the model chose a user the
        # policies or the environment name, or one a pattern of the query names (a class of findings or diff:
        # "user/e/e" with its GetFederationToken sessions); any other source is one nothing names
        # (`explain.augment_caller`)
        uname = domain.fields["uname"]
        if model[uname.sel] < uname.other_index or any(model.truth(t) for t, *_ in uname.atoms.values()):
            src_path = field_value(domain.fields["upath"], model, lemmas)
            src_name = field_value(uname, model, lemmas)
            if src_path is not None and src_name is not None:
                out["fedsource"] = arns.format(arns.UserArn(partition, values.get("acct", ""), src_path, src_name))
    uid = {PKind.USER: "uid", PKind.SESSION: "rid"}.get(kind)
    if uid is not None and uid in domain.fields:
        v = field_value(domain.fields[uid], model, lemmas)
        if v is not None:
            out["uid"] = v
    if kind in (PKind.USER, PKind.SESSION, PKind.FEDERATED):
        for name, present in sorted(domain.views_bool.items()):
            if name.startswith("p.tag.") and model[present]:
                v = field_value(domain.fields[name], model, lemmas)
                if v is not None:
                    out[f"tag:{name[len('p.tag.') :]}"] = v
    return out


def _role_declared(domain: Domain, account: str, name: str) -> bool:
    """Every environment of the check describes the role `name` of `account` (names are unique ignoring
    case); otherwise its path is an assumption for the environments that do not (the domain gives a role
    the path of the environments that describe it)."""
    return all(env.role_named(account, name) is not None for env in domain.environments)


def _encryption_context(context: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """kms:EncryptionContextKeys is derived by the evaluator from the kms:EncryptionContext:* entries: with
    entries, every listed name becomes an entry (spelled as listed) and the list is left out; without
    entries, the list stands on its own."""
    if not any(k.startswith("kms:encryptioncontext:") for k in context):
        return context
    out = dict(context)
    ec_keys = out.pop("kms:encryptioncontextkeys", ())
    spelled = {n.lower(): n for n in ec_keys}
    for k in [k for k in out if k.startswith("kms:encryptioncontext:")]:
        suffix = k.split(":", 2)[2]
        if suffix in spelled and spelled[suffix] != suffix:
            out[f"kms:encryptioncontext:{spelled[suffix]}"] = out.pop(k)
    have = {k.split(":", 2)[2].lower() for k in out if k.startswith("kms:encryptioncontext:")}
    for name in ec_keys:
        if name.lower() not in have:
            out[f"kms:encryptioncontext:{name}"] = ("example",)
            have.add(name.lower())
    return out


def _spelled(domain: Domain, context: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Context keys in their canonical spelling (keys are case-insensitive, so this changes no decision):
    `canonical_key` of the lower-case key, with the variable part (an encryption-context entry or a tag
    key) spelled as in the policies; an entry name the list of keys already spelled is kept."""
    out: dict[str, tuple[str, ...]] = {}
    for k, v in context.items():
        low = k.lower()
        written = domain.key_spelling.get(low)
        if k != low and low.startswith("kms:encryptioncontext:"):
            written = k  # spelled by kms:EncryptionContextKeys above
        out[canonical_key(low, written)] = v
    return out


@cache
@cache
def _catalogue_spellings(service: str) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """(exact key names by lower case, (lower-case prefix, prefix) of key families such as
    `kms:EncryptionContext:${EncryptionContextKey}` or `aws:PrincipalTag/`) of one service prefix, from the
    catalogue (`catalog.condition_key_names`), longest prefix first."""
    exact: dict[str, str] = {}
    families: list[tuple[str, str]] = []
    for name in condition_key_names(service):
        head, sep, _ = name.partition("${")
        if sep:
            families.append((head.lower(), head))
        elif name.endswith("/"):
            families.append((name.lower(), name))
        else:
            exact[name.lower()] = name
    families.sort(key=lambda f: -len(f[0]))
    return exact, tuple(families)


def canonical_key(low: str, written: str | None = None) -> str:
    """The spelling of context key `low` (lower case) in a counterexample: the catalogue's spelling of the
    key, or of a family's fixed prefix followed by the variable part as `written` in a policy; else the
    policy's spelling, else `low`."""
    exact, families = _catalogue_spellings(low.partition(":")[0])
    hit = exact.get(low)
    if hit is not None:
        return hit
    for prefix_low, prefix in families:
        if low.startswith(prefix_low) and len(low) > len(prefix_low):
            rest = written[len(prefix) :] if written is not None and written.lower() == low else low[len(prefix) :]
            return prefix + rest
    return written if written is not None else low


def principal_arn(kind: PKind, v: dict[str, str], partition: str = PARTITION) -> str:
    arn: arns.PrincipalArn
    if kind is PKind.ROOT:
        arn = arns.RootArn(partition, v["acct"])
    elif kind is PKind.USER:
        arn = arns.UserArn(partition, v["acct"], v["upath"], v["uname"])
    elif kind is PKind.SESSION:
        arn = arns.AssumedRoleArn(partition, v["acct"], v["role"], v["sess"])
    elif kind is PKind.FEDERATED:
        arn = arns.FederatedUserArn(partition, v["acct"], v["fed"])
    elif kind is PKind.ANONYMOUS:
        return "anonymous"
    elif kind is PKind.PROVIDER:
        return v["prov"]
    else:
        return v["svc"]
    return arns.format(arn)
