"""Scale benchmark for ingestion and governance.

Generates N simulated events (default 1,000,000; the issue's shape: two CSV and two Parquet files),
holds the last simulated day back as a separate file, then measures in one run:
  * the bare DuckDB scan of the same files (count(*) and sum(revenue) per file, same readers),
  * a plain table copy of the same files (CREATE TABLE AS SELECT * FROM <file>, one per file, DuckDB's
    default readers, into a fresh database file): the floor for landing events,
  * raw_events (every file one partition) through Dagster, in-process,
  * the governance dbt models (event_dispositions, quarantined_events, guarded_sessions, bridge,
    GA4 items, governed_files) with their dbt tests, a full build,
  * incremental: the held-back day's file landed on the filled warehouse: its raw_events partition
    plus the governance models (only the new file's rows and the sessions they touch),
and prints wall time, CPU time (this process and its children: DuckDB threads, the dbt subprocess),
rows/s and peak RSS (process tree, sampled from /proc every 100 ms; the sampler's own CPU is not
counted) per stage, with ratios to the bare scan and
to the table copy. Every stage uses the same DuckDB memory limit and threads.

    python benchmarks/ingest_scale.py [--events 10000000] [--memory-limit 2GB] [--formats csv,parquet] [--files 4]
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


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return found


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        stack.extend(_children(pid))
    return total


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Stage:
    """Wall time, CPU time (this process and its waited-for children, less the sampler's own) and
    the process tree's peak RSS (sampled every 100 ms) of a block."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.peak, self._sampler_cpu, self._stop = 0, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._wall, self._cpu = time.perf_counter(), _cpu_seconds()
        self._thread.start()
        return self

    def _sample(self):
        started = time.thread_time()
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            time.sleep(0.1)
        self._sampler_cpu = time.thread_time() - started

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self._stop.set()
        self._thread.join()
        self.cpu = _cpu_seconds() - self._cpu - self._sampler_cpu


def _hold_back_last_day(files: list[Path]) -> Path:
    """Move the last simulated day's rows of the last file into a file of their own (Parquet)."""
    import duckdb

    last = files[-1]
    con = duckdb.connect(config={"preserve_insertion_order": True})
    reader = f"read_parquet('{last}')" if last.suffix == ".parquet" else f"read_csv('{last}', all_varchar = true)"
    con.execute(f"CREATE TABLE t AS SELECT *, row_number() OVER () AS seq FROM {reader}")
    day = con.execute("SELECT max(left(event_timestamp, 10)) FROM t WHERE event_timestamp LIKE '20__-__-__T%'").fetchone()[0]
    day_file = last.with_name(f"events_999_{day}_{day}.parquet")
    is_day = f"left(event_timestamp, 10) = '{day}'"
    con.execute(f"COPY (SELECT * EXCLUDE (seq) FROM t WHERE {is_day} ORDER BY seq) TO '{day_file}' (FORMAT parquet)")
    rest = last.with_name(last.name.split(".")[0] + ".parquet")
    tmp = last.with_name("rest.tmp.parquet")
    con.execute(
        f"COPY (SELECT * EXCLUDE (seq) FROM t WHERE NOT coalesce({is_day}, false) ORDER BY seq) TO '{tmp}' (FORMAT parquet)"
    )
    con.close()
    last.unlink()
    tmp.rename(rest)
    return day_file


def _dbt_model_times() -> dict[str, float]:
    """Seconds per model and test of the newest dbt invocation (dbt's run_results.json)."""
    from gtm_assets import settings

    newest = max((settings.DBT_PROJECT_DIR / "target").glob("gtm_dbt_models-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(newest.read_text())["results"]
    return {r["unique_id"].split(".", 2)[-1]: r["execution_time"] for r in results}


GOVERNED_TABLES = ("event_outcomes", "quarantined_events", "guarded_sessions", "ga4_event_items")


def _governance_fingerprint() -> dict:
    """Row counts by outcome, and per governed table its row count and an order-independent checksum:
    the sum, modulo 2^64, of the first 64 bits of each row's md5 (every column but processed_at). It
    streams (no sort, no string of all rows), so it fits the memory limit at 50M rows; equal before and
    after a change of the models on the same world."""
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    with DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"]).get_connection() as conn:
        outcomes = conn.execute(
            "SELECT disposition, coalesce(quarantine_reason, ''), count(*) FROM main.event_outcomes GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        tables = {}
        for table in GOVERNED_TABLES:
            columns = [c for c, *_ in conn.execute(f"DESCRIBE main.{table}").fetchall() if c != "processed_at"]
            rows, checksum = conn.execute(
                f"SELECT count(*), coalesce(sum(('0x' || left(md5(t::VARCHAR), 16))::UBIGINT::HUGEINT), 0) % 18446744073709551616 "
                f"FROM (SELECT {', '.join(columns)} FROM main.{table}) AS t"
            ).fetchall()[0]
            tables[table] = {"rows": rows, "checksum": f"{int(checksum):016x}"}
    return {"outcomes": {f"{d}/{r}" if r else d: n for d, r, n in outcomes}, "tables": tables}


def _check_incremental(build) -> None:
    """Rebuild governance from every file (without governed_files the build is a full one) and compare
    with the incremental result."""
    import duckdb

    incremental = _governance_fingerprint()
    conn = duckdb.connect(os.environ["GTM_DUCKDB_PATH"])
    conn.execute("DROP TABLE main.governed_files")
    conn.close()
    assert build().success
    full = _governance_fingerprint()
    print(f"incremental result equal to a full rebuild of every file: {incremental == full} ({json.dumps(incremental)})")
    if incremental != full:
        raise SystemExit(f"incremental {incremental} != full rebuild {full}")


def _spark_stages(workdir: Path, enabled: bool) -> dict:
    """Export the raw zone to Parquet, build the governance models on local Spark, compare with DuckDB."""
    if not enabled:
        return {}
    import duckdb

    from gtm_assets.transform.spark_engine import dbt_on_spark, export_raw_zone, parity_fingerprint, spark_table_files
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    spark_dir = workdir / "spark"
    shutil.rmtree(spark_dir, ignore_errors=True)
    with DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"]).get_connection() as conn:
        with Stage("raw zone exported to Parquet for Spark") as export:
            export_raw_zone(conn, spark_dir / "raw")
        duck = parity_fingerprint(conn, "main.guarded_sessions")
    with Stage("governance on local Spark (dbt-spark, local[2])") as build:
        done = dbt_on_spark(["build", "--select", "governance"], spark_dir)
    if done.returncode != 0:
        print(done.stdout[-3000:])
        raise SystemExit("dbt build on Spark failed")
    files = duckdb.connect()
    same = parity_fingerprint(files, f"read_parquet('{spark_table_files(spark_dir, 'guarded_sessions')}')") == duck
    return {"export": export, "build": build, "same_rows": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--memory-limit", default=os.environ.get("GTM_DUCKDB_MEMORY_LIMIT", "2GB"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="keep data here (default: a temp dir)")
    parser.add_argument(
        "--spark",
        action="store_true",
        help="also build the governance models on a local Spark (dbt-spark session, the `spark` "
        "extra) over the same raw zone, after the DuckDB full build, and compare their rows",
    )
    parser.add_argument(
        "--expect-checksum",
        default=None,
        help="fail unless guarded_sessions' checksum after the full build is this (an earlier "
        "run's on the same --workdir world, e.g. before a change of the models)",
    )
    parser.add_argument(
        "--check-incremental",
        action="store_true",
        help="after the incremental day, rebuild governance from every file in full and fail unless "
        "the outcomes and guarded_sessions' checksum equal the incremental result",
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtm-bench-"))
    data = workdir / "data"
    os.environ["GTM_DATA_DIR"] = str(data)
    os.environ["GTM_DUCKDB_PATH"] = str(data / "bench.duckdb")
    os.environ["GTM_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    for stale in list(data.glob("bench.duckdb*")) + list(workdir.glob("copy.duckdb*")):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()  # the writer-run record is a folder

    import dagster as dg
    import duckdb

    from gtm_assets.transform.project import prepare

    prepare()  # the manifest the dbt assets are built from
    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events
    from gtm_assets.defs.resources import resources
    from gtm_assets.landing import is_event_file

    events_dir = data / "landing" / "events"
    started = time.perf_counter()
    if (
        not (data / "ground_truth.json").exists()
        or json.loads((data / "ground_truth.json").read_text())["options"]["events"] != args.events
    ):
        # In a child process so the simulator's arrays do not inflate this process's RSS.
        command = [
            sys.executable,
            "-m",
            "gtm_assets.simulate",
            "--out",
            str(data),
            "--events",
            str(args.events),
            "--formats",
            args.formats,
            "--files",
            str(args.files),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        for stray in events_dir.glob("events_999_*"):
            stray.unlink()
        _hold_back_last_day(sorted(p for p in events_dir.iterdir() if is_event_file(p)))
    generate_s = time.perf_counter() - started
    all_files = sorted(p for p in events_dir.iterdir() if is_event_file(p))
    day_file = next(p for p in all_files if p.name.startswith("events_999_"))
    files = [p for p in all_files if p != day_file]
    config = {"memory_limit": args.memory_limit, "threads": args.threads}

    header = (
        f"{'stage':<52} {'wall s':>8} {'cpu s':>8} {'rows/s':>12} {'peak MB':>10} {'x scan':>8} {'x CTAS':>8} {'cpu xCTAS':>9}"
    )

    def line(name, stage, n):
        print(
            f"{name:<52} {stage.wall:>8.1f} {stage.cpu:>8.1f} {n / stage.wall:>12,.0f} {stage.peak / 1e6:>10,.0f} "
            f"{stage.wall / bare.wall:>8.2f} {stage.wall / baseline['ctas'].wall:>8.2f} "
            f"{stage.cpu / baseline['ctas'].cpu:>9.2f}",
            flush=True,
        )

    baseline = {}  # the table copy, once measured
    with Stage("bare DuckDB scan (count, sum revenue)") as bare:
        con = duckdb.connect(config=config)
        rows = 0
        for path in files:
            reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}', all_varchar = true)"
            rows += con.execute(f"SELECT count(*), sum(try_cast(revenue AS DOUBLE)) FROM {reader}").fetchone()[0]
        con.close()
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    print(
        f"{rows:,} events in {len(files)} files ({size_mb:,.0f} MB) + a held-back day "
        f"({day_file.name}); generated in {generate_s:.1f} s; memory limit {args.memory_limit}, {args.threads} threads"
    )

    with Stage("plain CTAS of the same files") as ctas:
        baseline["ctas"] = ctas
        con = duckdb.connect(str(workdir / "copy.duckdb"), config=config)
        for index, path in enumerate(files):
            reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}')"
            con.execute(f"CREATE TABLE copy_{index} AS SELECT * FROM {reader}")
        con.execute("CHECKPOINT")
        con.close()
    for stale in workdir.glob("copy.duckdb*"):
        stale.unlink()
    print(header)
    line(bare.name, bare, rows)
    line(ctas.name, ctas, rows)

    res = resources().resources
    governance = dg.AssetSelection.groups("governance")  # the dbt governance models (views included)
    stages = []
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(landing_event_files.name, [p.name for p in all_files])
        with Stage("raw_events (one partition per file)") as stage:
            for path in files:
                assert dg.materialize([raw_events], partition_key=path.name, instance=instance, resources=res).success
        stages.append(stage)
        line(stage.name, stage, rows)
        with Stage("governance (dbt models + tests), full build") as stage:
            assert dg.materialize([gtm_dbt_models], selection=governance, instance=instance, resources=res).success
        stages.append(stage)
        line(stage.name, stage, rows)
        model_times = _dbt_model_times()
        full_build = _governance_fingerprint()
        print(f"full build: {json.dumps(full_build)}", flush=True)
        spark = _spark_stages(workdir, args.spark)
        with Stage("incremental: raw_events of the new day's file") as inc_raw:
            assert dg.materialize([raw_events], partition_key=day_file.name, instance=instance, resources=res).success
        with Stage("incremental: governance of the new file") as inc_gov:
            assert dg.materialize([gtm_dbt_models], selection=governance, instance=instance, resources=res).success
        inc_models = sum(_dbt_model_times().values())
        print(
            f"incremental day: raw_events {inc_raw.wall:.1f} s, governance {inc_gov.wall:.1f} s wall ({inc_gov.cpu:.1f} s CPU, "
            f"peak {inc_gov.peak / 1e6:,.0f} MB), of which dbt's models and tests {inc_models:.1f} s",
            flush=True,
        )
        if args.check_incremental:
            _check_incremental(lambda: dg.materialize([gtm_dbt_models], selection=governance, instance=instance, resources=res))
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    with DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"]).get_connection() as conn:
        day_rows = conn.execute("SELECT rows_loaded FROM raw.landing_files WHERE source_file LIKE '%events_999_%'").fetchone()[0]
        sessions = conn.execute("SELECT count(*) FROM main.guarded_sessions").fetchone()[0]

    print("\nper model and test (dbt run_results.json, full build), s:")
    for name, seconds in sorted(model_times.items(), key=lambda item: -item[1])[:12]:
        print(f"  {name:<70} {seconds:>7.1f}")
    found = full_build["tables"]["guarded_sessions"]["checksum"]
    if args.expect_checksum and found != args.expect_checksum:
        raise SystemExit(f"guarded_sessions changed: checksum {found} != {args.expect_checksum}")
    if spark:
        print(header)
        line(spark["export"].name, spark["export"], rows)
        line(spark["build"].name, spark["build"], rows)
        print(f"guarded_sessions on Spark equal to DuckDB's (every column but processed_at): {spark['same_rows']}")
    print()
    print(header)
    total = Stage("raw_events + guarded_sessions")
    total.wall, total.cpu, total.peak = sum(s.wall for s in stages), sum(s.cpu for s in stages), max(s.peak for s in stages)
    line("**raw_events + guarded_sessions**", total, rows)
    line(inc_raw.name, inc_raw, day_rows)
    line(inc_gov.name, inc_gov, day_rows)
    incremental = inc_raw.wall + inc_gov.wall
    print(
        f"\nincremental day ({day_rows:,} rows, {sessions:,} sessions in the warehouse): {incremental:.1f} s wall "
        f"({inc_raw.cpu + inc_gov.cpu:.1f} s CPU) vs full build {total.wall:.1f} s wall ({total.cpu:.1f} s CPU): "
        f"{incremental / total.wall:.2f} of a full build; its governance: dbt's models and tests {inc_models:.1f} s, "
        f"fixed cost (Dagster, dbt start-up, staged copy, metadata) {inc_gov.wall - inc_models:.1f} s"
    )
    _staging_cost(Path(os.environ["GTM_DUCKDB_PATH"]), stages[-1], inc_gov)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


def _staging_cost(database: Path, full: Stage, incremental: Stage) -> None:
    """What making a dbt build all-or-nothing costs on this warehouse: the build's own staging steps
    (checkpoint + copy of the file, then checkpoint + fsync + rename of the built copy), timed alone
    on the filled warehouse and set against the governance builds measured above (which include them)."""
    from gtm_assets.defs.governance.dbt_models import publish_warehouse, stage_warehouse

    size = database.stat().st_size
    with Stage("stage: checkpoint + copy of the warehouse") as copy:
        staging = stage_warehouse(database)
    with Stage("publish: checkpoint + fsync + rename") as publish:
        publish_warehouse(staging, database)
    cost = copy.wall + publish.wall
    print(
        f"\nstaging the dbt build on a {size / 1e6:,.0f} MB warehouse: copy {copy.wall:.1f} s + publish "
        f"{publish.wall:.1f} s = {cost:.1f} s wall; {cost / full.wall:.1%} of the full governance build "
        f"({full.wall:.1f} s), {cost / incremental.wall:.1%} of the incremental one ({incremental.wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
