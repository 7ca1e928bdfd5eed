"""Weekly media-mix model: per-channel adstock and saturation, fitted by variable projection, with
bootstrap intervals, lift-test calibration and an identifiability verdict per channel.

Modules: ``mmm_data`` (panel checks, base regressors, lift tests in weeks), ``mmm_transforms``
(features, derivatives, priors), ``mmm_fit`` (one MAP fit), ``mmm_select`` (family choice by
time-ordered validation), ``mmm_identify`` (identifiability); the curves themselves are
``gtm_assets.models.response``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from gtm_assets.models.experiment_plan import PRE_PERIOD_DAYS
from gtm_assets.models.mmm_data import (
    LIFT_TEST_COLUMNS,
    LiftTests,
    MMMInputError,
    base_design,
    daily_spend_steps,
    map_lift_tests,
    validate_panel,
)
from gtm_assets.models.mmm_fit import Fit, VarPro, noise_scale
from gtm_assets.models.mmm_identify import demand_dependence, identification, lift_agreement
from gtm_assets.models.mmm_select import select_specs
from gtm_assets.models.mmm_transforms import ChannelSpec, Transforms
from gtm_assets.models.response import ADSTOCKS, SATURATIONS, ChannelResponse

__all__ = ["LIFT_TEST_COLUMNS", "MMMInputError", "MMMResult", "fit_mmm"]

INTERVAL_PERCENTILES = (5.0, 95.0)
BOOTSTRAP_SCREEN_POINTS = 16
BOOTSTRAP_SCOUT_NFEV = 30
RESPONSE_GRID_POINTS = 61
RESPONSE_GRID_MAX_MULTIPLE = 3.0
MAX_PARAMS_PER_CHANNEL = 5  # coefficient + up to four transform parameters
MIN_BLOCK_WEEKS = 8
MAX_AUTOCORRELATION = 0.95
CHANNEL_COLUMNS = [
    "channel", "time_step_days", "adstock", "saturation", "decay", "adstock_peak", "half_saturation", "shape",
    "coefficient", "coefficient_lo", "coefficient_hi",
    "roi", "roi_lo", "roi_hi",
    "marginal_roi", "marginal_roi_lo", "marginal_roi_hi",
    "contribution", "contribution_lo", "contribution_hi", "contribution_share",
    "spend", "spend_share", "spend_cv", "saturation_pct",
    "identified", "identification_codes", "identification_reason", "identification_fix", "spend_collinearity_r2",
    "moves_with", "demand_r2", "lift_tests", "lift_test_spend", "lift_test_revenue", "lift_test_roi", "lift_test_z",
]  # fmt: skip
DRAW_COLUMNS = [
    "draw",
    "channel",
    "time_step_days",
    "adstock",
    "saturation",
    "decay",
    "adstock_peak",
    "half_saturation",
    "shape",
    "coefficient",
    "roi",
    "marginal_roi",
    "contribution",
]


@dataclass
class MMMResult:
    """Fitted media-mix model: per-channel estimates, weekly decomposition, curves, diagnostics, and
        the parameters of every bootstrap draw (one row per draw and channel), and each lift test's
    agreement with the model."""

    channels: pd.DataFrame
    decomposition: pd.DataFrame
    response_curves: pd.DataFrame
    diagnostics: dict
    draws: pd.DataFrame
    lift_tests: pd.DataFrame  # one row per lift test: measured vs modelled lift of its own counterfactual


def _curves(transforms: Transforms, fit: Fit) -> list[ChannelResponse]:
    return [transforms.response(fit.theta, c, fit.media_coef[c]) for c in range(transforms.n_channels)]


def _metrics(curves: list[ChannelResponse], fit: Fit, spend: np.ndarray, step_spend: np.ndarray) -> dict[str, np.ndarray]:
    """Coefficient, ROI, marginal ROI (steady state at the mean spend per step) and contribution."""
    contribution = fit.contributions().sum(axis=0)
    mean_spend = step_spend.mean(axis=0)
    return {
        "coefficient": fit.media_coef.copy(),
        "roi": contribution / spend.sum(axis=0),
        "marginal_roi": np.array([float(curve.marginal(x)) for curve, x in zip(curves, mean_spend)]),
        "contribution": contribution,
    }


def _block_rows(n: int, block_weeks: int, rng: np.random.Generator) -> np.ndarray:
    """Week indices of a moving-block resample of the weeks (blocks of consecutive weeks drawn with
    replacement), n of them."""
    n_blocks = -(-n // block_weeks)
    starts = rng.integers(0, n - block_weeks + 1, size=n_blocks)
    return np.concatenate([np.arange(s, s + block_weeks) for s in starts])[:n]


def _max_vif(design: np.ndarray) -> float:
    """Largest variance inflation factor among the non-intercept regressors."""
    n, p = design.shape
    worst = 1.0
    for j in range(p):
        target = design[:, j]
        if target.std() == 0:
            return float("inf")
        others = np.column_stack([np.ones(n), np.delete(design, j, axis=1)])
        coef, *_ = np.linalg.lstsq(others, target, rcond=None)
        resid = target - others @ coef
        r2 = 1.0 - resid @ resid / np.sum((target - target.mean()) ** 2)
        worst = max(worst, float("inf") if r2 >= 1.0 else 1.0 / (1.0 - r2))
    return worst


def _mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error over non-zero actuals."""
    keep = actual != 0
    return float(np.mean(np.abs((actual[keep] - predicted[keep]) / actual[keep])))


