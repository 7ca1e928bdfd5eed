"""The media-mix model fitted on a simulated world as the product would see it (weekly revenue, daily
spend, organic sessions as the demand signal, the lift tests that ended before the cut), shared by the
decision truth tests and benchmarks/mmm_worlds.py, and the experiments the planner proposes on it."""

import pandas as pd

from gtm_assets.models.experiment_plan import plan_experiments
from gtm_assets.models.mmm import MMMResult, fit_mmm
from gtm_assets.simulate import CHANNELS, weekly_panel

NAMES = [c.name for c in CHANNELS]


def world_inputs(world, days: int, lift_tests: pd.DataFrame | None = None):
    """Weekly panel, daily spend and the lift tests that ended within the first ``days`` days."""
    daily = world.daily.iloc[:days]
    tests = world.lift_tests if lift_tests is None else lift_tests
    cut = pd.Timestamp(daily["date"].iloc[0]) + pd.Timedelta(days=days)
    tests = tests[pd.to_datetime(tests["end_date"]) < cut].reset_index(drop=True)
    spend = daily.rename(columns={f"spend_{c}": c for c in NAMES})[["date", *NAMES]]
    return weekly_panel(daily), spend, tests


def fit_world(world, days: int, *, bootstrap: int, seed: int, lift_tests: pd.DataFrame | None = None) -> MMMResult:
    """fit_mmm on the first ``days`` days of ``world``."""
    panel, spend, tests = world_inputs(world, days, lift_tests)
    return fit_mmm(
        panel,
        date_col="week",
        target_col="revenue",
        spend_cols=NAMES,
        event_cols=["holiday"],
        demand_col="organic_sessions",
        n_bootstrap=bootstrap,
        seed=seed,
        lift_tests=tests,
        daily_spend=spend,
    )


def planned_experiments(world, plan: pd.DataFrame, result: MMMResult, days: int, max_change: float = 0.25) -> pd.DataFrame:
    """The experiment planner's tests for the channels ``plan`` holds, starting after the first ``days``
    days of ``world``, with the fit's noise and draws and the world's media plan."""
    return plan_experiments(
        plan,
        result.draws,
        result.diagnostics["noise_sd"],
        result.diagnostics["residual_autocorrelation"],
        pd.Timestamp(world.daily["date"].iloc[0]) + pd.Timedelta(days=days),
        max_change,
        media_plan=world.media_plan,
        daily_noise=result.diagnostics["lift_test_daily_noise"],
    )
