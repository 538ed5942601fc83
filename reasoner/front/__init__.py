"""Front end: policy text and manifests -> typed AST and environments, with spans and diagnostics."""
