"""Analyses on the symbolic core: properties, check, explanation, findings, diff and hygiene."""
