"""`reasoner scan` over a generated organisation (issue 17): time, throughput, peak memory, cache-hit rerun,
and the Dask LocalCluster beside the process pool, in one run.

Input: the policy corpus (`benchmarks/org.py` draws the key, bucket and trust policies from it), the budget
(`tiny`, the smoke test's: 2 accounts and 2 keys, no Dask run; `quick`: 20 accounts and 200 keys, full: 200
accounts and 10,000 keys, or `$REASONER_BENCH_SCAN_KEYS` keys over `$REASONER_BENCH_SCAN_ACCOUNTS` accounts).
Output: `run(corpus_dir, quick, tiny) -> dict` (shape of benchmarks/README.md): `resources`, `generate_s`,
`pool_s`, `pool_resources_per_s`, `pool_max_rss_mb` (the largest process of the run: the parent or a worker),
`rerun_s` (the same command again: every record from the cache), `dask_s` and `dask_resources_per_s` (the
same scan on a `dask:local` LocalCluster of 2 single-threaded workers, cold cache), `dask_equals_pool` (1 when
the two JSON-lines outputs are byte-equal), `small_max_rss_mb` (the same scan of an organisation with a
quarter of the keys) and `memory_growth` (pool_max_rss_mb / small_max_rss_mb: flat is 1), and
`projected_10000_s` (10,000 resources at the measured rate); `unit_cpu_ms` (CPU per unit of sampled units in
one process, `unit_cpu`: independent of the load) and `projected_cpu_10000_s` (10,000 such units on 2 workers).
Guarantee: every run is the installed console script in a subprocess (`reasoner scan ... --jobs 2`), timed
from outside (`runner.run_child`), with findings, lint and the three properties per resource type of
`org.PROPERTIES`; a run whose exit status is not 0, 1 or 3 (something found or unknown is a normal result of a
scan) is an error of the section, never a figure.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any


def _spec(quick: bool, tiny: bool) -> Any:
    from benchmarks.org import OrgSpec

    if tiny:
        return OrgSpec(accounts=2, keys=2)
    keys = os.environ.get("REASONER_BENCH_SCAN_KEYS")
    accounts = os.environ.get("REASONER_BENCH_SCAN_ACCOUNTS")
    if keys or accounts:
        return OrgSpec(accounts=int(accounts or 200), keys=int(keys or 10_000))
    return OrgSpec(accounts=20, keys=200) if quick else OrgSpec()


def _scan(script: str, org: Path, props: Path, out: Path, cache: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, max RSS MB) of one `reasoner scan` run."""
    from benchmarks.runner import run_child

    argv = [script, "scan", str(org), "--properties", str(props), "--root", str(org), "--jobs", "2",
            "--cache", str(cache), "--format", f"jsonl={out}", "--quiet", *extra]
    wall, status, rss = run_child(argv, timeout=4 * 3600)
    if status not in (0, 1, 3):
        raise RuntimeError(f"`{' '.join(argv)}` exited with {status}")
    return wall, rss


#: Units whose CPU time `unit_cpu_ms` averages (every n-th unit of the organisation, in order).
UNIT_SAMPLE = 40


