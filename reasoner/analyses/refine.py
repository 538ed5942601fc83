"""The one refinement loop: solve, decode, add a lemma and retry, until a concrete request, a proof or a limit.

Input: a compiled environment and one query: an assumption literal, or a term asserted per check.
Output: `Refined`: SAT with a decoded request (not yet replayed), UNSAT, or UNKNOWN with the reason.
Guarantee: used by check, can-access, findings, diff and lint alike; at most `MAX_REFINEMENTS` rounds, every
solver call under the active `limits.budget`, every lemma a true fact about the policies' patterns (kept for
later queries), and the reasons worded by `limits`. A model whose policy-variable links no strings realise
(`DecodeError`) is not an answer: the query is asked again without that model's choice for the linked fields
(`decode.another_model`, for this query only, at most `MAX_OTHER_MODELS` times); an unsat answer under such
exclusions is UNKNOWN, never UNSAT.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner import limits
from reasoner.analyses.compiled import CompiledEnvironment
from reasoner.semantics.request import Request
from reasoner.symbolic import smt
from reasoner.symbolic.decode import DecodeError, another_model, decode_request
from reasoner.symbolic.domain import PKind
from reasoner.symbolic.solve import Model, Status
from reasoner.symbolic.strings import WitnessBudgetExceeded

#: Refinement rounds per query before answering UNKNOWN.
MAX_REFINEMENTS = 64
#: Other models asked for when the strings of a model's policy-variable links cannot be realised.
MAX_OTHER_MODELS = 8
@dataclass
class Refined:
    """The end of one refinement loop: SAT with a decoded request (not yet replayed), UNSAT, or UNKNOWN with
    the reason."""

    status: Status
    request: Request | None = None
    model: Model | None = None
    reason: str | None = None
def refine(
    compiled: CompiledEnvironment, lit: smt.Term | None, stats: dict[str, float], *, prefer_plain: bool = False,
    solver_stats: bool = False, query: smt.Term | None = None,
) -> Refined:
    """The one solve -> decode -> lemma -> retry loop (check, can-access, findings, diff and lint): at most
    `MAX_REFINEMENTS` rounds, every solver call under the active `limits.budget`. The query is the assumption
    literal `lit` (asserted `lit => term` by the caller), or the term `query` itself, asserted for each check
    only (`Solver.check(query=...)`: the solver does not grow with the properties checked on it; the atoms and
    definitions it refers to must have been flushed). `prefer_plain` asks once more, without federated users,
    when the model's caller is one (their requests read less plainly). `stats` receives the number of
    refinements, and Z3's statistics only with `solver_stats` (reading them costs about as much as a small
    query)."""
    d = compiled.domain
    lits = [] if lit is None else [lit]
    # choices of the linked fields whose strings could not be realised: excluded for this query only, so that the
    # solver offers another model; once one is, an unsat answer proves nothing (UNKNOWN with the first reason)
    others: list[smt.Term] = []
    failure: str | None = None
    for rounds in range(MAX_REFINEMENTS):
        limits.tick()
        asked = query if not others else smt.and_(query if query is not None else smt.TRUE, *others)
        out = compiled.solver.check(lits, query=asked, stats=solver_stats)
        stats.update(out.stats)
        stats["refinements"] = rounds
        if out.status is not Status.SAT:
            if others and out.status is Status.UNSAT:
                return Refined(Status.UNKNOWN, reason=failure)
            return Refined(out.status, reason=out.reason)
        assert out.model is not None
        if prefer_plain and out.model[d.pkind] == PKind.FEDERATED.value:
            plain = compiled.solver.check([*lits, compiled.not_federated()], query=asked, stats=solver_stats)
            if plain.status is Status.SAT and plain.model is not None:
                out = plain
                stats.update(out.stats)
        model = out.model
        assert model is not None
        try:
            decoded = decode_request(d, model)
        except DecodeError as exc:
            failure = failure or f"no concrete request for the model: {exc}"
            block = another_model(d, model) if len(others) < MAX_OTHER_MODELS else None
            if block is None:
                return Refined(Status.UNKNOWN, reason=failure)
            others.append(block)
            continue
        except WitnessBudgetExceeded as exc:
            return Refined(Status.UNKNOWN, reason=f"no concrete request for the model: {exc}")
        if decoded.request is None:
            compiled.solver.add_lemmas(decoded.lemmas)
            continue
        return Refined(Status.SAT, decoded.request, model)
    return Refined(Status.UNKNOWN, reason=f"no concrete request after {MAX_REFINEMENTS} refinements")
