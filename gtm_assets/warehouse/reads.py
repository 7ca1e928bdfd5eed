"""Reads that assets, commands and answers share (no Dagster): the daily revenue the models are fitted
on, and the inputs of a budget scenario from the warehouse, exactly as the allocations asset reads them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gtm_assets.models.spend import CAMPAIGN_STATS_SQL, channel_spend

SALES_SQL = """
SELECT date::DATE AS ds, sum(revenue::DECIMAL(18, 2))::DOUBLE AS y, count(*) AS rows,
       string_agg(source_file, ', ' ORDER BY source_file) AS files
FROM raw.raw_daily_sales GROUP BY 1 ORDER BY 1
"""
SESSION_REVENUE_SQL = """
SELECT session_start::DATE AS ds, sum(revenue)::DOUBLE AS y FROM main.guarded_sessions GROUP BY 1 ORDER BY 1
"""
MEDIA_DAYS_SQL = "SELECT min(date::DATE), max(date::DATE) FROM raw.raw_media_spend"
# The share of well-formed event rows with analytics consent: a count, no value of a non-consented row.
CONSENTED_SHARE_SQL = """
SELECT count(*) FILTER (WHERE disposition = 'kept')
       / greatest(count(*) FILTER (WHERE disposition IN ('kept', 'dropped_for_consent')), 1) AS share
FROM main.event_dispositions
"""


@dataclass
class DailyRevenue:
    """The daily revenue the models use (ds, y), where it comes from, and the consented share that
    turns all users' revenue (what a lift test measures) into it (1 for the sales ledger)."""

    frame: pd.DataFrame
    source: str  # "sales" (raw_daily_sales) or "sessions" (guarded sessions)
    note: str
    consented_share: float


def _exists(conn, schema: str, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchall()[0][0]
    )


def daily_revenue(conn) -> DailyRevenue:
    """The sales ledger (raw_daily_sales) when it has every day of the media data once, else the
    revenue of guarded (consented) sessions, with the reason."""
    sales = conn.execute(SALES_SQL).fetchdf() if _exists(conn, "raw", "raw_daily_sales") else pd.DataFrame()
    first, last = conn.execute(MEDIA_DAYS_SQL).fetchall()[0]
    if len(sales):
        sales["ds"] = pd.to_datetime(sales["ds"])
        twice = sales[sales["rows"] > 1]
        missing = pd.date_range(first, last, freq="D").difference(sales["ds"]) if first is not None else pd.DatetimeIndex([])
        if twice.empty and missing.empty:
            note = f"sales ledger (raw_daily_sales): all orders, {sales['ds'].min().date()}..{sales['ds'].max().date()}"
            return DailyRevenue(sales[["ds", "y"]], "sales", note, 1.0)
        why = (
            f"{twice['ds'].iloc[0].date()} is in {twice['files'].iloc[0]}"
            if len(twice)
            else f"it has no row for {missing[0].date()} ({len(missing)} media days missing)"
        )
        reason = f"the sales ledger is not used: {why}; "
    else:
        reason = ""
    history = conn.execute(SESSION_REVENUE_SQL).fetchdf()
    history["ds"] = pd.to_datetime(history["ds"])
    share = float(conn.execute(CONSENTED_SHARE_SQL).fetchall()[0][0] or 1.0)
    return DailyRevenue(history, "sessions", reason + "revenue of guarded (consented) sessions", share)


def bootstrap_draws(conn) -> pd.DataFrame | None:
    """The fitted model's bootstrap draws (main.mmm_bootstrap_draws), or None before the first fit."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'mmm_bootstrap_draws'"
    ).fetchall()[0][0]
    return conn.execute("SELECT * FROM main.mmm_bootstrap_draws").fetchdf() if exists else None


@dataclass
class ScenarioInputs:
    """The fitted model, its draws and each channel's base and recent daily spend."""

    mmm: pd.DataFrame
    draws: pd.DataFrame | None
    base: dict[str, float]
    recent: dict[str, float]
    window: str  # the base window in words


def scenario_inputs(conn) -> ScenarioInputs:
    """main.mmm_model, its bootstrap draws and the trailing base of raw.raw_media_spend."""
    mmm = conn.execute("SELECT * FROM main.mmm_model").fetchdf()
    stats = conn.execute(CAMPAIGN_STATS_SQL).fetchdf()
    base, recent, _, window = channel_spend(stats)
    return ScenarioInputs(mmm, bootstrap_draws(conn), base, recent, window)