def unit_cpu(org: Path, sample: int = UNIT_SAMPLE) -> tuple[float, int]:
    """(CPU milliseconds per unit, units) of `sample` units spread over the organisation's, analysed in this
    process as a worker does (`units.analyse` then `units.record`, findings, lint and the properties): the
    CPU a unit costs, independent of the machine's load and of how many workers share it."""
    from reasoner.batch.units import Job, ScanOptions, analyse, record
    from reasoner.face import scan
    from reasoner.face.api import load_subject

    inputs = [str(org)]
    envs = [load_subject(str(org / "environment.yaml"), root=str(org))]
    assertions = scan.collect_assertions([str(org / "checks.access")], inputs, envs, root=str(org), loader=None)
    units = scan.plan_units(envs, inputs, assertions)
    job = Job(tuple(envs), tuple(inputs), ScanOptions())
    picked = units[::max(1, len(units) // sample)][:sample]
    start = time.process_time()
    for u in picked:
        record(job, u, analyse(job, u))
    return 1000 * (time.process_time() - start) / len(picked), len(picked)


def run(corpus_dir: str | Path, quick: bool = False, tiny: bool = False) -> dict[str, Any]:
    from benchmarks.org import OrgSpec, write_org, write_properties
    from benchmarks.runner import Skip, console_script

    script = console_script()
    if script is None:
        raise Skip("the `reasoner` console script is not installed")
    spec = _spec(quick, tiny)
    figures: dict[str, Any] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="reasoner-bench-scan-") as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        info = write_org(spec, Path(corpus_dir), base / "org")
        figures["generate_s"] = time.perf_counter() - t0
        props = write_properties(base / "org")
        figures["resources"] = info.resources
        figures["unit_cpu_ms"], sampled = unit_cpu(base / "org")
        figures["projected_cpu_10000_s"] = 10_000 * figures["unit_cpu_ms"] / 1000 / 2
        notes.append(f"unit_cpu_ms: CPU per unit of {sampled} units spread over the organisation, in one process "
                     f"(projected_cpu_10000_s: 10,000 such units on 2 workers, nothing else running)")
        notes.append(f"{spec.label}: {info.keys} keys, {info.buckets} buckets, {info.roles} roles over "
                     f"{spec.accounts} accounts (+ the management account), SCPs on 4 OUs; "
                     f"{info.policies_skipped} corpus policies skipped (invalid after rewriting)")
        pool_out, dask_out = base / "pool.jsonl", base / "dask.jsonl"
        wall, rss = _scan(script, base / "org", props, pool_out, base / "cache.sqlite")
        figures["pool_s"] = wall
        figures["pool_resources_per_s"] = info.resources / wall
        figures["pool_max_rss_mb"] = rss
        figures["projected_10000_s"] = 10_000 / (info.resources / wall)
        wall, _ = _scan(script, base / "org", props, base / "rerun.jsonl", base / "cache.sqlite")
        figures["rerun_s"] = wall
        if (base / "rerun.jsonl").read_bytes() != pool_out.read_bytes():
            raise RuntimeError("the cached rerun's records differ from the first run's")
        if tiny:  # the smoke test's budget: tests/unit/test_scan.py checks that Dask gives the pool's records
            notes.append("dask: skipped in the smoke budget (--tiny)")
            return {"figures": figures, "notes": notes}
        try:
            import distributed  # noqa: F401
        except ImportError:
            notes.append("dask: skipped: Dask distributed is not installed (pip install 'aws-policy-reasoner[dask]')")
        else:
            wall, _ = _scan(script, base / "org", props, dask_out, base / "dask.sqlite", "--executor", "dask:local")
            figures["dask_s"] = wall
            figures["dask_resources_per_s"] = info.resources / wall
            figures["dask_equals_pool"] = float(dask_out.read_bytes() == pool_out.read_bytes())
        small = OrgSpec(spec.accounts, max(1, spec.keys // 4), spec.buckets_per_account, spec.roles_per_account,
                        spec.seed)
        small_info = write_org(small, Path(corpus_dir), base / "small")
        small_props = write_properties(base / "small")
        _, small_rss = _scan(script, base / "small", small_props, base / "small.jsonl", base / "small.sqlite")
        figures["small_max_rss_mb"] = small_rss
        figures["memory_growth"] = {"value": figures["pool_max_rss_mb"] / small_rss, "unit": "x", "better": "lower"}
        notes.append(f"memory: {small_info.resources} resources -> {small_rss:.0f} MB, {info.resources} -> "
                     f"{figures['pool_max_rss_mb']:.0f} MB (largest process of the run)")
        lines = pool_out.read_text(encoding="utf-8").count("\n")
        if lines != info.resources:
            raise RuntimeError(f"{lines} records for {info.resources} resources")
    return {"figures": figures, "notes": notes}
