"""Reads that commands and answers share (no Dagster): the inputs of a budget scenario from the
warehouse, exactly as the allocations asset reads them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gtm_assets.models.spend import CAMPAIGN_STATS_SQL, channel_spend


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
