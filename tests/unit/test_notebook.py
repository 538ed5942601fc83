"""examples/notebook.ipynb walks the seed page (the KMS guide's "Allowing users in other accounts to use a KMS key")
end to end in a real Jupyter kernel (nbclient + ipykernel), and its outputs show what the page claims
(semantics §4.3): the key policy naming the external account is a finding; key policy and IAM policy together
allow, neither alone does; naming roles limits what the external account can delegate; key management does not
cross accounts; the statements that cannot work are redundant (lint); moving from the account to named
principals removes access (diff). Each of `findings`, `decide`, `check`, `lint`, `diff` shows its Markdown,
HTML (statements marked in their policies) and text forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def _outputs(cell: Any) -> dict[str, str]:
    """All text of a code cell's outputs by MIME type (stream text under `stream`)."""
    out: dict[str, str] = {}
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out["stream"] = out.get("stream", "") + o["text"]
        elif o["output_type"] == "error":
            raise AssertionError(f"cell raised {o['ename']}: {o['evalue']}")
        else:
            for mime, data in o.get("data", {}).items():
                out[mime] = out.get(mime, "") + ("".join(data) if isinstance(data, list) else data)
    return out


def test_notebook_executes_with_expected_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" is ipykernel's own kernel; jupyter_client starts it with this interpreter
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [_outputs(c) for c in code]

    keys = outputs[0]["text/plain"]
    assert "key/1234abcd-12ab-34cd-56ef-1234567890ab" in keys and "key/0987dcba" in keys

    # step 1: the key policy names the external account: one finding, on the shared key, proved complete
    findings = outputs[1]
    assert findings["text/markdown"].startswith("**EXTERNAL ACCESS**: 1 finding(s) on 2 key(s)")
    row = next(x for x in findings["text/markdown"].splitlines() if x.startswith("| `arn:aws:kms:"))
    assert "key/1234abcd" in row and "| `account 444455556666` |" in row and "kms:Decrypt" in row
    assert findings["text/plain"] == "Findings(1 finding(s) on 2 key(s), 0 public, complete)"
    assert '<mark class="stmt" data-file="seed/key-policy.json" data-line="12">' in findings["text/html"]

    # step 2: key policy and IAM policy together allow; neither alone does; naming roles limits delegation
    allowed = outputs[2]
    assert allowed["text/markdown"].startswith("**ALLOW**")
    assert "`Allow an external account to use this KMS key`" in allowed["text/markdown"]
    assert "`AllowUseOfKeyInAccount111122223333`" in allowed["text/markdown"]
    assert allowed["text/html"].count('<mark class="stmt"') >= 2  # both statements marked in their policies
    assert outputs[3]["text/markdown"].startswith("**IMPLICIT_DENY**")
    assert outputs[4]["text/plain"] == "('ALLOW', 'IMPLICIT_DENY')"

    external = outputs[5]
    assert external["text/markdown"].startswith("**REFUTED**")
    principal_row = next(x for x in external["text/markdown"].splitlines() if x.startswith("| principal |"))
    assert ":444455556666:" in principal_row  # a principal of the external account
    assert "<table>" in external["text/html"] and "REFUTED" in external["text/html"]
    assert external["text/plain"].startswith("CheckResult(REFUTED")
    assert "Responsible statements" in external["text/markdown"]
    assert '"Sid": "Allow an external account to use this KMS key"' in external["text/markdown"]  # snippet

    verdict = " ".join(outputs[6]["text/plain"].split())  # IPython wraps long tuples
    assert verdict.startswith("(<Verdict.REFUTED: 'REFUTED'>, 'arn:aws:") and ":444455556666:" in verdict
    assert verdict.endswith("'kms:Decrypt')")

    assert outputs[7]["text/markdown"].startswith("**PROVED**")
    assert outputs[8]["text/markdown"].startswith("**PROVED**")  # key management does not cross accounts
    assert outputs[9]["stream"].startswith("CheckResult(PROVED: arn:aws:iam::444455556666:role/ExampleRole")
    assert outputs[9]["text/plain"] == "True"

    lint = outputs[10]["text/markdown"]
    assert lint.startswith("**2 ISSUE(S)**") and lint.count("| HYG004 |") == 2
    assert "Ineffective: key management is not usable across accounts" in lint

    change = outputs[11]
    assert change["stream"].startswith("- account 444455556666 can no longer kms:Decrypt")
    assert "DIFFERENT: 0 class(es) added, 1 removed" in change["stream"]
    assert change["text/plain"] == "<ExitStatus.FINDINGS: 1>"
