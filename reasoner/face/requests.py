"""Requests for `reasoner decide`: from the command line or a counterexample's JSON, with what they assume.

Input: `--principal/--action/--resource/--context` values, `--assume KEY=VALUE` items (a key of
`Request.assumed`: `org`, `orgpath`, `uid`, `rolepath`, `region`, `fedsource`, `keyorg`, `keyorgpath`,
`tag:K`, or the name `check`'s text output prints after `assuming`), and a `--request FILE`: the
`counterexample` object of `check --format json`, one result holding it, or a whole report holding exactly one.
Output: a `Request` with its `assumed` facts (`request_from`), and `decide(env, request, worst_case=...)`: the
decision `check` replays for it (`explain.augment_all`, then `evaluate.evaluate`) and the assumptions that
decision rests on, as `Reason`s of role "rule".
Guarantee: one function replays `check`'s counterexamples and answers `decide`, so a counterexample passed back
with its assumptions gets the decision `check` printed for it; a caller of an account whose IAM is not given
gets the worst case (`Options.unknown_iam_worst_case`) unless `worst_case=False`. Bad input is an `InputError`
with `file:line:col` (REQ001 for the request file, INPUT004 for a command-line value).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reasoner.analyses.explain import augment_all
from reasoner.errors import InputError, Severity, register_code
from reasoner.semantics.environment import Environment
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Evaluation, Reason, Request
from reasoner.source import Span

REQUEST_FILE = register_code("REQ001", Severity.ERROR, "request file (decide --request) unusable")
_BAD_ARGUMENT = "INPUT004"

#: The keys of `Request.assumed` (explain.augment_caller, augment_key_owner) and how `check`'s text output
#: names them after `assuming` (render/results.py).
ASSUMED_KEYS: Mapping[str, str] = {
    "org": "organization of the caller's account",
    "orgpath": "its path under the organization",
    "uid": "unique id of the caller",
    "rolepath": "path of the caller's role",
    "region": "opt-in Region enabled by the caller's account",
    "fedsource": "IAM user behind the federated user",
    "keyorg": "organization of the key's owner account",
    "keyorgpath": "its path under the organization",
}


def assumed_key(name: str, previous: str | None = None) -> str | None:
    """The `Request.assumed` key that `name` (a key, or the text output's name for it) stands for. "its path
    under the organization" follows the organization it belongs to (`previous`: the key given before it)."""
    n = " ".join(name.split())
    low = n.lower()
    if low.startswith("tag:") and len(n) > 4:
        return "tag:" + n[4:]
    if low.startswith("principal tag ") and len(n) > len("principal tag "):
        return "tag:" + n[len("principal tag "):]
    if low in ASSUMED_KEYS:
        return low
    if low == ASSUMED_KEYS["orgpath"]:
        return "keyorgpath" if previous in ("keyorg", "keyorgpath") else "orgpath"
    for key, text in ASSUMED_KEYS.items():
        if low == text.lower():
            return key
    return None


def parse_assume(items: Iterable[str]) -> dict[str, str]:
    """`--assume KEY=VALUE` items as `Request.assumed` facts."""
    out: dict[str, str] = {}
    previous: str | None = None
    for item in items:
        name, sep, value = item.partition("=")
        key = assumed_key(name, previous) if sep else None
        if key is None:
            known = ", ".join([*ASSUMED_KEYS, "tag:KEY"])
            raise InputError(f"assumption `{item}` is not of the form KEY=VALUE with a KEY of {known}",
                             help="copy an `assuming NAME = VALUE` line of `reasoner check` as "
                                  "--assume 'NAME=VALUE', or use the key of `assumed` in its JSON output",
                             code=_BAD_ARGUMENT)
        out[key] = value.strip()
        previous = key
    return out


def parse_context(items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """`--context KEY=VALUE` items (a key repeated for a multivalued key)."""
    context: dict[str, tuple[str, ...]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"context `{item}` is not of the form KEY=VALUE", code=_BAD_ARGUMENT)
        context[name.strip()] = (*context.get(name.strip(), ()), value)
    return context


# ---- a request file ----------------------------------------------------------------------------------------


def _fail(path: str, message: str, line: int = 1, col: int = 1, help: str | None = None) -> InputError:
    return InputError(message, code=REQUEST_FILE, span=Span.point(path, line, col), help=help)


def _strings(path: str, value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(path, f"{what} must be a string or a list of strings")


def _counterexample(path: str, doc: Any) -> dict[str, Any]:
    """The counterexample object in a `check --format json` document, a result, or the object itself."""
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        found = [r["counterexample"] for r in doc["results"]
                 if isinstance(r, dict) and isinstance(r.get("counterexample"), dict)]
        if len(found) != 1:
            raise _fail(path, f"the report holds {len(found)} counterexamples, not one",
                        help="pass one result, e.g. `jq '.results[0]' report.json > one.json`")
        return found[0]
    if isinstance(doc, dict) and "counterexample" in doc:
        if not isinstance(doc["counterexample"], dict):
            raise _fail(path, "this result has no counterexample (only a refuted assertion has one)")
        return doc["counterexample"]
    if isinstance(doc, dict) and "principal" in doc:
        return doc
    raise _fail(path, "not a counterexample: expected the JSON of `reasoner check --format json` (a report, a "
                      "result, or its `counterexample` object with principal, action, resource, context, assumed)")


def read_request(path: str) -> Request:
    """The request of a counterexample in the JSON file `path` (module docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "not readable as UTF-8"
        raise _fail(path, f"cannot read the request file `{path}`: {reason}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"request file is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (ValueError, RecursionError):
        raise _fail(path, "request file is not valid JSON") from None
    cx = _counterexample(path, doc)
    fields: dict[str, str] = {}
    for name in ("principal", "action", "resource"):
        value = cx.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, f"the counterexample has no `{name}` string")
        fields[name] = value
    context_doc = cx.get("context") or {}
    assumed_doc = cx.get("assumed") or {}
    if not isinstance(context_doc, dict) or not isinstance(assumed_doc, dict):
        raise _fail(path, "`context` and `assumed` must be JSON objects")
    context = {str(k): _strings(path, v, f"context key `{k}`") for k, v in context_doc.items()}
    assumed: dict[str, str] = {}
    for k, v in assumed_doc.items():
        key = assumed_key(str(k))
        if key is None or not isinstance(v, str):
            raise _fail(path, f"unknown assumption `{k}` (expected one of {', '.join(ASSUMED_KEYS)}, tag:KEY)")
        assumed[key] = v
    return Request(fields["principal"], fields["action"], fields["resource"], context, assumed)


def request_from(
    principal: str | None,
    action: str | None,
    resource: str | None,
    *,
    context: Mapping[str, tuple[str, ...]] | None = None,
    assumed: Mapping[str, str] | None = None,
    request_file: str | None = None,
) -> Request:
    """The request to decide: the file's counterexample (when given) with the values given here replacing its
    principal, action and resource and adding to its context and assumptions."""
    base = read_request(request_file) if request_file is not None else None
    missing = [n for n, v in (("--principal", principal), ("--action", action), ("--resource", resource))
               if v is None and base is None]
    if missing:
        raise InputError(f"decide needs {', '.join(missing)} (or --request FILE)", code=_BAD_ARGUMENT)
    ctx = dict(base.context) if base is not None else {}
    for k, v in (context or {}).items():
        ctx[k] = v
    facts = {**(base.assumed if base is not None else {}), **(assumed or {})}
    return Request(
        principal if principal is not None else base.principal,  # type: ignore[union-attr]
        action if action is not None else base.action,  # type: ignore[union-attr]
        resource if resource is not None else base.resource,  # type: ignore[union-attr]
        ctx,
        facts,
    )


# ---- the decision --------------------------------------------------------------------------------------------


def decide(env: Environment, request: Request, *, worst_case: bool = True) -> tuple[Evaluation, tuple[Reason, ...]]:
    """The decision on `request` as `check` replays its counterexamples (`explain.replay`): in the environment
    extended by what the request assumes about a caller or key owner the environment does not describe, and,
    for a caller of an account whose IAM is not given, with identity policies that allow everything
    (`Options.unknown_iam_worst_case`; `worst_case=False` turns it off for this decision). Returns the
    evaluation and the assumptions it rests on."""
    if not worst_case and env.options.unknown_iam_worst_case:
        env = replace(env, options=replace(env.options, unknown_iam_worst_case=False))
    extended, notes = augment_all(env, request)
    return evaluate(extended, request), tuple(notes)


def assumption_lines(notes: Iterable[Reason]) -> list[str]:
    """How the text output says what a decision assumes."""
    return [f"assuming {n.note}" for n in notes]


__all__ = ["ASSUMED_KEYS", "REQUEST_FILE", "assumed_key", "assumption_lines", "decide", "parse_assume",
           "parse_context", "read_request", "request_from"]
