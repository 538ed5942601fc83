"""The batch runner behind `reasoner scan` (and `--jobs` of findings, lint and check): work units, their cache
and the executors that run them (docs/scan.md)."""
