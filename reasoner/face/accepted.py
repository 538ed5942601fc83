"""Accepted findings and baselines: what a team has decided to live with, and what it had already seen.

Input: an accepted-findings file (YAML, docs/accepted-findings.md): `version: 1` and a list `accepted` of
entries, each naming what it accepts (a `resource` pattern with a `principal` class, `actions` and `conditions`
for findings; `codes` for lint issues; an `assertion` name for check) and why (`reason`, `accepted_by`,
optional `expires`); a baseline (`--baseline`: the JSON output of an earlier run of the same command, whose
items carry their `fingerprint`); and the items of this run.
Output: `load` (the entries, or one-line errors with `file:line:col`, codes ACC001/ACC002), `read_baseline`
(the fingerprints of a JSON report) and `triage` (a `Triage`: which items are accepted and by which entry,
which were in the baseline, which entries have expired and which match nothing).
Guarantee: an entry accepts an item only if every field it gives matches (a finding with more actions than an
entry lists is not accepted: that is new access); an expired entry (its `expires` date is before `today`)
accepts nothing and fails the run (exit status 1, `Triage.expired`); an entry that matches nothing is a warning
(ACC003), never an error. Unknown verdicts are never accepted: only refuted assertions, findings and issues are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from reasoner.errors import InputError, Severity, register_code
from reasoner.face.identity import Item, fingerprint
from reasoner.face.render.sarif import Notification, Suppression
from reasoner.face.report import Report
from reasoner.source import Span

__all__ = [
    "ACCEPTED_EXPIRED",
    "ACCEPTED_FILE",
    "ACCEPTED_UNUSED",
    "BASELINE_FILE",
    "Acceptance",
    "Triage",
    "load",
    "read_baseline",
    "triage",
]

ACCEPTED_FILE = register_code("ACC001", Severity.ERROR, "accepted-findings file unusable")
ACCEPTED_EXPIRED = register_code("ACC002", Severity.ERROR, "acceptance expired")
ACCEPTED_UNUSED = register_code("ACC003", Severity.WARNING, "acceptance matches nothing")
BASELINE_FILE = register_code("ACC004", Severity.ERROR, "baseline file unusable")

_FIELDS = ("id", "resource", "principal", "actions", "conditions", "codes", "assertion", "reason", "accepted_by",
           "expires")


@dataclass(frozen=True)
class Acceptance:
    """One entry of an accepted-findings file; `span` is where it is written."""

    span: Span
    reason: str
    accepted_by: str
    id: str | None = None
    resource: str | None = None  # a key ARN or a pattern with `*` and `?`
    principal: str | None = None  # `any`, `account ID`, `organization o-...`, `service NAME` or an ARN pattern
    actions: tuple[str, ...] = ()  # patterns; every action of a finding must match one; () = any action
    conditions: tuple[str, ...] | None = None  # as the text output writes them; None = any conditions
    codes: tuple[str, ...] = ()  # FND001, HYG004, ...; () = any code
    assertion: str | None = None  # the name of an assertion of a property file (check)
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    @property
    def label(self) -> str:
        return self.id or f"{self.span.file}:{self.span.line}"

    def matches(self, item: Item) -> bool:
        """Whether this entry accepts `item` (module docstring)."""
        if isinstance(item, Report):
            from reasoner.analyses.result import Verdict

            return (self.assertion is not None and self.assertion == item.name
                    and item.verdict is Verdict.REFUTED)
        if self.assertion is not None:
            return False
        from reasoner.analyses.findings import Finding
        from reasoner.analyses.hygiene import Issue

        if isinstance(item, Finding):
            return (self._code(item.code) and self._resource(item.key)
                    and self._principal(item.principal.kind, item.principal.value)
                    and all(any(fnmatchcase(a.lower(), p.lower()) for p in self.actions) or not self.actions
                            for a in item.actions)
                    and (self.conditions is None
                         or sorted(self.conditions) == sorted(str(c) for c in item.conditions)))
        if isinstance(item, Issue):
            return (self.principal is None and not self.actions and self.conditions is None
                    and self._code(item.code) and self._resource(item.key))
        return False

    def _code(self, code: str) -> bool:
        return not self.codes or code in self.codes

    def _resource(self, resource: str) -> bool:
        return self.resource is None or fnmatchcase(resource, self.resource)

    def _principal(self, kind: str, value: str) -> bool:
        if self.principal is None:
            return True
        word, _, rest = self.principal.partition(" ")
        if self.principal == "any":
            return kind == "any"
        if word in ("account", "organization", "service"):
            if word == "account" and kind == "arn":  # an accepted account covers its principals
                parts = value.split(":")
                return len(parts) > 4 and parts[4] == rest
            return kind == word and fnmatchcase(value, rest)
        return kind == "arn" and fnmatchcase(value, self.principal)


@dataclass(frozen=True)
class Triage:
    """The accepted and the known items of one run, by fingerprint, and the state of the entries."""

    accepted: Mapping[str, Acceptance] = field(default_factory=dict)
    baseline: frozenset[str] | None = None  # the fingerprints of the baseline, when one was given
    expired: tuple[Acceptance, ...] = ()
    unused: tuple[Acceptance, ...] = ()

    def counts(self, item: Item) -> bool:
        """Whether `item` still fails the run: neither accepted nor in the baseline."""
        fp = fingerprint(item)
        return fp not in self.accepted and (self.baseline is None or fp not in self.baseline)

    def suppression(self, item: Item) -> Suppression | None:
        entry = self.accepted.get(fingerprint(item))
        if entry is None:
            return None
        return Suppression(f"{entry.reason} (accepted by {entry.accepted_by}"
                           + (f", until {entry.expires.isoformat()}" if entry.expires else "") + ")",
                           f"{entry.span.file}:{entry.span.line}")

    def baseline_state(self, item: Item) -> str | None:
        if self.baseline is None:
            return None
        return "unchanged" if fingerprint(item) in self.baseline else "new"

    def notifications(self) -> list[Notification]:
        """An error per expired entry, a warning per entry that matches nothing."""
        out = [Notification("error", ACCEPTED_EXPIRED,
                            f"acceptance `{e.label}` expired on {e.expires}: it accepts nothing until it is "
                            "renewed or removed", e.span) for e in self.expired]
        out += [Notification("warning", ACCEPTED_UNUSED,
                             f"acceptance `{e.label}` matches nothing in this run", e.span) for e in self.unused]
        return out

    def summary(self, items: Sequence[Item]) -> str:
        """`N accepted, M in the baseline` for the items of this run (empty when nothing is triaged)."""
        parts = []
        accepted = sum(fingerprint(i) in self.accepted for i in items)
        if self.accepted or self.expired or self.unused:
            parts.append(f"{accepted} accepted")
        if self.baseline is not None:
            parts.append(f"{sum(fingerprint(i) in self.baseline for i in items)} in the baseline")
        return ", ".join(parts)


def triage(items: Iterable[Item], entries: Sequence[Acceptance] = (), baseline: frozenset[str] | None = None, *,
           today: date | None = None) -> Triage:
    """Match every entry against every item (the first live entry that matches accepts it)."""
    day = today or date.today()
    items = list(items)
    live = [e for e in entries if not e.expired(day)]
    accepted: dict[str, Acceptance] = {}
    used: set[int] = set()
    for item in items:
        for n, entry in enumerate(live):
            if entry.matches(item):
                accepted.setdefault(fingerprint(item), entry)
                used.add(n)
    unused = tuple(e for n, e in enumerate(live) if n not in used)
    return Triage(accepted, baseline, tuple(e for e in entries if e.expired(day)), unused)


# ---- reading -----------------------------------------------------------------------------------------------


def _span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    end_col = max(e.column + 1, s.column + 2) if e.line == s.line else e.column + 1
    return Span(file, s.line + 1, s.column + 1, e.line + 1, end_col)


def _fail(file: str, node: yaml.Node, message: str, help: str | None = None) -> InputError:
    return InputError(message, span=_span(file, node), code=ACCEPTED_FILE, help=help)


def _text(file: str, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(file, node, f"{what} must be a non-empty string")
    return str(node.value).strip()


def _texts(file: str, node: yaml.Node, what: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (_text(file, node, what),)
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(file, node, f"{what} must be a string or a list of strings")
    return tuple(_text(file, n, f"an item of {what}") for n in node.value)


def _principal(file: str, node: yaml.Node) -> str:
    text = " ".join(_text(file, node, "`principal`").split())
    if text in ("*", "any"):
        return "any"
    word, _, rest = text.partition(" ")
    if word in ("account", "organization", "service") and rest:
        return f"{word} {rest}"
    if text.isdigit() and len(text) == 12:
        return f"account {text}"
    if text.startswith("arn:"):
        return text
    raise _fail(file, node, f"`principal` `{text}` is not a principal class",
                help="write `any`, `account 111122223333`, `organization o-...`, `service NAME` or an ARN "
                     "(patterns with `*` allowed)")


def _entry(file: str, node: yaml.Node) -> Acceptance:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(file, node, "an acceptance must be a mapping")
    fields: dict[str, yaml.Node] = {}
    for k, v in node.value:
        name = _text(file, k, "a field name")
        if name not in _FIELDS:
            raise _fail(file, k, f"unknown field `{name}` in an acceptance", help="expected one of: "
                        + ", ".join(_FIELDS))
        if name in fields:
            raise _fail(file, k, f"field `{name}` is given twice")
        fields[name] = v
    for required in ("reason", "accepted_by"):
        if required not in fields:
            raise _fail(file, node, f"an acceptance has no `{required}`",
                        help="every acceptance says why (`reason`) and who decided (`accepted_by`)")
    if "resource" not in fields and "assertion" not in fields:
        raise _fail(file, node, "an acceptance names no `resource` (findings, lint) and no `assertion` (check)")
    if "assertion" in fields and any(f in fields for f in ("resource", "principal", "actions", "conditions")):
        raise _fail(file, fields["assertion"], "an `assertion` acceptance takes no resource, principal, actions "
                    "or conditions: it accepts the refutation of the named assertion")
    expires = None
    if "expires" in fields:
        raw = _text(file, fields["expires"], "`expires`")
        try:
            expires = date.fromisoformat(raw)
        except ValueError:
            raise _fail(file, fields["expires"], f"`expires` `{raw}` is not a date",
                        help="write the date as YYYY-MM-DD") from None
    return Acceptance(
        span=_span(file, node),
        reason=_text(file, fields["reason"], "`reason`"),
        accepted_by=_text(file, fields["accepted_by"], "`accepted_by`"),
        id=_text(file, fields["id"], "`id`") if "id" in fields else None,
        resource=_text(file, fields["resource"], "`resource`") if "resource" in fields else None,
        principal=_principal(file, fields["principal"]) if "principal" in fields else None,
        actions=_texts(file, fields["actions"], "`actions`") if "actions" in fields else (),
        conditions=(tuple(" ".join(c.split()) for c in _texts(file, fields["conditions"], "`conditions`"))
                    if "conditions" in fields else None),
        codes=_texts(file, fields["codes"], "`codes`") if "codes" in fields else (),
        assertion=_text(file, fields["assertion"], "`assertion`") if "assertion" in fields else None,
        expires=expires,
    )


def _read(path: str, code: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "not readable as UTF-8"
        raise InputError(f"cannot read the {what} `{path}`: {reason}", code=code,
                         span=Span.point(path, 1, 1)) from None


def load(path: str) -> tuple[Acceptance, ...]:
    """The entries of the accepted-findings file `path` (module docstring); an `InputError` (ACC001) at the
    offending place otherwise."""
    text = _read(path, ACCEPTED_FILE, "accepted-findings file")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span.point(path, mark.line + 1, mark.column + 1) if mark else Span.point(path, 1, 1)
        problem = getattr(exc, "problem", None) or "not valid yaml"
        raise InputError(f"accepted-findings file is not valid yaml: {' '.join(str(problem).split())}",
                         span=span, code=ACCEPTED_FILE) from None
    except RecursionError:
        raise InputError("accepted-findings file is nested too deeply", span=Span.point(path, 1, 1),
                         code=ACCEPTED_FILE) from None
    if root is None:
        return ()
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "an accepted-findings file is a mapping with `version: 1` and `accepted:`")
    top = {_text(path, k, "a field name"): v for k, v in root.value}
    for name, node in top.items():
        if name not in ("version", "accepted"):
            raise _fail(path, node, f"unknown field `{name}` at the top of the accepted-findings file",
                        help="expected `version` and `accepted`")
    if "version" not in top or _text(path, top["version"], "`version`") != "1":
        raise _fail(path, top.get("version", root), "an accepted-findings file starts with `version: 1`")
    entries = top.get("accepted")
    if entries is None or (isinstance(entries, yaml.ScalarNode) and entries.value in ("", "null", "~")):
        return ()
    if not isinstance(entries, yaml.SequenceNode):
        raise _fail(path, entries, "`accepted` must be a list of acceptances")
    return tuple(_entry(path, n) for n in entries.value)


def read_baseline(path: str) -> frozenset[str]:
    """The fingerprints of the items of an earlier JSON report of the same command (`--format json`): every
    `fingerprint` field anywhere in it."""
    text = _read(path, BASELINE_FILE, "baseline")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(f"baseline `{path}` is not a JSON report of reasoner (`--format json`)",
                         code=BASELINE_FILE, span=Span.point(path, 1, 1)) from None
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            fp = value.get("fingerprint")
            if isinstance(fp, str):
                found.add(fp)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(doc)
    if not isinstance(doc, dict) or not ({"results", "keys", "issues", "added"} & doc.keys()):
        raise InputError(f"baseline `{path}` is not a JSON report of reasoner (`--format json`)",
                         code=BASELINE_FILE, span=Span.point(path, 1, 1))
    return frozenset(found)
