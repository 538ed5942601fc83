"""One shape for every command's machine output (render/shapes.py, render/sarif.py; docs/cli.md "JSON shapes").

Every command is run in process on the bundled examples, from the repository root as CI runs it:
- SARIF (`check`, `findings`, `diff`, `lint`): each document validates against the vendored SARIF 2.1.0 schema,
  has the same frame (tool driver, version), and every location follows one rule: its URI is the file
  relative to the SARIF root, here the repository (`uriBaseId` SRCROOT; no scheme, forward slashes,
  percent-encoded; the file exists there) and its region has the span's four 1-based numbers; the files are
  those the command's JSON names;
- JSON (`validate`, `decide`, `check`, `findings`, `diff`, `lint`): every span is one object
  `{"file", "line", "col", "end_line", "end_col"}` under a key of its own, never spread into its parent, and
  each output has at least one (so the test is not vacuous).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from reasoner.face.cli import main
from reasoner.face.render.sarif import Context, artifact_uri
from reasoner.version import __version__
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: Each command on inputs whose output has spans (a refuted assertion, findings, a difference, issues).
COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("check", "examples/org/failing"),
    "findings": ("findings", "examples/org/environment.yaml"),
    "findings of a key policy": ("findings", "examples/seed/key-policy.json"),
    "diff": ("diff", "examples/org/environment.yaml", "examples/org/proposed/environment.yaml"),
    "lint": ("lint", "examples/org/environment.yaml"),
    "lint of a key policy": ("lint", "examples/seed/key-policy.json", "--separation-of-duties"),
}
JSON_ONLY: dict[str, tuple[str, ...]] = {
    "validate": ("validate", "examples/org/keys/app-data.json", "tests/golden/validate/key--lints.json"),
    "decide": ("decide", "examples/seed/environment.yaml", "--principal",
               "arn:aws:sts::444455556666:assumed-role/ExampleRole/app", "--action", "kms:Decrypt",
               "--resource", KEY),
}
SPAN_KEYS = {"file", "line", "col", "end_line", "end_col"}
#: Keys that give a span (or a piece of one) away, whatever its spelling.
SPAN_WORDS = {"line", "col", "column", "end_line", "end_col", "end_column", "startLine", "startColumn"}
REGION_KEYS = {"startLine", "startColumn", "endLine", "endColumn"}


@cache
def run(name: str, fmt: str) -> dict[str, Any]:
    argv = {**COMMANDS, **JSON_ONLY}[name]
    out, err = io.StringIO(), io.StringIO()
    cwd = Path.cwd()
    os.chdir(ROOT)  # as CI runs it: from the repository root
    try:
        status = main([*argv, "--format", fmt], out, err)
    finally:
        os.chdir(cwd)
    assert status in (0, 1), (argv, status, err.getvalue())
    text = out.getvalue()
    return valid_sarif(text) if fmt == "sarif" else json.loads(text)


def walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def spans(doc: Any) -> list[dict[str, Any]]:
    return [d for d in walk(doc) if SPAN_WORDS & d.keys()]


def locations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [d["physicalLocation"] for d in walk(doc) if "physicalLocation" in d]


# ---- JSON ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*COMMANDS, *JSON_ONLY])
def test_every_json_output_spells_spans_one_way(name: str) -> None:
    found = spans(run(name, "json"))
    assert found, f"`{name}` has no span to check"
    for span in found:
        assert span.keys() == SPAN_KEYS, f"`{name}`: span spelled {sorted(span)}"
        assert isinstance(span["file"], str)
        assert all(isinstance(span[k], int) and span[k] >= 1 for k in SPAN_KEYS - {"file"}), span


# ---- SARIF -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_every_sarif_output_has_one_frame_one_uri_rule_and_one_region_shape(name: str) -> None:
    doc = run(name, "sarif")  # validated against the schema
    assert doc["version"] == "2.1.0" and doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("reasoner", __version__)
    rule_ids = {r["id"] for r in driver["rules"]}
    assert run_["results"] and all(r["ruleId"] in rule_ids for r in run_["results"])
    found = locations(doc)
    assert found, f"`{name}` has no location to check"
    json_files = {s["file"] for s in spans(run(name, "json"))}
    assert run_["originalUriBaseIds"]["SRCROOT"]["uri"] == ROOT.as_uri() + "/"
    for loc in found:
        uri = loc["artifactLocation"]["uri"]
        assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert not urlsplit(uri).scheme and not uri.startswith("/") and "\\" not in uri, uri
        path = unquote(uri)
        assert artifact_uri(path, Context(name, ROOT, ROOT)) == (uri, "SRCROOT")  # encoded once, by one rule
        assert (ROOT / path).is_file(), f"`{name}`: {uri} is not a file relative to the working directory"
        assert path in json_files, f"`{name}`: {uri} is not a file its JSON names ({sorted(json_files)})"
        region = loc["region"]
        assert region.keys() == REGION_KEYS and all(isinstance(v, int) and v >= 1 for v in region.values())


def test_the_uri_rule() -> None:
    base = Path("/work/repo")
    ctx = Context("check", base, base)
    assert artifact_uri("keys/app data%.json", ctx) == ("keys/app%20data%25.json", "SRCROOT")
    assert artifact_uri("/work/repo/keys/k.json", ctx) == ("keys/k.json", "SRCROOT")  # inside the root: relative
    assert artifact_uri("/elsewhere/k.json", ctx) == ("file:///elsewhere/k.json", None)  # outside: a file URI
    # run from a subdirectory: a span relative to the working directory is still relative to the root
    assert artifact_uri("keys/k.json", Context("check", base, base / "policies")) == ("policies/keys/k.json",
                                                                                      "SRCROOT")
    assert artifact_uri("../keys/k.json", Context("check", base, base / "sub")) == ("keys/k.json", "SRCROOT")
