"""How long `gtm trace` takes, on the bundled sample and on a large simulated world.

Simulates N events (default 10,000,000) into a temporary data dir (with the repo's brand guide,
customer table and prospects), materializes the whole graph there with `gtm run`, then times in one
run, each as a separate process (`farm-bench`-style: the whole command, several runs, min/median):
  * a baseline: a read-only DuckDB open plus `SELECT count(*), count(DISTINCT source_file) FROM raw.raw_events`,
  * `gtm trace` of the whole newest payload,
  * `gtm trace --line N` for one ad line and for the largest audience line,
and prints seconds and the ratio to the baseline.

    python benchmarks/trace_scale.py [--events 10000000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _timed(command: list[str], env: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the world and warehouse in this folder")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="gtm-trace-"))
    data = work / "data"
    env = {
        **os.environ,
        "GTM_DATA_DIR": str(data),
        "GTM_DUCKDB_PATH": str(data / "gtm.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "GTM_DUCKDB_MEMORY_LIMIT": os.environ.get("GTM_DUCKDB_MEMORY_LIMIT", "2GB"),
    }
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    if not (data / "gtm.duckdb").exists():
        data.mkdir(parents=True, exist_ok=True)
        for name in ("brand_guide.yaml", "marketing_campaign.csv"):
            shutil.copy(REPO / "data" / name, data / name)
        shutil.copytree(REPO / "data" / "landing" / "prospects", data / "landing" / "prospects", dirs_exist_ok=True)
        files = max(2, args.events // 2_500_000)
        started = time.perf_counter()
        subprocess.run(
            [
                BIN / "gtm",
                "simulate",
                "--out",
                str(data),
                "--events",
                str(args.events),
                "--files",
                str(files),
                "--formats",
                "csv,parquet",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"simulated {args.events:,} events in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        subprocess.run([BIN / "gtm", "run"], env=env, check=True, capture_output=True)
        print(f"gtm run (whole graph) in {time.perf_counter() - started:.0f} s")

    import duckdb

    with duckdb.connect(str(data / "gtm.duckdb"), read_only=True) as db:
        payload_id = db.execute("SELECT payload_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1").fetchone()[0]
        ad_line = db.execute(
            "SELECT min(line_number) FROM main.dsp_payload WHERE payload_id = ? AND line_type = 'ad'", [payload_id]
        ).fetchone()[0]
        audience_line = db.execute(
            "SELECT p.line_number FROM main.dsp_payload p JOIN main.audiences a ON a.audience_id = p.object_id "
            "WHERE p.payload_id = ? ORDER BY a.members DESC LIMIT 1",
            [payload_id],
        ).fetchone()[0]
        raw_rows = db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0]
    baseline = [
        sys.executable,
        "-c",
        "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('SELECT count(*), count(DISTINCT source_file) FROM raw.raw_events').fetchone())",
        str(data / "gtm.duckdb"),
    ]
    cases = {
        "baseline: read-only open + count(*) over raw_events": baseline,
        "gtm trace (whole payload)": [str(BIN / "gtm"), "trace", payload_id],
        f"gtm trace --line {ad_line} (an ad)": [str(BIN / "gtm"), "trace", payload_id, "--line", str(ad_line)],
        f"gtm trace --line {audience_line} (largest audience)": [
            str(BIN / "gtm"),
            "trace",
            payload_id,
            "--line",
            str(audience_line),
        ],
    }
    results = {name: _timed(command, env, args.repeat) for name, command in cases.items()}
    base = statistics.median(results[next(iter(results))])
    print(f"\n{raw_rows:,} raw event rows; payload {payload_id}; {args.repeat} runs each (wall seconds, whole process)")
    print("| command | min s | median s | x baseline |\n|---|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {min(times):.2f} | {statistics.median(times):.2f} | {statistics.median(times) / base:.1f} |")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
