"""The policy front end over the shared corpus of real policies (../shared/corpus, `corpus_dir` fixture).

- Every policy document in the corpus parses: no syntax error and no exception, including the wild
  policies whose ARNs hold template placeholders such as `{{tf:var.account_id}}` (those may produce ARN or
  principal diagnostics, never a crash).
- The KMS guide's examples validate without errors; AWS managed policies fail only the customer-managed
  size limit (POL025) that does not bind AWS's own policies.
- The KMS guide examples whose index entry is `repaired` keep the doc's broken JSON in `original_text`: it
  must give a syntax error on the line of the first bug the index `notes` describe (see `_expected_line`).
Run with `-s` to see the summary: documents clean vs with errors, per folder and per code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reasoner.errors import Diagnostic
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_document
from tests.sweeps import parse_diagnostics

FOLDERS = ("kms-docs", "aws-docs-other", "iam-docs", "wild")
WILD_KINDS = {"key-policy": PolicyKind.KEY_POLICY, "resource-policy": PolicyKind.RESOURCE}


@dataclass(frozen=True)
class CorpusPolicy:
    name: str
    folder: str
    text: str
    kind: PolicyKind | None
    entry: dict[str, Any]


def wrap_statement(text: str) -> str:
    """A statement or statement list as a policy, on the same first line so line numbers are kept."""
    return '{"Version": "2012-10-17", "Statement": ' + text + "\n}"


def corpus_policies(corpus: Path) -> Iterator[CorpusPolicy]:
    """Every policy document of the corpus (statements wrapped into policies) with the kind of its index."""
    for folder in FOLDERS:
        for entry in json.loads((corpus / folder / "index.json").read_text(encoding="utf-8")):
            if not entry.get("file"):
                continue  # `not-extracted` entries
            path = corpus / folder / entry["file"]
            text = path.read_text(encoding="utf-8")
            if entry.get("kind") in ("statement", "statement-list"):
                text = wrap_statement(text)
            kind = WILD_KINDS.get(entry.get("kind", "")) if folder == "wild" else None
            yield CorpusPolicy(f"{folder}/{entry['file']}", folder, text, kind, entry)
    managed = json.loads((corpus / "managed" / "aws-managed-policies.json").read_text(encoding="utf-8"))
    for name, item in managed.items():
        text = json.dumps(item["document"], indent=2)
        yield CorpusPolicy(f"managed/{name}", "managed", text, PolicyKind.IDENTITY, item)


@pytest.fixture(scope="module")
def results(corpus_dir: Path) -> list[tuple[CorpusPolicy, list[Diagnostic]]]:
    out = []
    for pol in corpus_policies(corpus_dir):
        out.append((pol, list(parse_diagnostics(pol.text, pol.name, pol.kind))))
    return out


def test_every_corpus_policy_parses(results: list[tuple[CorpusPolicy, list[Diagnostic]]]) -> None:
    assert len(results) > 2000
    syntax = [str(d) for _, diags in results for d in diags if d.code == "PARSE001"]
    assert syntax == []
    _print_summary(results)


def _print_summary(results: list[tuple[CorpusPolicy, list[Diagnostic]]]) -> None:
    clean: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    by_code: Counter[tuple[str, str]] = Counter()
    docs_by_code: Counter[str] = Counter()
    for pol, diags in results:
        (failing if any(d.is_error for d in diags) else clean)[pol.folder] += 1
        for d in diags:
            by_code[(d.code, d.severity.value)] += 1
        for code in {d.code for d in diags}:
            docs_by_code[code] += 1
    print(
        f"\ncorpus: {len(results)} documents, {sum(clean.values())} without errors, "
        f"{sum(failing.values())} with errors"
    )
    for folder in (*FOLDERS, "managed"):
        print(f"  {folder:15} clean {clean[folder]:5}  with errors {failing[folder]:5}")
    for (code, sev), n in sorted(by_code.items()):
        print(f"  {code} {sev:8} {n:5} findings in {docs_by_code[code]:4} documents")


def test_kms_guide_examples_validate_cleanly(results: list[tuple[CorpusPolicy, list[Diagnostic]]]) -> None:
    errors = [str(d) for pol, diags in results if pol.folder == "kms-docs" for d in diags if d.is_error]
    assert errors == []


def test_managed_policies_only_exceed_the_customer_size_limit(
    results: list[tuple[CorpusPolicy, list[Diagnostic]]],
) -> None:
    codes = Counter(d.code for pol, diags in results if pol.folder == "managed" for d in diags if d.is_error)
    assert set(codes) <= {"POL025"}


#: error codes the documentation and the wild corpus legitimately produce: doc placeholders such as
#: `account-id`, template placeholders (`{{tf:...}}`), doc bugs (a Sid with spaces in an IAM policy, a
#: trust-policy-like SNS example without Resource) and deliberately broken security-tool test fixtures
CONTENT_CODES = {"POL004", "POL012", "POL015", "POL021", "POL022", "POL025", "POL026", "POL031", "POL034"}


def test_other_findings_are_content_not_structure(
    results: list[tuple[CorpusPolicy, list[Diagnostic]]],
) -> None:
    unexpected = [str(d) for _, diags in results for d in diags if d.is_error and d.code not in CONTENT_CODES]
    assert unexpected == []
    structural = [
        str(d)
        for pol, diags in results
        for d in diags
        if d.code in ("POL004", "POL015") and pol.folder != "wild"
    ]
    assert structural == []


def test_template_placeholders_never_crash(results: list[tuple[CorpusPolicy, list[Diagnostic]]]) -> None:
    with_placeholders = [(pol, diags) for pol, diags in results if "{{" in pol.text]
    assert len(with_placeholders) > 100
    for pol, diags in with_placeholders:
        for d in diags:
            assert d.code != "PARSE001", pol.name


# ---- repaired doc examples: the syntax error is on the right line ----------------------------------------

_BUG_PATTERNS: dict[str, re.Pattern[str]] = {
    # `"Action": "x"` then a newline and the next key without a comma: the error is at that next key
    "missing comma": re.compile(r'(?:"|\d|true|false|null|\]|\})[ \t]*\r?\n\s*(?P<at>")'),
    # `,` followed only by whitespace before a closing bracket: the error is at the bracket
    "trailing comma": re.compile(r",\s*(?P<at>[\]}])"),
    # `{"arn..."}` used as a list: after the string a `:` is expected, the `}` is the error
    "set literal": re.compile(r'\{\s*"[^"]*"\s*(?P<at>\})'),
    # `"Op": "key": value`: the second colon is the error
    '"Op": "key": value': re.compile(r'"[^"]*"\s*:\s*"[^"]*"\s*(?P<at>:)'),
}


def _expected_line(text: str, notes: list[str]) -> int:
    """Line of the first bug that the index notes describe; each note names one kind of doc bug."""
    offsets = []
    for note in notes:
        for marker, pattern in _BUG_PATTERNS.items():
            if marker in note:
                m = pattern.search(text)
                assert m is not None, f"note {note!r} but no such bug in the original text"
                offsets.append(m.start("at"))
    assert offsets, f"no known bug in notes {notes}"
    return text.count("\n", 0, min(offsets)) + 1


def _repaired(corpus: Path) -> list[dict[str, Any]]:
    index = json.loads((corpus / "kms-docs" / "index.json").read_text(encoding="utf-8"))
    return [e for e in index if e.get("status") == "repaired"]


def test_repaired_examples_fail_on_the_right_line(corpus_dir: Path) -> None:
    entries = _repaired(corpus_dir)
    assert len(entries) >= 8
    for entry in entries:
        text = entry["original_text"]
        doc, diags = parse_document(text, file=entry["file"])
        assert doc is None
        syntax = [d for d in diags if d.code == "PARSE001"]
        assert len(syntax) == 1, (entry["file"], [str(d) for d in diags])
        assert syntax[0].span.line == _expected_line(text, entry["notes"]), (entry["file"], str(syntax[0]))
        assert "unexpected" in syntax[0].message and ";" in syntax[0].message  # a friendly label is given
        # and the repaired version in the corpus parses
        fixed = (corpus_dir / "kms-docs" / entry["file"]).read_text(encoding="utf-8")
        if entry.get("kind") in ("statement", "statement-list"):
            fixed = wrap_statement(fixed)
        assert parse_document(fixed, file=entry["file"])[0] is not None


def test_expected_line_rule_on_known_examples() -> None:
    assert _expected_line('{\n "a": 1\n "b": 2\n}', ["doc bug: missing comma between members added"]) == 3
    assert _expected_line('{\n "a": 1,\n\n}', ["doc bug: trailing comma removed"]) == 4
    assert (
        _expected_line('{"R": {\n "arn"\n}}', ['doc bug: Resource written as {"arn..."} (set literal)']) == 3
    )
    text = '{"C": {\n "Bool": "k": true}}'
    assert _expected_line(text, ['doc bug: condition written as "Op": "key": value']) == 2
