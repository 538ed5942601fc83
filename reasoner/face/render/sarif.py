"""SARIF 2.1.0 for code scanning: the one writer of every command's SARIF output (`validate`, `check`, `findings`,
`diff`, `lint`), also when the input is bad.

Input: the rules and results of one command (built by its renderer from `rules.describe` and the items'
`identity.fingerprint`), the spans they sit on, a `Context` (where URIs are relative to), the run's exit status
and its input errors (`Notification`s).
Output: the document text (`document`), reporting descriptors (`rule`), results (`result`), locations
(`location`), file URIs (`artifact_uri`).
Guarantee: every document has one frame: `$schema`, `version`, one run whose tool driver is `reasoner` with its
version, its documentation URI and the rules its results use; `automationDetails.id` (`reasoner/COMMAND/`, the
code-scanning category is what comes before the last slash); `originalUriBaseIds` naming the SARIF root; one
invocation with the exit status, `executionSuccessful` (false for an input or internal error, statuses 2 and
4) and every input error as a `toolExecutionNotification`. So a document exists, with zero results, when the
input could not be used. Every location is a physical location with one URI rule and one region shape: the
URI is the file relative to the SARIF root (`Context.root`, by default the git repository of the working
directory, else the working directory), with `uriBaseId` `SRCROOT`, forward slashes and percent-encoding, or an
absolute `file://` URI for a file outside it; the region is the span's lines and columns (1-based). Every
result has `partialFingerprints` (`reasoner/v1`: what the result is, not where; `identity.py`) and, when it is
accepted, a `suppressions` entry with the justification. Every rule has short and full descriptions, `help`
(text and Markdown), `helpUri` and `properties.security-severity`. The documents validate against the SARIF
2.1.0 schema and GitHub's ingestion rules (tests/unit/test_sarif.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from reasoner.errors import Severity
from reasoner.source import Span
from reasoner.version import __version__

__all__ = ["DOCS_URL", "FINGERPRINT_KEY", "REPO_URL", "SCHEMA_URI", "SRCROOT", "Context", "Notification", "Suppression",
           "artifact_uri", "default_root", "document", "location", "result", "rule"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: The project's repository: `helpUri` of every rule is a page of it (docs/rules.md, grammars/README.md).
REPO_URL = "https://github.com/aws-policy-reasoner/reasoner/blob/main/"
DOCS_URL = REPO_URL + "docs/"
#: The base id of every relative URI.
SRCROOT = "SRCROOT"
#: The key of `partialFingerprints`.
FINGERPRINT_KEY = "reasoner/v1"
#: GitHub's hard limits per run (results beyond them reject the upload); the writer keeps below them.
MAX_RESULTS = 25_000
MAX_LOCATIONS = 1_000


def default_root(cwd: Path | None = None) -> Path:
    """The SARIF root when `--sarif-root` is not given: the git repository of `cwd` (the nearest directory at or
    above it with a `.git` entry), else `cwd` itself."""
    from reasoner.front.confine import find_root

    return find_root(cwd or Path.cwd())


@dataclass(frozen=True)
class Context:
    """Where a document's paths are relative to: `root` (the SARIF root) and `cwd` (what relative span file
    names are relative to, the working directory), and the command's name for `automationDetails`."""

    command: str = "check"
    root: Path = field(default_factory=default_root)
    cwd: Path = field(default_factory=Path.cwd)

    @staticmethod
    def at(command: str, root: str | Path | None = None, cwd: str | Path | None = None) -> Context:
        here = Path(os.path.abspath(cwd)) if cwd is not None else Path.cwd()
        base = Path(os.path.realpath(root)) if root is not None else default_root(here)
        return Context(command, base, here)


@dataclass(frozen=True)
class Notification:
    """An input or internal error of the run (or a warning about the run's inputs), for the invocation."""

    level: str  # error | warning | note
    code: str
    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Suppression:
    """Why a result is suppressed: an accepted-findings entry (`external`: the file outside the source)."""

    justification: str
    where: str  # file:line of the entry
    kind: str = "external"


def artifact_uri(path: str, ctx: Context) -> tuple[str, str | None]:
    """The URI of a span's file and its base id: relative to the SARIF root (`SRCROOT`), with forward slashes,
    percent-encoded; `file://` and absolute (no base id) for a file outside the root. A relative `path` is
    relative to the working directory `ctx.cwd`."""
    p = Path(path)
    absolute = Path(os.path.normpath(p if p.is_absolute() else ctx.cwd / p))
    for base in (ctx.root, Path(os.path.realpath(ctx.root))):
        try:
            rel = absolute.relative_to(base)
        except ValueError:
            continue
        return quote(PurePath(rel).as_posix()), SRCROOT
    real = Path(os.path.realpath(absolute))
    try:
        return quote(PurePath(real.relative_to(os.path.realpath(ctx.root))).as_posix()), SRCROOT
    except ValueError:
        return absolute.as_uri(), None