def _fixed_specs(specs: Sequence[tuple[str, str]] | None, n_channels: int) -> list[ChannelSpec] | None:
    if specs is None:
        return None
    if len(specs) != n_channels:
        raise MMMInputError(f"specs has {len(specs)} entries for {n_channels} channels")
    out = []
    for adstock, saturation in specs:
        if adstock not in ADSTOCKS or saturation not in SATURATIONS:
            raise MMMInputError(f"unknown spec ({adstock}, {saturation}); adstock in {ADSTOCKS}, saturation in {SATURATIONS}")
        out.append(ChannelSpec(adstock, saturation))
    return out


def _refit_sigma(model: VarPro, fit: Fit, y: np.ndarray, base: np.ndarray, n_params: int) -> float:
    """Residual standard deviation of a fit, corrected for the parameters it used."""
    rows = model.rows
    residuals = y[rows] - base[rows] @ fit.base_coef - fit.media[rows] @ fit.media_coef
    return float(np.sqrt(residuals @ residuals / max(len(rows) - n_params, 1)))


def _lift_test_noise(lift: LiftTests, step_days: int) -> float | None:
    """The daily revenue noise the geo holdouts met, as their standard errors imply it: a holdout of
    share h over d days has SE = sigma sqrt(d h / (1 - h) (1 + d / 56)) (gtm_assets.models.experiment_plan);
    the median over the tests (switch-offs, h near 1, left out). None without such a test."""
    days = lift.overlap.sum(axis=1) * step_days
    share = lift.holdout_share
    geo = share < 0.95
    if not geo.any():
        return None
    factor = np.sqrt(days[geo] * share[geo] / (1 - share[geo]) * (1 + days[geo] / PRE_PERIOD_DAYS))
    return float(np.median(lift.standard_error[geo] / factor))


