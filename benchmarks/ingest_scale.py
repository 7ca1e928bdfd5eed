"""Scale benchmark for ingestion and governance (issue: the whole graph on DuckDB).

Generates N simulated events (default 1,000,000), then measures, in one run:
  * the bare DuckDB scan of the same files (count(*) and sum(revenue) per file, same readers),
  * raw_events (every file, one partition each) through Dagster, in-process,
  * the governance dbt models (event_dispositions, quarantined_events, guarded_sessions, bridge),
and prints rows/s, wall time and peak RSS (this process plus children, sampled from /proc) per
stage, with ratios against the bare scan.

    python benchmarks/ingest_scale.py [--events 10000000] [--formats csv,parquet,jsonl.gz] [--files 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except OSError:
                continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


class PeakMemory:
    """Samples the process tree's RSS every 50 ms while the block runs."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet,jsonl.gz")
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="keep data here (default: a temp dir)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtm-bench-"))
    data = workdir / "data"
    os.environ["GTM_DATA_DIR"] = str(data)
    os.environ["GTM_DUCKDB_PATH"] = str(data / "bench.duckdb")
    for stale in data.glob("bench.duckdb*"):
        stale.unlink()

    import dagster as dg
    import duckdb

    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events
    from gtm_assets.defs.resources import resources
    from gtm_assets.landing import EVENT_COLUMNS, _reader, is_event_file
    # Generate in a child process so the simulator's arrays do not inflate this process's RSS.
    started = time.perf_counter()
    command = [sys.executable, "-m", "gtm_assets.simulate", "--out", str(data), "--events", str(args.events), "--formats", args.formats]
    subprocess.run(command + (["--files", str(args.files)] if args.files else []), check=True, stdout=subprocess.DEVNULL)
    truth = json.loads((data / "ground_truth.json").read_text())
    generate_s = time.perf_counter() - started
    files = sorted(p for p in (data / "landing" / "events").iterdir() if is_event_file(p))
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    rows = truth["counts"]["raw_rows"]
    print(f"generated {rows:,} events in {len(files)} files ({size_mb:,.0f} MB) in {generate_s:.1f} s")

    with PeakMemory() as memory:
        started = time.perf_counter()
        conn = duckdb.connect(config={"memory_limit": "2GB", "threads": 2})
        for path in files:
            reader, _ = _reader(path, columns=EVENT_COLUMNS)
            conn.execute(f"SELECT count(*), sum(try_cast(revenue AS DOUBLE)) FROM {reader}").fetchone()
        conn.close()
        bare_s = time.perf_counter() - started
    bare_peak = memory.peak

    res = resources().resources
    stages = []
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(landing_event_files.name, [p.name for p in files])
        with PeakMemory() as memory:
            started = time.perf_counter()
            for path in files:
                assert dg.materialize([raw_events], partition_key=path.name, instance=instance, resources=res).success
            stages.append(("raw_events", time.perf_counter() - started, memory.peak))
        with PeakMemory() as memory:
            started = time.perf_counter()
            governance = ["event_dispositions", "quarantined_events", "session_raw_rows", "guarded_sessions"]
            result = dg.materialize([gtm_dbt_models], selection=governance, instance=instance, resources=res)
            assert result.success
            stages.append(("guarded_sessions (dbt governance models)", time.perf_counter() - started, memory.peak))

    print(f"\n{'stage':<42} {'wall s':>8} {'rows/s':>12} {'peak RSS MB':>12} {'x bare scan':>12}")
    print(f"{'bare DuckDB scan (count, sum revenue)':<42} {bare_s:>8.1f} {rows / bare_s:>12,.0f} {bare_peak / 1e6:>12,.0f} {1.0:>12.2f}")
    for name, seconds, peak in stages:
        print(f"{name:<42} {seconds:>8.1f} {rows / seconds:>12,.0f} {peak / 1e6:>12,.0f} {seconds / bare_s:>12.2f}")
    total = sum(s for _, s, _ in stages)
    print(f"{'raw_events + guarded_sessions':<42} {total:>8.1f} {rows / total:>12,.0f} {max(p for *_, p in stages) / 1e6:>12,.0f} {total / bare_s:>12.2f}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
