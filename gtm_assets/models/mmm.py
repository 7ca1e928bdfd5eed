"""Weekly media-mix model: geometric adstock + Hill saturation, fitted by variable projection.

For every candidate vector of transform parameters (decay, half-saturation, shape per channel) the
linear part of the model (intercept, trend, Fourier seasonality, controls and non-negative media
coefficients) is solved exactly, so the nonlinear optimiser only searches the transform parameters.
Uncertainty comes from a moving-block residual bootstrap that refits the full model, transform
parameters included, on every resample.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares, nnls
from scipy.signal import lfilter
from scipy.special import expit
from scipy.stats import qmc

# Priors as bounds: the box every transform parameter is searched in.
DECAY_BOUNDS = (0.0, 0.8)  # weekly geometric carry-over
# Half-saturation as a multiple of the channel's mean spend in weeks with spend (normalised adstock).
RELATIVE_K_BOUNDS = (0.3, 3.0)
SHAPE_BOUNDS = (0.7, 3.0)
# Weak Gaussian priors inside the box: log relative half-saturation ~ N(0, sd), shape ~ N(mean, sd).
LOG_K_PRIOR_SD = 0.5
SHAPE_PRIOR = (1.5, 0.5)
WEEKS_PER_YEAR = 52.18
FOURIER_ORDER = 2
INTERVAL_PERCENTILES = (5.0, 95.0)
N_SCREEN_POINTS = 64
N_STARTS = 3
BOOTSTRAP_MAX_NFEV = 60
RESPONSE_GRID_POINTS = 61
RESPONSE_GRID_MAX_MULTIPLE = 3.0
NO_EVENT_VALUES = {"", "na", "none", "0", "0.0", "false"}
LIFT_TEST_COLUMNS = ("channel", "start_date", "end_date", "incremental_revenue", "standard_error")


class MMMInputError(ValueError):
    """The weekly panel or the fit arguments cannot be modelled."""


@dataclass
class MMMResult:
    """Fitted media-mix model: per-channel estimates, weekly decomposition, curves, diagnostics."""

    channels: pd.DataFrame
    decomposition: pd.DataFrame
    response_curves: pd.DataFrame
    diagnostics: dict


def geometric_adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Carry-over a_t = x_t + decay * a_{t-1}, starting from a_{-1} = 0."""
    return lfilter([1.0], [1.0, -decay], np.asarray(x, dtype=float))


def hill(a: np.ndarray | float, half_saturation: float, shape: float) -> np.ndarray:
    """Hill saturation a^s / (a^s + K^s), computed stably in log space (0 at a = 0)."""
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.asarray(a, dtype=float)) - np.log(half_saturation)
    return expit(shape * log_ratio)


def expected_response(params_row: Mapping | pd.Series, weekly_spend: float) -> float:
    """Steady-state incremental weekly revenue of a channel at a constant weekly spend.

    ``params_row`` needs ``decay``, ``half_saturation``, ``shape`` and ``coefficient`` (a row of
    ``MMMResult.channels``). Constant spend x has steady-state adstock x / (1 - decay).
    """
    adstock = weekly_spend / (1.0 - params_row["decay"])
    return float(
        params_row["coefficient"] * hill(adstock, params_row["half_saturation"], params_row["shape"])
    )


def marginal_response(params_row: Mapping | pd.Series, weekly_spend: float) -> float:
    """Numerical d(expected_response)/d(spend) at a weekly spend (revenue per extra unit spent)."""
    step = max(abs(weekly_spend), 1.0) * 1e-4
    low = max(weekly_spend - step, 0.0)
    high = weekly_spend + step
    return (expected_response(params_row, high) - expected_response(params_row, low)) / (high - low)


# ----------------------------------------------------------------------------------------------
# Input validation and design
# ----------------------------------------------------------------------------------------------


