"""The JSON Schema of manifests (schemas/environment.schema.json) accepts every bundled manifest and every field
of the loader, and rejects what the loader rejects for shape (issue 15 §4)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from reasoner.semantics.environment import Options

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "environment.schema.json").read_text())
MANIFESTS = sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "AWSTemplateFormatVersion" not in p.read_text())


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def test_the_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_manifest_is_valid(path: Path) -> None:
    data = json.loads(json.dumps(_yaml(path), default=str))  # YAML dates as text, as the loader reads them
    jsonschema.validate(data, SCHEMA)


def test_the_schema_knows_every_field_the_loader_reads() -> None:
    source = (ROOT / "reasoner" / "front" / "manifest.py").read_text()
    props = SCHEMA["properties"]
    assert set(props["options"]["properties"]) >= {f.name for f in dataclasses.fields(Options)}
    for section, fields in (("keys", ("arn", "policy", "grants", "aliases", "tags", "key_spec", "key_usage",
                                      "origin", "multi_region", "aws_managed")),
                            ("resources", ("arn", "account", "policy", "tags", "block_public_access",
                                           "shared_with", "attributes"))):
        assert set(props[section]["items"]["properties"]) == set(fields)
        assert all(f'"{f}"' in source for f in fields)


@pytest.mark.parametrize("bad", [
    {"keys": [{"arn": "arn:aws:kms:us-east-1:111122223333:key/x", "policy": "p.json", "polcy": 1}]},
    {"accounts": [{"id": 111122223333}]},
    {"principals": [{"policies": ["a.json"]}]},
    {"imports": [{"path": "a.yaml", "format": "pulumi"}]},
    {"vpc_endpoints": [{"id": "vpce-zz", "vpc": "vpc-1111aaaa", "service": "s3"}]},
])
def test_the_schema_rejects_what_the_loader_rejects(bad: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_the_documentation_shows_every_section() -> None:
    doc = (ROOT / "docs" / "environment.md").read_text()
    for section in SCHEMA["properties"]:
        assert re.search(rf"^### `{section}`$", doc, re.MULTILINE), section
