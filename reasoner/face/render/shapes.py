"""The JSON shapes that every JSON output shares (docs/cli.md, "JSON shapes").

Input: spans and requests.
Output: `span_json` (`{"file", "line", "col", "end_line", "end_col"}`, the names of `Span`'s fields) and
`request_json` (`{"principal", "action", "resource", "context"}`, context keys sorted, each a list).
Guarantee: the only writers of these shapes: every span in the JSON of `validate`, `decide`, `check`,
`findings`, `diff` and `lint` is one `span_json` object under a key of its own (`span`, `location`), never
spread into its parent, so a consumer reads spans one way. SARIF locations are `render/sarif.py`'s.
"""

from __future__ import annotations

from typing import Any

from reasoner.semantics.request import Request
from reasoner.source import Span

__all__ = ["request_json", "span_json"]


def span_json(span: Span) -> dict[str, Any]:
    return {"file": span.file, "line": span.line, "col": span.col, "end_line": span.end_line,
            "end_col": span.end_col}


def request_json(request: Request) -> dict[str, Any]:
    return {
        "principal": request.principal,
        "action": request.action,
        "resource": request.resource,
        "context": {k: list(v) for k, v in sorted(request.context.items())},
    }
