"""Benchmarks for reasoner: one runner (`python -m benchmarks`) that measures every stage on the corpus and on
generated policies, against baselines in the same run. See benchmarks/README.md.

Not collected by the default pytest run (`testpaths = ["tests"]`); `tests/test_bench_smoke.py` runs it on a
tiny budget to check that it works.
"""
