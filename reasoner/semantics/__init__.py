"""Reference semantics: the environment model and the concrete evaluator (no Z3)."""
