"""Renderers: results (text, JSON, SARIF, JUnit, notebooks) and diagnostics."""
