"""The schedules over one simulated day, evaluated tick by tick with build_schedule_context: the daily
refit selects mmm_model and forecast once a day, the hourly allocation job runs every hour, and its
volatility cap holds against the day's base, so 24 hourly runs move a channel at most the cap from its
trailing base (not 1.25^24)."""

import shutil
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pytest
from dagster._utils.schedules import cron_string_iterator

from gtm_assets.definitions import defs

DAY = datetime(2026, 3, 2, tzinfo=UTC)
CAP = 0.25  # AllocationConfig.max_daily_change_pct's default, which the schedule's runs use


def _ticks(schedule) -> list[datetime]:
    """The times ``schedule`` fires during DAY, from its cron string (Dagster's own iterator)."""
    ticks = []
    for tick in cron_string_iterator(DAY.timestamp(), schedule.cron_schedule, schedule.execution_timezone or "UTC"):
        if tick >= DAY + timedelta(days=1):
            return ticks
        ticks.append(tick)


def _selected(job_name: str) -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {key.to_user_string() for key in job.asset_layer.selected_asset_keys}


def _job_of(schedule_name: str) -> str:
    return next(s.job_name for s in defs.schedules if s.name == schedule_name)


def _requests_over_the_day() -> dict[str, list]:
    fired = {}
    for schedule in defs.schedules:
        for tick in _ticks(schedule):
            context = dg.build_schedule_context(scheduled_execution_time=tick)
            result = schedule.evaluate_tick(context)
            fired.setdefault(schedule.name, []).extend((tick, request) for request in result.run_requests or [])
    return fired


def test_the_daily_refit_and_the_hourly_allocation_select_the_right_assets():
    fired = _requests_over_the_day()
    refits = fired["daily_models_schedule"]
    assert [tick.hour for tick, _ in refits] == [6]  # once a day, before the persona run at 07:00
    assert {"mmm_model", "forecast"} <= _selected(_job_of("daily_models_schedule"))
    hourly = fired["hourly_allocations_schedule"]
    assert [tick.hour for tick, _ in hourly] == list(range(24))
    assert "allocations" in _selected(_job_of("hourly_allocations_schedule"))
    assert "mmm_model" not in _selected(_job_of("hourly_allocations_schedule"))


@pytest.mark.faults  # 24 runs: in the faults step of .ci/run, beside the other run-level tests
def test_24_hourly_allocations_stay_within_one_days_volatility_cap(graph_run, tmp_path):
    from gtm_assets.defs.activation.allocations import allocations
    from gtm_assets.defs.resources import resources
    from gtm_assets.settings import duckdb_path
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    database = tmp_path / "gtm.duckdb"
    shutil.copy(duckdb_path(), database)
    res = {**resources().resources, "warehouse": DuckDBWarehouse(database=str(database))}
    hourly = _requests_over_the_day()["hourly_allocations_schedule"]
    assert len(hourly) == 24
    with dg.DagsterInstance.ephemeral() as instance:
        for _, request in hourly:  # what each tick's run does to the budget
            assert dg.materialize(
                [allocations], instance=instance, resources=res, run_config=request.run_config, selection=["allocations"]
            ).success
    with duckdb.connect(str(database), read_only=True) as conn:
        # the base, from the source rows: each channel's average daily spend over the last 28 days of data
        base = dict(
            conn.execute(
                "SELECT channel, sum(spend::DOUBLE) FILTER (WHERE date::DATE > last - 28) / 28 FROM raw.raw_media_spend, "
                "(SELECT max(date::DATE) AS last FROM raw.raw_media_spend) GROUP BY channel"
            ).fetchall()
        )
        plans = conn.execute(
            "SELECT run_id, channel, any_value(recommended_spend) AS spend, min(allocated_at) AS first_at "
            "FROM main.allocation_history GROUP BY run_id, channel ORDER BY first_at"
        ).df()
    runs = list(dict.fromkeys(plans["run_id"]))[-24:]
    plans = plans[plans["run_id"].isin(runs)]
    assert len(runs) == 24
    plans["base"] = plans["channel"].map(base)
    spending = plans[plans["base"] > 0]
    moved = (spending["spend"] / spending["base"] - 1).abs()
    assert moved.max() <= CAP + 1e-6, spending[moved > CAP + 1e-6]
    # the last hour's plan is the first hour's: nothing compounds within the day
    first, last = (plans[plans["run_id"] == run].set_index("channel")["spend"] for run in (runs[0], runs[-1]))
    assert (first - last).abs().max() < 1e-6