def _block_length(residuals: np.ndarray, n_weeks: int) -> tuple[int, float]:
    """Bootstrap block length from the residuals' lag-1 autocorrelation rho: the rule
    n^(1/3) (2 rho / (1 - rho^2))^(2/3) for an AR(1) (Hall, Horowitz and Jing), at least
    MIN_BLOCK_WEEKS and at most a quarter of the weeks; and rho."""
    centred = residuals - residuals.mean()
    rho = float(np.clip(centred[1:] @ centred[:-1] / (centred @ centred), 0.0, MAX_AUTOCORRELATION))
    rule = n_weeks ** (1 / 3) * (2 * rho / (1 - rho**2)) ** (2 / 3)
    return int(np.clip(np.ceil(rule), MIN_BLOCK_WEEKS, max(n_weeks // 4, MIN_BLOCK_WEEKS))), rho


def _draw_specs(selection, chosen, rng: np.random.Generator) -> list[ChannelSpec]:
    """Each channel's adstock and saturation for one bootstrap draw, by the validation weights."""
    if selection is None or not selection.n_validation:
        return chosen
    out = []
    for c in range(len(chosen)):
        candidates, weights = selection.weights(c)
        out.append(candidates[rng.choice(len(candidates), p=weights)])
    return out


def _bootstrap(inputs: _Inputs, transforms: Transforms, fit: Fit, selection, chosen, block_weeks, seed, n):
    """Refits on moving-block resamples of the weeks (``fit_mmm``'s docstring): per draw its metrics
    and one row per channel of its curve."""
    rng = np.random.default_rng(seed)
    lift_rng = np.random.default_rng([seed, 1])  # its own stream: fits without lift tests are unchanged
    spec_rng = np.random.default_rng([seed, 3])
    lift = inputs.lift
    draws, rows = [], []
    for b in range(n):
        weeks_b = _block_rows(inputs.n_weeks, block_weeks, rng)
        lift_measured = lift.measured + lift.standard_error * lift_rng.standard_normal(len(lift))
        specs = _draw_specs(selection, chosen, spec_rng)
        draw_transforms = transforms if specs == chosen else Transforms(inputs.steps, specs, inputs.step_days, inputs.warmup)
        draw_model = VarPro(draw_transforms, inputs.base, weeks_b, inputs.sigma, lift)
        prior_shift = rng.standard_normal(len(draw_transforms.prior_terms()[0]))
        fresh = qmc.Sobol(draw_transforms.n_params, scramble=True, rng=[seed, 2, b]).random(BOOTSTRAP_SCREEN_POINTS)
        y_rows, targets = inputs.y[weeks_b] / inputs.sigma, draw_model.lift_targets(lift_measured)
        costs = [float(np.sum(draw_model.residuals(t, y_rows, targets, prior_shift) ** 2)) for t in fresh]
        starts = [draw_transforms.convert(fit.theta, transforms), fresh[int(np.argmin(costs))]]
        refit = draw_model.fit(
            inputs.y, starts, prior_shift=prior_shift, lift_measured=lift_measured, scout_nfev=BOOTSTRAP_SCOUT_NFEV
        )
        curves = _curves(draw_transforms, refit)
        metrics = _metrics(curves, refit, inputs.spend, inputs.step_spend)
        draws.append(metrics)
        for c, curve in enumerate(curves):
            rows.append(
                [b, inputs.spend_cols[c], inputs.step_days, curve.adstock, curve.saturation, curve.decay, curve.peak,
                 curve.half_saturation, curve.shape, curve.coefficient, metrics["roi"][c], metrics["marginal_roi"][c],
                 metrics["contribution"][c]]
            )  # fmt: skip
    return draws, pd.DataFrame(rows, columns=DRAW_COLUMNS)


@dataclass
class _Inputs:
    """The fit's arrays: weekly target and spend, spend per time step, base regressors, lift tests."""

    spend_cols: list[str]
    weeks: pd.Series
    y: np.ndarray
    spend: np.ndarray
    steps: np.ndarray
    step_days: int
    warmup: int
    base: np.ndarray
    base_names: list[str]
    calendar: np.ndarray
    demand: np.ndarray | None
    events: pd.DataFrame
    lift: LiftTests
    sigma: float

    @property
    def n_weeks(self) -> int:
        return len(self.y)

    @property
    def step_spend(self) -> np.ndarray:
        return self.steps[self.warmup :]


def _inputs(data, events, date_col, target_col, spend_cols, control_cols, demand_col, lift_tests, daily_spend) -> _Inputs:
    n_weeks = len(data)
    weeks = data[date_col]
    spend = data[spend_cols].to_numpy()
    if daily_spend is None:
        step_days, steps, warmup = 7, spend, 0
        step_start = weeks.to_numpy().astype("datetime64[D]")
    else:
        step_days = 1
        steps, step_start, warmup = daily_spend_steps(daily_spend, weeks, spend_cols, spend)
    lift = map_lift_tests(lift_tests, step_start, step_days, steps, spend_cols)
    controls = data[[*control_cols, *([demand_col] if demand_col else [])]].to_numpy().reshape(n_weeks, -1)
    event_values = events.to_numpy().reshape(n_weeks, -1)
    base, base_names = base_design(n_weeks, controls, event_values)
    calendar, _ = base_design(n_weeks, np.empty((n_weeks, 0)), event_values)
    y = data[target_col].to_numpy()
    demand = data[demand_col].to_numpy(float) if demand_col else None
    return _Inputs(
        spend_cols, weeks, y, spend, steps, step_days, warmup, base, base_names, calendar, demand, events, lift,
        noise_scale(y, base, spend, np.arange(n_weeks)),
    )  # fmt: skip


def _holdout_mape(
    inputs: _Inputs, transforms: Transforms, holdout_weeks: int, seed: int, warm: list
) -> tuple[float | None, list]:
    """Out-of-sample MAPE of a fit on all but the last ``holdout_weeks`` weeks (with the lift tests
    that ended before them), and the warm starts extended by its solution."""
    if not holdout_weeks:
        return None, warm
    n_train = inputs.n_weeks - holdout_weeks
    earlier = inputs.lift.ends_before(inputs.warmup + n_train * transforms.steps_per_week)
    train = VarPro(transforms, inputs.base, np.arange(n_train), inputs.sigma, inputs.lift.subset(earlier))
    train_fit = train.fit(inputs.y, train.screened_starts(inputs.y, seed, warm))
    predicted = inputs.base @ train_fit.base_coef + train_fit.media @ train_fit.media_coef
    return _mape(inputs.y[-holdout_weeks:], predicted[-holdout_weeks:]), [*warm, train_fit.theta]


def _channel_table(inputs: _Inputs, curves, point, draws, model: VarPro, fit: Fit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-channel table (CHANNEL_COLUMNS) and the lift tests' agreement table."""
    spend_cols, spend, lift = inputs.spend_cols, inputs.spend, inputs.lift
    channels = pd.DataFrame(
        {
            "channel": spend_cols,
            "time_step_days": inputs.step_days,
            "adstock": [curve.adstock for curve in curves],
            "saturation": [curve.saturation for curve in curves],
            "decay": [curve.decay for curve in curves],
            "adstock_peak": [curve.peak for curve in curves],
            "half_saturation": [curve.half_saturation for curve in curves],
            "shape": [
                curve.shape if curve.saturation == "hill" else (1.0 if curve.saturation == "michaelis_menten" else np.nan)
                for curve in curves
            ],
        }
    )
    for name, values in point.items():
        lo, hi = np.percentile(np.array([d[name] for d in draws]), INTERVAL_PERCENTILES, axis=0)
        channels[name] = values
        channels[f"{name}_lo"] = np.minimum(lo, values)
        channels[f"{name}_hi"] = np.maximum(hi, values)
    total_contribution = point["contribution"].sum()
    channels["contribution_share"] = point["contribution"] / total_contribution if total_contribution > 0 else 0.0
    channels["spend"] = spend.sum(axis=0)
    channels["spend_share"] = channels["spend"] / channels["spend"].sum()
    channels["spend_cv"] = spend.std(axis=0) / spend.mean(axis=0)
    channels["saturation_pct"] = [
        100.0 * float(curve.expected(x)) / curve.coefficient if curve.coefficient > 0 else 0.0
        for curve, x in zip(curves, inputs.step_spend.mean(axis=0))
    ]
    tests = lift_agreement(lift.labels, lift.channel, lift.measured, lift.standard_error, model.modelled_lift(fit), spend_cols)
    demand_r2 = demand_dependence(spend, inputs.calendar, inputs.y, inputs.demand)
    channels = channels.join(identification(channels, spend, inputs.base, tests, demand_r2))
    tested = pd.DataFrame({"c": lift.channel, "spend": lift.spend, "revenue": lift.measured}).groupby("c").sum()
    channels["lift_tests"] = np.bincount(lift.channel, minlength=len(spend_cols))
    channels["lift_test_spend"] = [float(tested["spend"].get(c, 0.0)) for c in range(len(spend_cols))]
    channels["lift_test_revenue"] = [float(tested["revenue"].get(c, 0.0)) for c in range(len(spend_cols))]
    channels["lift_test_roi"] = np.where(
        channels["lift_tests"] > 0,
        channels["lift_test_revenue"] / channels["lift_test_spend"].where(channels["lift_test_spend"] > 0),
        np.nan,
    )
    return channels[CHANNEL_COLUMNS], tests


def _decomposition(inputs: _Inputs, fit: Fit, control_cols, event_cols) -> pd.DataFrame:
    """Weekly components (baseline, each control, each event column, each channel), actual and fitted, long."""
    base_part = inputs.base * fit.base_coef
    media_part = fit.contributions()
    n_seasonal = len(inputs.base_names)
    wide = pd.DataFrame({"baseline": base_part[:, :n_seasonal].sum(axis=1)})
    controls = [*control_cols, *(["demand_signal"] if inputs.demand is not None else [])]
    for j, col in enumerate(controls):
        wide[col] = base_part[:, n_seasonal + j]
    event_part = base_part[:, n_seasonal + len(controls) :]
    for col in event_cols:
        own = [j for j, name in enumerate(inputs.events.columns) if name.startswith(f"{col}=")]
        wide[col] = event_part[:, own].sum(axis=1)
    for c, col in enumerate(inputs.spend_cols):
        wide[col] = media_part[:, c]
    wide["actual"] = inputs.y
    wide["fitted"] = base_part.sum(axis=1) + media_part.sum(axis=1)
    wide.insert(0, "week", inputs.weeks.to_numpy())
    return wide.melt(id_vars="week", var_name="component", value_name="value")


def _response_curves(inputs: _Inputs, transforms: Transforms, curves) -> pd.DataFrame:
    frames = []
    for c, col in enumerate(inputs.spend_cols):
        grid = np.linspace(0.0, RESPONSE_GRID_MAX_MULTIPLE * inputs.spend[:, c].max(), RESPONSE_GRID_POINTS)
        per_week = transforms.steps_per_week * curves[c].expected(grid / transforms.steps_per_week)
        frames.append(pd.DataFrame({"channel": col, "weekly_spend": grid, "incremental_revenue": per_week}))
    return pd.concat(frames, ignore_index=True)


def _full_fit(inputs: _Inputs, transforms: Transforms, n_params: int, seed: int, warm: list):
    """The fit on every week: once with the noise scale of the inputs, then again with the scale
    re-estimated from that fit's residuals (starting from its optimum and one fresh start)."""
    model = VarPro(transforms, inputs.base, np.arange(len(inputs.y)), inputs.sigma, inputs.lift)
    fit = model.fit(inputs.y, model.screened_starts(inputs.y, seed, warm))
    inputs.sigma = _refit_sigma(model, fit, inputs.y, inputs.base, n_params)
    model = model.with_sigma(inputs.sigma)
    return model, model.fit(inputs.y, [fit.theta, *model.screened_starts(inputs.y, seed, n_starts=1)])


def _fit_diagnostics(inputs: _Inputs, fit, residuals: np.ndarray, channels: pd.DataFrame) -> dict:
    """Goodness of fit, residual checks, collinearity and the decomposition's distance from spend."""
    return {
        "r2": float(1.0 - residuals @ residuals / np.sum((inputs.y - inputs.y.mean()) ** 2)),
        "nrmse": float(np.sqrt(np.mean(residuals**2)) / (inputs.y.max() - inputs.y.min())),
        "durbin_watson": float(np.sum(np.diff(residuals) ** 2) / (residuals @ residuals)),
        "max_vif": float(_max_vif(np.column_stack([inputs.base[:, 1:], fit.media]))),
        "decomp_rssd": float(np.sqrt(np.sum((channels["contribution_share"] - channels["spend_share"]) ** 2))),
        "n_weeks": len(inputs.y),
        "n_lift_tests": len(inputs.lift),
        "n_identified": int(channels["identified"].sum()),
        "noise_sd": inputs.sigma,
        "lift_test_daily_noise": _lift_test_noise(inputs.lift, inputs.step_days),
    }


def _selection_scores(selection, spend_cols: list[str]) -> dict:
    """Each channel's validation score per candidate (adstock, saturation); empty when fixed."""
    if selection is None:
        return {}
    return {
        col: {spec.label(): round(score, 4) for spec, score in scores.items()}
        for col, scores in zip(spend_cols, selection.scores)
    }


def fit_mmm(
    panel: pd.DataFrame,
    *,
    date_col: str,
    target_col: str,
    spend_cols: list[str],
    control_cols: Sequence[str] = (),
    event_cols: Sequence[str] = (),
    demand_col: str | None = None,
    n_bootstrap: int = 100,
    block_weeks: int | None = None,
    holdout_weeks: int = 8,
    seed: int = 0,
    lift_tests: pd.DataFrame | None = None,
    daily_spend: pd.DataFrame | None = None,
    specs: Sequence[tuple[str, str]] | None = None,
) -> MMMResult:
    """Fit the media-mix model on a weekly panel.

    revenue_t = intercept + trend + yearly Fourier (order 2) + standardized controls (and the demand
                signal) + events + sum_c coefficient_c * saturation_c(adstock_c(spend_c)_t) + error.

    Why this method: the model is linear in everything but a few transform parameters per channel,
    so the linear part is solved exactly (least squares, non-negative media coefficients) inside a
    bounded trust-region search over the transform parameters (variable projection, ``mmm_fit``).
    It is fast and deterministic, which makes validation-based model choice and a bootstrap that
    re-optimises everything affordable.

    What it assumes, and how each choice is made:
    - Media effects are additive and non-negative. Each channel's adstock (geometric, or delayed
      with a peak lag) and saturation (Hill, logistic, Michaelis-Menten) is chosen by time-ordered
      validation (``mmm_select``; ``specs`` fixes them instead, as (adstock, saturation) per channel).
      Seasonality is yearly and smooth.
    - Regularization is weak and generic (``mmm_transforms``): bounded boxes and Gaussian priors on
      log half-saturation (relative to the channel's typical spend) and log Hill shape (centred on
      1). Where the data cannot tell, the fit leans on them, and ``identified`` says so.
    - The target is what is observed: when revenue is measured on consented sessions only, ROI is
      incremental observed revenue per unit of spend.
    - Demand: ``demand_col`` (a weekly demand signal such as organic search sessions, which rise with
      demand and not with media) is a control, and with last week's revenue it tells which channels'
      budgets follow demand (``mmm_identify``: ``confounded_by_demand``).
    - Lift tests (optional ``lift_tests`` with LIFT_TEST_COLUMNS: channel, start_date, end_date,
      spend withheld, incremental_revenue measured, standard_error; in target units; windows may
      start on any day but must lie within the panel's weeks) are likelihood terms: a test is taken
      to measure the revenue lost over its window where the channel was held out (a share of the
      market, spend/(spend + observed spend in the window); all of it for a switch-off), which the
      model predicts from the channel's curve on business-as-usual spend vs. the held-out spend.
      Each test's z-score (the model's lift for the test's own counterfactual against the measured
      one) is in ``lift_tests``; a channel whose test disagrees by more than two standard errors is
      flagged ``experiment_disagrees`` with both figures.
    - Errors may be autocorrelated: the bootstrap's block length (``block_weeks``, default from the
      data) grows with the residuals' lag-1 autocorrelation (``_block_length``).

    The model is first fitted on all but the last ``holdout_weeks`` weeks to measure out-of-sample
    MAPE (``mape_holdout`` is None when ``holdout_weeks`` is 0), then on every week for the reported
    estimates; the noise scale is re-estimated from the first full fit's residuals and the fit
    repeated with it. ``*_lo``/``*_hi`` are 90% percentile intervals (widened to hold the point
    estimate) from ``n_bootstrap`` refits of the full model on moving-block resamples of the weeks
    (blocks of consecutive weeks drawn with replacement; the features keep their full history, so
    carry-over is intact; resampling weeks rather than residuals lets a misfit widen the
    intervals). Each refit draws every channel's adstock and saturation from the validated
    candidates by their weights (``Selection.weights``), so the intervals carry the uncertainty of
    that choice; re-optimises the transform parameters from the point estimate and from a freshly
    screened start (each scouted, the better run to convergence); redraws the prior centres within
    their SDs and the lift tests' measured values within their standard errors. ROI and contribution cover the panel weeks;
    marginal ROI is the steady-state slope at the average weekly spend; saturation_pct is the
    saturation at the average weekly spend's steady state; spend_cv is the weekly spend's
    coefficient of variation; ``identified`` (with ``identification_codes``,
    ``identification_reason`` and ``identification_fix``) is ``mmm_identify``'s verdict;
    ``lift_test_roi`` is the naive measured lift / withheld spend of the channel's tests, next to the
    model's ROI. Controls are centred, so their decomposition components sum to zero; each event
    column's component is the sum of its indicators' effects. Raises ``MMMInputError`` for panels
    that cannot be modelled, naming the column or week.
    """
    started = time.perf_counter()
    spend_cols, control_cols, event_cols = list(spend_cols), list(control_cols), list(event_cols)
    if n_bootstrap < 1:
        raise MMMInputError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    model_controls = [*control_cols, *([demand_col] if demand_col else [])]
    data, events = validate_panel(
        panel, date_col, target_col, spend_cols, model_controls, event_cols, MAX_PARAMS_PER_CHANNEL, holdout_weeks
    )
    n_weeks = len(data)
    if block_weeks is not None and not 1 <= block_weeks <= n_weeks - holdout_weeks:
        raise MMMInputError(f"block_weeks must be between 1 and {n_weeks - holdout_weeks}, got {block_weeks}")
    fixed = _fixed_specs(specs, len(spend_cols))
    inputs = _inputs(data, events, date_col, target_col, spend_cols, control_cols, demand_col, lift_tests, daily_spend)

    template = Transforms(inputs.steps, [ChannelSpec()] * len(spend_cols), inputs.step_days, inputs.warmup)
    selection = None if fixed is not None else select_specs(template, inputs.base, inputs.y, inputs.sigma, inputs.lift, seed)
    chosen = fixed if selection is None else selection.specs
    transforms = Transforms(inputs.steps, chosen, inputs.step_days, inputs.warmup)
    n_params = inputs.base.shape[1] + transforms.n_params + len(spend_cols)
    warm = [] if selection is None or not selection.fold_thetas else [selection.fold_thetas[-1]]
    mape_holdout, warm = _holdout_mape(inputs, transforms, holdout_weeks, seed, warm)

    model, fit = _full_fit(inputs, transforms, n_params, seed, warm)
    curves = _curves(transforms, fit)
    residuals = inputs.y - (inputs.base @ fit.base_coef + fit.contributions().sum(axis=1))
    auto_block, autocorrelation = _block_length(residuals, n_weeks)
    block = auto_block if block_weeks is None else block_weeks
    point = _metrics(curves, fit, inputs.spend, inputs.step_spend)
    draws, draw_table = _bootstrap(inputs, transforms, fit, selection, chosen, block, seed, n_bootstrap)
    channels, tests = _channel_table(inputs, curves, point, draws, model, fit)

    diagnostics = {
        **_fit_diagnostics(inputs, fit, residuals, channels),
        "mape_holdout": mape_holdout,
        "residual_autocorrelation": autocorrelation,
        "block_weeks": block,
        "n_bootstrap": n_bootstrap,
        "demand_signal": demand_col,
        "family_selection": "fixed" if selection is None else "time-ordered validation",
        "selection_scores": _selection_scores(selection, spend_cols),
        "fit_seconds": time.perf_counter() - started,
    }
    return MMMResult(
        channels,
        _decomposition(inputs, fit, control_cols, event_cols),
        _response_curves(inputs, transforms, curves),
        diagnostics,
        draw_table,
        tests,
    )
