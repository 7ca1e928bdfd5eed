"""The daemon's side of gtm_assets.warehouse.writer_runs: the one-writer pool made effective in whatever
instance the daemon serves, and runs whose process died failed, so they stop holding the queue."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.warehouse.writer_runs import ensure_writer_pool, fail_dead_runs


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def writer_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Keeps the duckdb_warehouse pool at one writer in this instance and marks failed the writer runs
    whose process died (killed, out of memory), freeing the queue they would hold forever."""
    changed = ensure_writer_pool(context.instance)
    dead = fail_dead_runs(context.instance, settings.duckdb_path())
    done = [changed] if changed else []
    done += [f"run {run_id} died without reporting its end: marked failed" for run_id in dead]
    return dg.SkipReason("; ".join(done) or "pool limit in place; no dead writer run")
