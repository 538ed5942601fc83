"""Corpus sweeps: the full sweep or a deterministic, stratified sample, and one parse per corpus document.

The default suite (and CI) sweeps a sample that keeps every stratum of the corpus (issue 12: the suite stays under
5 minutes on 2 cores); `REASONER_FULL_SWEEPS=1` sweeps everything (tests/README.md "Corpus sweeps").

- `FULL_SWEEPS`: whether the environment asks for the full sweeps.
- `stratified_sample(items, strata, always)`: the items, in their order, that add a stratum not yet seen (the first
  item of every stratum), plus every item whose name is in `always`. Deterministic: the same input gives the same
  sample on every machine and run.
- `sample_key_policies(corpus, policies)`: the sample of the corpus key policies (`wild/` and `kms-docs/`, named
  `folder/file` as `benchmarks` names them) for the KMS sweeps, strata the folder, (folder, origin) and (folder,
  feature of the index), plus `KEY_POLICIES_ALWAYS`; every policy under `FULL_SWEEPS`.
- `parse_diagnostics(text, file, kind)`: `parse_and_validate`'s diagnostics, computed once per session for the same
  (text, file, kind): `corpus/test_corpus_parse.py` and `corpus/test_corpus_resources.py` both validate the AWS
  managed policies as identity policies, each asserting its own rule on the same diagnostics.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

from reasoner.errors import Diagnostic
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_and_validate

FULL_SWEEPS = os.environ.get("REASONER_FULL_SWEEPS", "") not in ("", "0")

T = TypeVar("T")


def stratified_sample(items: Iterable[T], strata: Callable[[T], Iterable[Hashable]], name: Callable[[T], str],
                      always: Iterable[str] = ()) -> list[T]:
    """The items that bring a stratum not seen before (in the items' order), and those named in `always`."""
    seen: set[Hashable] = set()
    keep = set(always)
    out = []
    for item in items:
        new = set(strata(item)) - seen
        if new or name(item) in keep:
            seen |= new
            out.append(item)
    return out


@cache
def parse_diagnostics(text: str, file: str, kind: PolicyKind | None) -> tuple[Diagnostic, ...]:
    return tuple(parse_and_validate(text, file=file, kind=kind)[1])


#: Key policies that found an engine bug, always in the sample: the undescribed role whose recorded path the encoding
#: matched by name only (InternalError in OnlyPrincipalsCan for kms:PutKeyPolicy, commit f503eac).
KEY_POLICIES_ALWAYS = ("wild/aws-cloudformation__aws-cloudformation-templates__1.json",
                       "wild/aws-cloudformation__aws-cloudformation-templates__3.json")


def sample_key_policies(corpus: Path, policies: list[tuple[str, T]]) -> list[tuple[str, T]]:
    """The (name, document) pairs of the KMS sweeps' sample (module docstring); all of them under FULL_SWEEPS."""
    if FULL_SWEEPS:
        return policies
    entries: dict[str, dict[str, object]] = {}
    for folder in ("wild", "kms-docs"):
        for entry in json.loads((corpus / folder / "index.json").read_text(encoding="utf-8")):
            if entry.get("file"):
                entries[f"{folder}/{entry['file']}"] = entry

    def strata(item: tuple[str, T]) -> list[tuple[str, ...]]:
        folder = item[0].split("/", 1)[0]
        entry = entries.get(item[0], {})
        features = entry.get("features", [])
        return [(folder,), (folder, "origin", str(entry.get("origin_type", ""))),
                *((folder, "feature", str(f)) for f in (features if isinstance(features, list) else []))]

    return stratified_sample(policies, strata, lambda item: item[0], KEY_POLICIES_ALWAYS)