def _validate(
    panel: pd.DataFrame,
    date_col: str,
    target_col: str,
    spend_cols: list[str],
    control_cols: list[str],
    event_cols: list[str],
    n_bootstrap: int,
    block_weeks: int,
    holdout_weeks: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the panel and arguments; return it sorted by week and the event indicator columns."""
    if not spend_cols:
        raise MMMInputError("spend_cols is empty: at least one media channel is required")
    columns = [date_col, target_col, *spend_cols, *control_cols, *event_cols]
    duplicated_names = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated_names:
        raise MMMInputError(f"columns used more than once: {', '.join(duplicated_names)}")
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise MMMInputError(f"columns not in panel: {', '.join(missing)}")
    if n_bootstrap < 1:
        raise MMMInputError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    if holdout_weeks < 0:
        raise MMMInputError(f"holdout_weeks must be >= 0, got {holdout_weeks}")

    data = panel[columns].copy()
    weeks = pd.to_datetime(data[date_col], errors="coerce")
    if weeks.isna().any():
        row = data.index[weeks.isna()][0]
        raise MMMInputError(f"column '{date_col}' has a missing or unparseable date at row {row}")
    data[date_col] = weeks
    data = data.sort_values(date_col, kind="stable").reset_index(drop=True)
    weeks = data[date_col]

    duplicated = weeks[weeks.duplicated()]
    if not duplicated.empty:
        raise MMMInputError(f"duplicated week {duplicated.iloc[0].date()} in column '{date_col}'")
    gaps = weeks.diff().dt.days
    irregular = gaps.iloc[1:][gaps.iloc[1:] != 7]
    if not irregular.empty:
        i = irregular.index[0]
        raise MMMInputError(
            f"irregular weeks in column '{date_col}': {weeks[i - 1].date()} -> {weeks[i].date()} "
            f"is {int(irregular.iloc[0])} days, expected 7"
        )

    for col in [target_col, *spend_cols, *control_cols]:
        values = pd.to_numeric(data[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            raise MMMInputError(
                f"column '{col}' has a missing or non-numeric value in week {weeks[bad].iloc[0].date()}"
            )
        data[col] = values.astype(float)
    for col in spend_cols:
        negative = data[col] < 0
        if negative.any():
            raise MMMInputError(
                f"column '{col}' has negative spend {data.loc[negative, col].iloc[0]:g} "
                f"in week {weeks[negative].iloc[0].date()}"
            )
    for col in [target_col, *spend_cols, *control_cols]:
        if data[col].std() == 0:
            kind = "spend" if col in spend_cols else "values"
            raise MMMInputError(
                f"column '{col}' has constant {kind} ({data[col].iloc[0]:g} every week); "
                "its effect cannot be estimated"
            )
    events = _event_indicators(data, event_cols)

    n_weeks = len(data)
    n_params = _n_base_columns(len(control_cols) + events.shape[1]) + 4 * len(spend_cols)
    n_fit = n_weeks - holdout_weeks
    if n_fit <= n_params:
        raise MMMInputError(
            f"too few weeks: {n_weeks} weeks ({n_fit} left for fitting after {holdout_weeks} "
            f"holdout weeks) for {n_params} parameters; need more than {n_params} fitting weeks"
        )
    if not 1 <= block_weeks <= n_fit:
        raise MMMInputError(f"block_weeks must be between 1 and {n_fit}, got {block_weeks}")
    return data, events


def _event_indicators(data: pd.DataFrame, event_cols: list[str]) -> pd.DataFrame:
    """One 0/1 column ``<col>=<value>`` per distinct event value (blank, 'na', 0 mean no event)."""
    indicators = {}
    for col in event_cols:
        labels = data[col].astype("string").str.strip().fillna("")
        active = ~labels.str.lower().isin(NO_EVENT_VALUES)
        if not active.any():
            raise MMMInputError(f"event column '{col}' marks no week as an event")
        for value in sorted(labels[active].unique()):
            indicators[f"{col}={value}"] = (labels == value).astype(float).to_numpy()
    return pd.DataFrame(indicators, index=data.index)


@dataclass
class _LiftTests:
    """Experiments as rows of the least-squares problem: test j measures ``measured[j]`` (standard
    error ``standard_error[j]``) as the summed contribution of channel ``channel[j]`` over the
    panel weeks where ``windows[j]`` is 1."""

    channel: np.ndarray
    windows: np.ndarray  # tests x weeks, 0/1
    measured: np.ndarray
    standard_error: np.ndarray

    def subset(self, keep: np.ndarray) -> "_LiftTests":
        return _LiftTests(self.channel[keep], self.windows[keep], self.measured[keep], self.standard_error[keep])


def _lift_tests(lift_tests: pd.DataFrame | None, weeks: pd.Series, spend_cols: list[str]) -> _LiftTests:
    """Validate the lift tests and map each window to the panel weeks lying wholly inside it."""
    tests = pd.DataFrame(columns=list(LIFT_TEST_COLUMNS)) if lift_tests is None else lift_tests
    missing = [c for c in LIFT_TEST_COLUMNS if c not in tests.columns]
    if missing:
        raise MMMInputError(f"lift_tests lacks columns: {', '.join(missing)}")
    week_start = weeks.to_numpy()
    week_end = week_start + np.timedelta64(6, "D")
    channel, windows, measured, standard_error = [], [], [], []
    for i, test in enumerate(tests.itertuples(index=False)):
        where = f"lift test {i + 1} ({test.channel}, {test.start_date}..{test.end_date})"
        if test.channel not in spend_cols:
            raise MMMInputError(f"{where}: channel is not one of spend_cols")
        start, end = pd.to_datetime(test.start_date, errors="coerce"), pd.to_datetime(test.end_date, errors="coerce")
        if pd.isna(start) or pd.isna(end) or end < start:
            raise MMMInputError(f"{where}: start_date and end_date must be dates with start <= end")
        window = (week_start >= start.to_datetime64()) & (week_end <= end.to_datetime64())
        if not window.any():
            raise MMMInputError(f"{where}: no whole panel week lies inside the window")
        value = pd.to_numeric(test.incremental_revenue, errors="coerce")
        se = pd.to_numeric(test.standard_error, errors="coerce")
        if not np.isfinite(value) or not np.isfinite(se) or se <= 0:
            raise MMMInputError(f"{where}: incremental_revenue must be a number and standard_error > 0")
        channel.append(spend_cols.index(test.channel))
        windows.append(window.astype(float))
        measured.append(float(value))
        standard_error.append(float(se))
    return _LiftTests(
        np.array(channel, dtype=int),
        np.array(windows, dtype=float).reshape(len(channel), len(weeks)),
        np.array(measured, dtype=float),
        np.array(standard_error, dtype=float),
    )


def _n_base_columns(n_controls: int) -> int:
    """Intercept + trend + Fourier terms + controls (event indicators count as controls)."""
    return 2 + 2 * FOURIER_ORDER + n_controls


def _base_design(n_weeks: int, controls: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Unconstrained regressors: intercept, linear trend, yearly Fourier terms, standardized
    controls, then 0/1 event indicators."""
    t = np.arange(n_weeks, dtype=float)
    columns = [np.ones(n_weeks), t / max(n_weeks - 1, 1)]
    names = ["intercept", "trend"]
    for k in range(1, FOURIER_ORDER + 1):
        angle = 2.0 * np.pi * k * t / WEEKS_PER_YEAR
        columns += [np.sin(angle), np.cos(angle)]
        names += [f"sin_{k}", f"cos_{k}"]
    standardized = (controls - controls.mean(axis=0)) / controls.std(axis=0)
    return np.column_stack([*columns, standardized, events]), names


# ----------------------------------------------------------------------------------------------
# Variable-projection fit
# ----------------------------------------------------------------------------------------------


@dataclass
class _Fit:
    """One solution: transform parameters (unit cube) and exact linear coefficients (target units)."""

    theta: np.ndarray
    decay: np.ndarray
    half_saturation: np.ndarray
    shape: np.ndarray
    media_coef: np.ndarray
    base_coef: np.ndarray
    media: np.ndarray  # Hill-transformed adstock, all weeks x channels

    def params_row(self, c: int) -> dict:
        """Response parameters of channel ``c`` in the form ``expected_response`` takes."""
        return {
            "decay": self.decay[c],
            "half_saturation": self.half_saturation[c],
            "shape": self.shape[c],
            "coefficient": self.media_coef[c],
        }


class _Transforms:
    """Adstock + Hill features of every channel and their derivatives w.r.t. unit-cube parameters.

    Parameters per channel (each mapped from [0, 1]): decay (linear in DECAY_BOUNDS), log of the
    half-saturation as a multiple of the channel's mean spend in weeks with spend (log-linear in
    RELATIVE_K_BOUNDS), and shape (linear in SHAPE_BOUNDS). The adstock fed to the Hill curve is
    normalised by (1 - decay), so a constant spend x has adstock x whatever the decay.
    """

    def __init__(self, spend: np.ndarray):
        self.spend = spend
        self.n_channels = spend.shape[1]
        self.scale = np.array([s[s > 0].mean() for s in spend.T])
        self.log_k_bounds = np.log(RELATIVE_K_BOUNDS)

    def natural(self, theta: np.ndarray):
        """Decay, log relative half-saturation and shape per channel."""
        u = theta.reshape(self.n_channels, 3)
        decay = DECAY_BOUNDS[0] + u[:, 0] * (DECAY_BOUNDS[1] - DECAY_BOUNDS[0])
        log_k = self.log_k_bounds[0] + u[:, 1] * (self.log_k_bounds[1] - self.log_k_bounds[0])
        shape = SHAPE_BOUNDS[0] + u[:, 2] * (SHAPE_BOUNDS[1] - SHAPE_BOUNDS[0])
        return decay, log_k, shape

    def half_saturation(self, decay: np.ndarray, log_k: np.ndarray) -> np.ndarray:
        """Half-saturation on the un-normalised adstock scale that ``expected_response`` uses."""
        return np.exp(log_k) * self.scale / (1.0 - decay)

    def features(self, theta: np.ndarray, derivatives: bool = False):
        """Hill features (weeks x channels) and, if asked, d feature / d theta (weeks x channels x 3)."""
        decay, log_k, shape = self.natural(theta)
        adstock = np.column_stack(
            [lfilter([1.0], [1.0, -d], x) for d, x in zip(decay, self.spend.T)]
        )
        level = (1.0 - decay) * adstock / self.scale
        positive = level > 0
        with np.errstate(divide="ignore"):
            log_ratio = np.where(positive, np.log(np.where(positive, level, 1.0)), -np.inf) - log_k
        media = expit(shape * log_ratio)
        if not derivatives:
            return media
        lagged = np.vstack([np.zeros((1, self.n_channels)), adstock[:-1]])
        d_adstock = np.column_stack(
            [lfilter([1.0], [1.0, -d], x) for d, x in zip(decay, lagged.T)]
        )
        d_level = ((1.0 - decay) * d_adstock - adstock) / self.scale
        slope = media * (1.0 - media)
        safe_level = np.where(positive, level, 1.0)
        jac = np.empty((*media.shape, 3))
        jac[:, :, 0] = np.where(positive, slope * shape * d_level / safe_level, 0.0)
        jac[:, :, 0] *= DECAY_BOUNDS[1] - DECAY_BOUNDS[0]
        jac[:, :, 1] = -slope * shape * (self.log_k_bounds[1] - self.log_k_bounds[0])
        jac[:, :, 2] = np.where(positive, slope * np.where(positive, log_ratio, 0.0), 0.0)
        jac[:, :, 2] *= SHAPE_BOUNDS[1] - SHAPE_BOUNDS[0]
        return media, jac

    def prior_residuals(self, theta: np.ndarray, prior_shift: np.ndarray) -> np.ndarray:
        """Standardised deviations of log half-saturation and shape from their prior centres
        (shifted by ``prior_shift`` standard deviations, zero for the point estimate)."""
        _, log_k, shape = self.natural(theta)
        standardised = np.concatenate([log_k / LOG_K_PRIOR_SD, (shape - SHAPE_PRIOR[0]) / SHAPE_PRIOR[1]])
        return standardised - prior_shift

    def prior_jacobian(self) -> np.ndarray:
        """Constant Jacobian of ``prior_residuals`` (2 * channels x 3 * channels)."""
        jac = np.zeros((2 * self.n_channels, 3 * self.n_channels))
        for c in range(self.n_channels):
            jac[c, 3 * c + 1] = (self.log_k_bounds[1] - self.log_k_bounds[0]) / LOG_K_PRIOR_SD
            jac[self.n_channels + c, 3 * c + 2] = (SHAPE_BOUNDS[1] - SHAPE_BOUNDS[0]) / SHAPE_PRIOR[1]
        return jac


def _orthonormal_basis(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space (rank-revealing, so all-zero event columns are fine)."""
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    return u[:, s > s[0] * 1e-10]


class _VarPro:
    """MAP fit over transform parameters with the linear coefficients solved exactly per evaluation.

    The objective is sum_t (residual_t / sigma)^2 plus the Gaussian priors on log half-saturation
    and shape; ``sigma`` is a fixed noise scale. The unconstrained base regressors are projected
    out, so the media coefficients solve a non-negative least-squares problem in the projected
    space. Each lift test adds one row, (model's contribution of its channel over its window -
    measured) / standard error, which is linear in that channel's coefficient, so it joins the
    non-negative least squares as an extra equation (the base regressors do not enter it). The
    Jacobian is Kaufman's analytic approximation: minus the projection (orthogonal to the active
    regressors of the stacked system) of the feature derivatives times their coefficients.
    """

    def __init__(self, transforms: _Transforms, base: np.ndarray, rows: np.ndarray, sigma: float,
                 lift: _LiftTests):
        self.transforms = transforms
        self.base_rows = base[rows]
        self.rows = rows
        self.sigma = sigma
        self.lift = lift
        self.q = _orthonormal_basis(self.base_rows)
        self.prior_jac = transforms.prior_jacobian()
        # Lift row j picks channel[j]'s features summed over its window, in units of its standard error.
        self.lift_weights = lift.windows * (sigma / lift.standard_error)[:, None]
        self.lift_mask = np.zeros((len(lift.channel), transforms.n_channels))
        self.lift_mask[np.arange(len(lift.channel)), lift.channel] = 1.0

    def _lift_rows(self, media: np.ndarray) -> np.ndarray:
        """Lift-test rows of the design (tests x channels): only the tested channel's column is set."""
        return (self.lift_weights @ media) * self.lift_mask

    def lift_targets(self, measured: np.ndarray) -> np.ndarray:
        """Measured lifts in the units of the lift rows."""
        return measured / self.lift.standard_error

    def _project(self, v: np.ndarray) -> np.ndarray:
        return v - self.q @ (self.q.T @ v)

    def _solve(self, theta: np.ndarray, y_rows: np.ndarray, lift_targets: np.ndarray, derivatives: bool):
        """Features, media and base coefficients and the residuals (weekly in sigma units, then one
        per lift test in standard errors)."""
        out = self.transforms.features(theta, derivatives)
        media = out[0] if derivatives else out
        media_rows = media[self.rows]
        lift_rows = self._lift_rows(media)
        media_coef, _ = nnls(
            np.vstack([self._project(media_rows), lift_rows]),
            np.concatenate([self._project(y_rows), lift_targets]),
        )
        partial = y_rows - media_rows @ media_coef
        base_coef = np.linalg.lstsq(self.base_rows, partial, rcond=None)[0]
        residuals = np.concatenate([partial - self.base_rows @ base_coef, lift_targets - lift_rows @ media_coef])
        return out, media_coef, base_coef, residuals

    def residuals(self, theta: np.ndarray, y_rows: np.ndarray, lift_targets: np.ndarray,
                  prior_shift: np.ndarray) -> np.ndarray:
        residuals = self._solve(theta, y_rows, lift_targets, False)[3]
        return np.concatenate([residuals, self.transforms.prior_residuals(theta, prior_shift)])

    def jacobian(self, theta: np.ndarray, y_rows: np.ndarray, lift_targets: np.ndarray,
                 prior_shift: np.ndarray) -> np.ndarray:
        (media, d_media), media_coef, _, _ = self._solve(theta, y_rows, lift_targets, True)
        n_lift = len(self.lift.channel)
        # The stacked system: weekly rows (base regressors + media) over lift rows (media only).
        design = np.vstack([
            np.column_stack([self.base_rows, media[self.rows]]),
            np.column_stack([np.zeros((n_lift, self.base_rows.shape[1])), self._lift_rows(media)]),
        ])
        active = np.r_[np.ones(self.base_rows.shape[1], dtype=bool), media_coef > 0]
        basis = _orthonormal_basis(design[:, active])
        d_lift = np.einsum("jt,tck->jck", self.lift_weights, d_media) * self.lift_mask[:, :, None]
        d_design = np.concatenate([d_media[self.rows], d_lift])
        direction = (d_design * media_coef[None, :, None]).reshape(len(d_design), -1)
        data_jac = -(direction - basis @ (basis.T @ direction))
        return np.vstack([data_jac, self.prior_jac])

    def solution(self, theta: np.ndarray, y_rows: np.ndarray, lift_targets: np.ndarray) -> _Fit:
        media, media_coef, base_coef, _ = self._solve(theta, y_rows, lift_targets, False)
        decay, log_k, shape = self.transforms.natural(theta)
        return _Fit(
            theta=theta,
            decay=decay,
            half_saturation=self.transforms.half_saturation(decay, log_k),
            shape=shape,
            media_coef=media_coef * self.sigma,
            base_coef=base_coef * self.sigma,
            media=media,
        )

    def fit(
        self,
        y: np.ndarray,
        starts: Sequence[np.ndarray],
        max_nfev: int | None = None,
        prior_shift: np.ndarray | None = None,
        lift_measured: np.ndarray | None = None,
    ) -> _Fit:
        """Bounded trust-region least squares from each start; keep the lowest objective.
        ``lift_measured`` replaces the lift tests' measured values (bootstrap redraws)."""
        y_rows = y[self.rows] / self.sigma
        lift_targets = self.lift_targets(self.lift.measured if lift_measured is None else lift_measured)
        if prior_shift is None:
            prior_shift = np.zeros(2 * self.transforms.n_channels)
        best = None
        for start in starts:
            result = least_squares(
                self.residuals,
                np.clip(start, 0.0, 1.0),
                jac=self.jacobian,
                bounds=(0.0, 1.0),
                args=(y_rows, lift_targets, prior_shift),
                method="trf",
                x_scale=1.0,
                max_nfev=max_nfev,
            )
            if best is None or result.cost < best.cost:
                best = result
        return self.solution(best.x, y_rows, lift_targets)

    def screened_starts(self, y: np.ndarray, seed: int, extra: Sequence[np.ndarray] = ()) -> list:
        """Starts: ``extra`` then the best few of the prior centre and a seeded Sobol screen."""
        y_rows = y[self.rows] / self.sigma
        lift_targets = self.lift_targets(self.lift.measured)
        n = self.transforms.n_channels
        centre = np.tile(_prior_centre(), n)
        candidates = np.vstack(
            [centre, qmc.Sobol(3 * n, scramble=True, rng=seed).random(N_SCREEN_POINTS)]
        )
        no_shift = np.zeros(2 * n)
        cost = [float(np.sum(self.residuals(theta, y_rows, lift_targets, no_shift) ** 2)) for theta in candidates]
        order = np.argsort(cost, kind="stable")[:N_STARTS]
        return [*extra, *candidates[order]]


def _prior_centre() -> np.ndarray:
    """Unit-cube position of (decay mid-range, prior log half-saturation 0, prior shape)."""
    log_lo, log_hi = np.log(RELATIVE_K_BOUNDS)
    return np.array(
        [0.5, -log_lo / (log_hi - log_lo), (SHAPE_PRIOR[0] - SHAPE_BOUNDS[0]) / (SHAPE_BOUNDS[1] - SHAPE_BOUNDS[0])]
    )


def _noise_scale(y: np.ndarray, base: np.ndarray, spend: np.ndarray, rows: np.ndarray) -> float:
    """Residual standard deviation of an OLS fit of y on the base regressors and raw spend."""
    design = np.column_stack([base, spend])[rows]
    coef, *_ = np.linalg.lstsq(design, y[rows], rcond=None)
    resid = y[rows] - design @ coef
    dof = max(len(rows) - np.linalg.matrix_rank(design), 1)
    return float(np.sqrt(resid @ resid / dof))


def _channel_metrics(fit: _Fit, spend: np.ndarray) -> dict[str, np.ndarray]:
    """Coefficient, ROI, marginal ROI (steady state at mean weekly spend) and contribution."""
    contribution = (fit.media * fit.media_coef).sum(axis=0)
    mean_spend = spend.mean(axis=0)
    marginal = np.array(
        [marginal_response(fit.params_row(c), mean_spend[c]) for c in range(spend.shape[1])]
    )
    return {
        "coefficient": fit.media_coef.copy(),
        "roi": contribution / spend.sum(axis=0),
        "marginal_roi": marginal,
        "contribution": contribution,
    }


def _block_bootstrap(residuals: np.ndarray, block_weeks: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block resample of (centred) weekly residuals, same length as the input."""
    n = len(residuals)
    centred = residuals - residuals.mean()
    n_blocks = -(-n // block_weeks)
    starts = rng.integers(0, n - block_weeks + 1, size=n_blocks)
    return np.concatenate([centred[s : s + block_weeks] for s in starts])[:n]


# ----------------------------------------------------------------------------------------------
# Diagnostics
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def fit_mmm(
    panel: pd.DataFrame,
    *,
    date_col: str,
    target_col: str,
    spend_cols: list[str],
    control_cols: Sequence[str] = (),
    event_cols: Sequence[str] = (),
    n_bootstrap: int = 100,
    block_weeks: int = 8,
    holdout_weeks: int = 8,
    seed: int = 0,
    lift_tests: pd.DataFrame | None = None,
) -> MMMResult:
    """Fit the adstock + Hill media-mix model on a weekly panel.

    revenue_t = intercept + trend + yearly Fourier (order 2) + standardized controls + events
                + sum_c coefficient_c * hill(adstock(spend_c, decay_c)_t, K_c, shape_c) + error.

    Why this method: the model is linear in the intercept, trend, seasonality, controls and media
    coefficients and nonlinear only in three transform parameters per channel, so the linear part
    is solved exactly (least squares, non-negative media coefficients) inside a bounded
    trust-region search over the transform parameters (variable projection). That is fast and
    deterministic, and refitting it many times makes a bootstrap over the whole model affordable.

    What it assumes:
    - Media effects are additive, non-negative, carried over geometrically within a week grid and
      saturate along a Hill curve; seasonality is yearly and smooth; errors are stationary and
      correlated over at most a few weeks (the bootstrap block length).
    - Priors as bounds: decay in DECAY_BOUNDS, half-saturation within RELATIVE_K_BOUNDS times the
      channel's mean spend in weeks with spend, shape in SHAPE_BOUNDS; inside the box weak Gaussian
      priors pull log relative half-saturation to 0 (half-saturated at typical spend) and shape to
      SHAPE_PRIOR, so a channel whose spend hardly varies cannot turn its curve into a constant
      that trades off against the intercept (the estimate is a MAP; the noise scale in it is the
      residual SD of an OLS fit on raw spend). ROI integrates the curve from zero spend, so for a
      channel that is never off the ROI leans on these priors; ``spend_cv`` tells how much the
      data alone can say.
    - The target is what is observed: when revenue is measured on consented sessions only, ROI is
      incremental observed revenue per unit of spend.
    - Lift tests (optional ``lift_tests`` frame with LIFT_TEST_COLUMNS: channel, start_date,
      end_date, incremental_revenue, standard_error; in target units) calibrate the curves: each
      test is assumed to measure the channel's full incremental effect over its window, i.e. the
      sum of its modelled contribution (adstock carried in from before the window included) over
      the panel weeks lying wholly inside the window, with Gaussian error of the given standard
      error. Each adds (modelled - measured) / standard_error as a residual to the least-squares
      objective, so it acts as a likelihood term on that channel's curve; that is what pins down
      the ROI of a channel that is never off.

    The model is first fitted on all but the last ``holdout_weeks`` weeks to measure out-of-sample
    MAPE (``mape_holdout`` is None when ``holdout_weeks`` is 0), then refitted on every week for
    the reported estimates. ``*_lo``/``*_hi`` are 90% percentile intervals from ``n_bootstrap``
    moving-block residual bootstrap refits of the full model, transform parameters included
    (residuals rescaled for the degrees of freedom used; lift tests' measured values redrawn within
    their standard errors, so the intervals include the experiments' uncertainty). The holdout fit
    uses only the lift tests whose window ends before the holdout weeks. ROI and contribution cover the panel
    weeks; marginal ROI is the steady-state slope at the average weekly spend; saturation_pct is
    the Hill value at the average adstocked spend; contribution_share is each channel's share of
    total media contribution; spend_cv is the weekly spend's coefficient of variation. Controls
    are centred, so their decomposition components sum to zero and the baseline carries their
    level; each event column's component is the sum of its indicators' effects.
    Raises ``MMMInputError`` for panels that cannot be modelled, naming the column or week.
    """
    started = time.perf_counter()
    spend_cols, control_cols, event_cols = list(spend_cols), list(control_cols), list(event_cols)
    data, events = _validate(
        panel, date_col, target_col, spend_cols, control_cols, event_cols,
        n_bootstrap, block_weeks, holdout_weeks,
    )  # fmt: skip
    weeks = data[date_col]
    lift = _lift_tests(lift_tests, weeks, spend_cols)
    n_weeks = len(data)
    y = data[target_col].to_numpy()
    spend = data[spend_cols].to_numpy()
    controls = data[control_cols].to_numpy().reshape(n_weeks, -1)
    base, base_names = _base_design(n_weeks, controls, events.to_numpy().reshape(n_weeks, -1))
    transforms = _Transforms(spend)
    all_rows = np.arange(n_weeks)
    sigma = _noise_scale(y, base, spend, all_rows)

    mape_holdout = None
    extra_starts = []
    if holdout_weeks:
        before_holdout = lift.windows[:, n_weeks - holdout_weeks :].sum(axis=1) == 0
        train = _VarPro(transforms, base, np.arange(n_weeks - holdout_weeks), sigma, lift.subset(before_holdout))
        train_fit = train.fit(y, train.screened_starts(y, seed))
        predicted = base @ train_fit.base_coef + train_fit.media @ train_fit.media_coef
        mape_holdout = _mape(y[-holdout_weeks:], predicted[-holdout_weeks:])
        extra_starts = [train_fit.theta]

    model = _VarPro(transforms, base, all_rows, sigma, lift)
    fit = model.fit(y, model.screened_starts(y, seed, extra_starts))
    base_part = base * fit.base_coef
    media_part = fit.media * fit.media_coef
    fitted = base_part.sum(axis=1) + media_part.sum(axis=1)
    residuals = y - fitted
    point = _channel_metrics(fit, spend)

    # Fitted residuals are smaller than the errors by the degrees of freedom spent; rescale them.
    n_params = base.shape[1] + 4 * len(spend_cols)
    boot_residuals = residuals * np.sqrt(n_weeks / (n_weeks - n_params))
    rng = np.random.default_rng(seed)
    lift_rng = np.random.default_rng([seed, 1])  # its own stream: fits without lift tests are unchanged
    draws = {name: [] for name in point}
    for _ in range(n_bootstrap):
        y_boot = fitted + _block_bootstrap(boot_residuals, block_weeks, rng)
        prior_shift = rng.standard_normal(2 * len(spend_cols))
        lift_measured = lift.measured + lift.standard_error * lift_rng.standard_normal(len(lift.measured))
        refit = model.fit(
            y_boot, [fit.theta], max_nfev=BOOTSTRAP_MAX_NFEV, prior_shift=prior_shift, lift_measured=lift_measured
        )
        for name, values in _channel_metrics(refit, spend).items():
            draws[name].append(values)

    channels = pd.DataFrame(
        {
            "channel": spend_cols,
            "decay": fit.decay,
            "half_saturation": fit.half_saturation,
            "shape": fit.shape,
        }
    )
    for name, values in point.items():
        lo, hi = np.percentile(np.array(draws[name]), INTERVAL_PERCENTILES, axis=0)
        channels[name] = values
        channels[f"{name}_lo"] = lo
        channels[f"{name}_hi"] = hi
    total_contribution = point["contribution"].sum()
    channels["contribution_share"] = (
        point["contribution"] / total_contribution if total_contribution > 0 else 0.0
    )
    channels["spend"] = spend.sum(axis=0)
    channels["spend_share"] = channels["spend"] / channels["spend"].sum()
    channels["spend_cv"] = spend.std(axis=0) / spend.mean(axis=0)
    mean_adstock = np.array(
        [geometric_adstock(spend[:, c], fit.decay[c]).mean() for c in range(len(spend_cols))]
    )
    channels["saturation_pct"] = 100.0 * hill(mean_adstock, fit.half_saturation, fit.shape)
    channels = channels[
        [
            "channel", "decay", "half_saturation", "shape",
            "coefficient", "coefficient_lo", "coefficient_hi",
            "roi", "roi_lo", "roi_hi",
            "marginal_roi", "marginal_roi_lo", "marginal_roi_hi",
            "contribution", "contribution_lo", "contribution_hi", "contribution_share",
            "spend", "spend_share", "spend_cv", "saturation_pct",
        ]
    ]  # fmt: skip

    n_seasonal = len(base_names)
    wide = pd.DataFrame({"baseline": base_part[:, :n_seasonal].sum(axis=1)})
    for j, col in enumerate(control_cols):
        wide[col] = base_part[:, n_seasonal + j]
    event_part = base_part[:, n_seasonal + len(control_cols) :]
    for col in event_cols:
        own = [j for j, name in enumerate(events.columns) if name.startswith(f"{col}=")]
        wide[col] = event_part[:, own].sum(axis=1)
    for c, col in enumerate(spend_cols):
        wide[col] = media_part[:, c]
    wide["actual"] = y
    wide["fitted"] = fitted
    wide.insert(0, "week", weeks.to_numpy())
    decomposition = wide.melt(id_vars="week", var_name="component", value_name="value")

    curves = []
    for c, col in enumerate(spend_cols):
        grid = np.linspace(0.0, RESPONSE_GRID_MAX_MULTIPLE * spend[:, c].max(), RESPONSE_GRID_POINTS)
        row = fit.params_row(c)
        curves.append(
            pd.DataFrame(
                {
                    "channel": col,
                    "weekly_spend": grid,
                    "incremental_revenue": [expected_response(row, s) for s in grid],
                }
            )
        )
    response_curves = pd.concat(curves, ignore_index=True)

    diagnostics = {
        "r2": float(1.0 - residuals @ residuals / np.sum((y - y.mean()) ** 2)),
        "mape_holdout": mape_holdout,
        "nrmse": float(np.sqrt(np.mean(residuals**2)) / (y.max() - y.min())),
        "durbin_watson": float(np.sum(np.diff(residuals) ** 2) / (residuals @ residuals)),
        "max_vif": float(_max_vif(np.column_stack([base[:, 1:], fit.media]))),
        "decomp_rssd": float(
            np.sqrt(np.sum((channels["contribution_share"] - channels["spend_share"]) ** 2))
        ),
        "n_weeks": n_weeks,
        "n_bootstrap": n_bootstrap,
        "n_lift_tests": len(lift.measured),
        "fit_seconds": time.perf_counter() - started,
    }
    return MMMResult(channels, decomposition, response_curves, diagnostics)
