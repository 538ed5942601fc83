"""SARIF output in tests: every SARIF document a test produces is validated against the vendored OASIS schema
(`tests/data/sarif-schema-2.1.0.json`), so no SARIF test depends on files outside the repository or skips."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def valid_sarif(text: str) -> dict[str, Any]:
    """The SARIF document `text`, after checking it against the SARIF 2.1.0 schema (raises if it is not valid)."""
    doc: dict[str, Any] = json.loads(text)
    _validator().validate(doc)
    return doc


# ---- GitHub's ingestion rules ----------------------------------------------------------------------------
# From GitHub's documentation of code scanning ("SARIF support for code scanning" and "SARIF results exceed
# limits"): at most 20 runs per file, 25,000 results and 25,000 rules per run, 1,000 locations per result and
# 20 tags per rule (more is rejected), 10 MB gzip-compressed per file; `ruleId` is the same across analyses and
# names a rule of the driver; a rule has `id`, `shortDescription.text`, `fullDescription.text` and `help.text`;
# `properties.security-severity` is a string holding a score from 0.0 to 10.0 (9.0 and above critical, 7.0
# high, 4.0 medium, 0.1 low) and is read for rules tagged `security`; each location has
# `physicalLocation.artifactLocation.uri` and `region.startLine`; `partialFingerprints` identify a result
# across runs; the category of `automationDetails.id` is everything before its last `/`. A `uriBaseId` must be
# defined in `run.originalUriBaseIds`, whose URIs end with `/` (SARIF 2.1.0 §3.14.14).

GITHUB_LIMITS = {"runs": 20, "results": 25_000, "rules": 25_000, "locations": 1_000, "tags": 20,
                 "gzip_bytes": 10 * 1024 * 1024}


def github_ingestible(text: str) -> dict[str, Any]:
    """The document `text`, after checking the schema and GitHub's ingestion rules (raises AssertionError)."""
    import gzip

    doc = valid_sarif(text)
    assert len(gzip.compress(text.encode("utf-8"))) <= GITHUB_LIMITS["gzip_bytes"]
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    assert 1 <= len(doc["runs"]) <= GITHUB_LIMITS["runs"]
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        assert driver["name"] and driver.get("version")
        rules = driver.get("rules", [])
        assert len(rules) <= GITHUB_LIMITS["rules"]
        ids = [r["id"] for r in rules]
        assert len(ids) == len(set(ids)), f"rule ids repeat: {ids}"
        for r in rules:
            assert r["shortDescription"]["text"] and r["fullDescription"]["text"], r["id"]
            assert r["help"]["text"] and r["help"].get("markdown"), r["id"]
            assert r["helpUri"].startswith("https://"), r["id"]
            props = r["properties"]
            severity = props["security-severity"]
            assert isinstance(severity, str) and 0.0 <= float(severity) <= 10.0, (r["id"], severity)
            assert "security" in props["tags"] and len(props["tags"]) <= GITHUB_LIMITS["tags"]
        automation = run.get("automationDetails", {}).get("id")
        if automation is not None:
            assert "/" in automation and automation.rsplit("/", 1)[0], automation
        bases = run.get("originalUriBaseIds", {})
        for base in bases.values():
            assert base["uri"].startswith("file://") and base["uri"].endswith("/"), base
        results = run["results"]
        assert len(results) <= GITHUB_LIMITS["results"]
        for res in results:
            assert res["ruleId"] in ids, res["ruleId"]
            if "ruleIndex" in res:
                assert ids[res["ruleIndex"]] == res["ruleId"]
            assert res["message"]["text"]
            fingerprints = res["partialFingerprints"]
            assert fingerprints and all(isinstance(v, str) and v for v in fingerprints.values())
            assert len(res.get("locations", [])) <= GITHUB_LIMITS["locations"]
            for loc in [*res.get("locations", []), *res.get("relatedLocations", [])]:
                physical = loc["physicalLocation"]
                artifact = physical["artifactLocation"]
                assert artifact["uri"]
                if "uriBaseId" in artifact:
                    assert artifact["uriBaseId"] in bases
                assert physical["region"]["startLine"] >= 1
            for s in res.get("suppressions", []):
                assert s["kind"] in ("inSource", "external") and s.get("justification")
        for invocation in run.get("invocations", []):
            assert isinstance(invocation["executionSuccessful"], bool)
            for n in invocation.get("toolExecutionNotifications", []):
                assert n["message"]["text"] and n["level"] in ("error", "warning", "note", "none")
    return doc
