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
