"""SARIF 2.1.0: the one writer of every command's SARIF output (`check`, `findings`, `diff`, `lint`).

Input: the rules and result objects of one command (built by its renderer), and spans.
Output: the document text (`document`), rules (`rule`, `code_rules`), results located on a span (`result`),
locations (`location`) and file URIs (`artifact_uri`).
Guarantee: every command's document has one frame: `$schema`, `version`, one run whose tool driver is
`reasoner` with its version and the command's rules, then its results. Every location is a physical location
with one URI rule and one region shape: the URI is the file relative to the base directory (by default the
working directory, from which `reasoner` runs in CI) with forward slashes and percent-encoded, or an absolute
`file://` URI for a file outside it; the region is the span's lines and columns (1-based). The documents
validate against the SARIF 2.1.0 schema (tests/data/sarif-schema-2.1.0.json).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from reasoner.errors import CODES
from reasoner.source import Span
from reasoner.version import __version__

__all__ = ["artifact_uri", "base_dir", "code_rules", "document", "location", "result", "rule"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def base_dir(base: str | Path | None) -> Path:
    """The directory URIs are relative to: `base`, else the working directory."""
    return Path(base) if base is not None else Path.cwd()


def artifact_uri(path: str, base: Path) -> str:
    """The URI of a span's file: relative to `base` (a relative path is taken as relative to it already), with
    forward slashes, percent-encoded; `file://` and absolute for a file outside `base`."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(base)
        except ValueError:
            return p.as_uri()
    return quote(PurePath(p).as_posix())


def location(span: Span, base: Path, text: str | None = None) -> dict[str, Any]:
    """A physical location on `span`, with an optional message."""
    loc: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": artifact_uri(span.file, base)},
        "region": {"startLine": max(1, span.line), "startColumn": max(1, span.col),
                   "endLine": max(span.line, span.end_line), "endColumn": max(1, span.end_col)},
    }}
    if text:
        loc["message"] = {"text": text}
    return loc


def rule(rule_id: str, text: str, *, name: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A reporting descriptor: id, optional name, short description, optional default level."""
    out: dict[str, Any] = {"id": rule_id}
    if name is not None:
        out["name"] = name
    out["shortDescription"] = {"text": text}
    if level is not None:
        out["defaultConfiguration"] = {"level": level}
    return out


def code_rules(codes: Iterable[str]) -> list[dict[str, Any]]:
    """The rules of registered diagnostic codes (`errors.register_code`), described by their titles."""
    return [rule(code, CODES[code][1]) for code in codes]


def result(rule_id: str, level: str, message: str, span: Span | None, base: Path) -> dict[str, Any]:
    """A result of `rule_id`, located on `span` when there is one."""
    out: dict[str, Any] = {"ruleId": rule_id, "level": level, "message": {"text": message}}
    if span is not None:
        out["locations"] = [location(span, base)]
    return out


def document(rules: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]], *,
             properties: Mapping[str, Any] | None = None) -> str:
    """The SARIF document of one run (with the run's `properties`, if any), as text."""
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "reasoner", "version": __version__, "rules": list(rules)}},
        "results": list(results),
    }
    if properties is not None:
        run["properties"] = dict(properties)
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
