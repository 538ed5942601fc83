"""Renderers, one module per result kind: `results` (check: text, JSON, SARIF, JUnit, GitHub, notebooks),
`diagnostics` (validate), `findings`, `diff`, `hygiene` (lint); and what they share: `shapes` (the JSON
of spans and requests) and `sarif` (the one SARIF writer: document, locations, file URIs)."""