def location(span: Span, ctx: Context, text: str | None = None) -> dict[str, Any]:
    """A physical location on `span`, with an optional message."""
    uri, base = artifact_uri(span.file, ctx)
    artifact: dict[str, Any] = {"uri": uri}
    if base is not None:
        artifact["uriBaseId"] = base
    loc: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": artifact,
        "region": {"startLine": max(1, span.line), "startColumn": max(1, span.col),
                   "endLine": max(span.line, span.end_line, 1), "endColumn": max(1, span.end_col)},
    }}
    if text:
        loc["message"] = {"text": text}
    return loc


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def rule(rule_id: str, *, level: str | None = None, severity: Severity | None = None) -> dict[str, Any]:
    """The reporting descriptor of `rule_id` (`rules.describe`), with its default level (`level`, else the
    catalogue severity's)."""
    from reasoner.face.render.rules import describe  # (only when a document is written: not at start-up)

    text = describe(rule_id, severity)
    default = level or (_LEVEL[severity] if severity is not None else "warning")
    return {
        "id": text.id,
        "name": text.name,
        "shortDescription": {"text": text.short},
        "fullDescription": {"text": text.full},
        "help": {"text": text.help_text, "markdown": f"**{text.short}**\n\n{text.full}\n\n{text.help}"},
        "helpUri": REPO_URL + text.doc,
        "defaultConfiguration": {"level": default},
        "properties": {"tags": ["security", "aws-iam"], "security-severity": f"{text.severity:.1f}"},
    }


def result(rule_id: str, level: str, message: str, span: Span | None, ctx: Context, *, fingerprint: str,
           related: Sequence[tuple[Span, str]] = (), locations: Sequence[tuple[Span, str | None]] = (),
           properties: Mapping[str, Any] | None = None, suppression: Suppression | None = None,
           baseline: str | None = None) -> dict[str, Any]:
    """A result of `rule_id` located on `locations` (else on `span`, when there is one), with its fingerprint,
    related locations, properties, suppression and `baselineState` (`new` / `unchanged`)."""
    out: dict[str, Any] = {"ruleId": rule_id, "level": level, "message": {"text": message}}
    placed = [location(s, ctx, t) for s, t in locations][:MAX_LOCATIONS] if locations else (
        [location(span, ctx)] if span is not None else [])
    if placed:
        out["locations"] = placed
    if related:
        out["relatedLocations"] = [{"id": i, **location(s, ctx, t)} for i, (s, t) in enumerate(related)]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    if suppression is not None:
        out["suppressions"] = [{"kind": suppression.kind, "status": "accepted",
                                "justification": suppression.justification,
                                "properties": {"acceptedIn": suppression.where}}]
    if baseline is not None:
        out["baselineState"] = baseline
    if properties:
        out["properties"] = dict(properties)
    return out


def _notification(n: Notification, ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {"level": n.level, "message": {"text": f"{n.code} {n.message}"},
                           "descriptor": {"id": n.code}}
    if n.span is not None:
        out["locations"] = [location(n.span, ctx)]
    return out


def document(rules: Iterable[Mapping[str, Any]], results: Sequence[Mapping[str, Any]], ctx: Context, *,
             exit_code: int, notifications: Sequence[Notification] = (),
             properties: Mapping[str, Any] | None = None) -> str:
    """The SARIF document of one run, as text: the command's `rules`, then any other rule its results use
    (each once, results indexed into them), and at most `MAX_RESULTS` results."""
    by_id = {r["id"]: r for r in rules}
    used = list(dict.fromkeys(r["ruleId"] for r in results))
    listed = [dict(by_id[i]) if i in by_id else rule(i) for i in dict.fromkeys([*by_id, *used])]
    index = {r["id"]: n for n, r in enumerate(listed)}
    placed = [{**r, "ruleIndex": index[r["ruleId"]]} for r in results[:MAX_RESULTS]]
    invocation: dict[str, Any] = {"executionSuccessful": exit_code not in (2, 4), "exitCode": exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = [_notification(n, ctx) for n in notifications]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "reasoner", "version": __version__, "semanticVersion": __version__,
                            "informationUri": DOCS_URL, "rules": listed}},
        "automationDetails": {"id": f"reasoner/{ctx.command}/"},
        "originalUriBaseIds": {SRCROOT: {"uri": ctx.root.as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": placed,
    }
    if properties is not None:
        run["properties"] = dict(properties)
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
