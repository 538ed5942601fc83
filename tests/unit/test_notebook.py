"""examples/notebook.ipynb runs top to bottom in a real Jupyter kernel (nbclient + ipykernel), and its
outputs show the verdicts the seed scenario must produce (semantics §4.3: a key policy naming an external
account plus an IAM policy in that account allow the external principal; nobody outside both accounts)."""

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

    external = outputs[1]
    assert external["text/markdown"].startswith("**REFUTED**")
    principal_row = next(x for x in external["text/markdown"].splitlines() if x.startswith("| principal |"))
    assert ":444455556666:" in principal_row  # a principal of the external account
    assert "<table>" in external["text/html"] and "REFUTED" in external["text/html"]
    assert external["text/plain"].startswith("CheckResult(REFUTED")
    assert "Responsible statements" in external["text/markdown"]
    assert '"Sid": "Allow an external account to use this KMS key"' in external["text/markdown"]  # snippet

    verdict = " ".join(outputs[2]["text/plain"].split())  # IPython wraps long tuples
    assert verdict.startswith("(<Verdict.REFUTED: 'REFUTED'>, 'arn:aws:") and ":444455556666:" in verdict
    assert verdict.endswith("'kms:Decrypt')")

    assert outputs[3]["text/markdown"].startswith("**PROVED**")
    assert outputs[4]["stream"].startswith("CheckResult(PROVED: arn:aws:iam::444455556666:role/ExampleRole")
    assert outputs[4]["text/plain"] == "True"
