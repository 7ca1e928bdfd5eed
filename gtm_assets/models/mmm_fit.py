"""One MAP fit of the media-mix model by variable projection.

For every candidate vector of transform parameters the linear part (intercept, trend, seasonality,
controls, events, non-negative media coefficients) is solved exactly, so the bounded trust-region
search only moves the transform parameters. The objective, in units of the weekly noise scale sigma:

    sum_t (residual_t / sigma)^2                        the weekly revenue
  + sum_j ((coefficient_c * lift_j(theta) - measured_j) / standard_error_j)^2   each lift test
  + sum_k ((prior parameter_k - centre_k) / sd_k)^2      the weak priors (mmm_transforms)

A lift test is a likelihood term: it measured the revenue the held-out share of the market lost over
its window, which the model predicts as share x sum over the window's weeks (weighted by the days
covered) of the channel's response on business-as-usual spend minus its response where it was off
(mmm_data.LiftTests). That is linear in the channel's coefficient, so each test joins the
non-negative least squares as one more equation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, nnls
from scipy.stats import qmc

from gtm_assets.models.mmm_data import LiftTests
from gtm_assets.models.mmm_transforms import Transforms

N_SCREEN_POINTS = 64
N_STARTS = 3
# Relative tolerances of the trust-region search (cost, step, gradient).
TOLERANCE = 1e-6


@dataclass
class Fit:
    """One solution: transform parameters (unit cube) and exact linear coefficients (target units)."""

    theta: np.ndarray
    media_coef: np.ndarray
    base_coef: np.ndarray
    media: np.ndarray  # media features, all weeks x channels
    cost: float

    def contributions(self) -> np.ndarray:
        return self.media * self.media_coef


def _orthonormal_basis(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space (rank-revealing, so all-zero event columns are fine)."""
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    return u[:, s > s[0] * 1e-10]


def noise_scale(y: np.ndarray, base: np.ndarray, spend: np.ndarray, rows: np.ndarray) -> float:
    """Residual standard deviation of an OLS fit of y on the base regressors and raw spend."""
    design = np.column_stack([base, spend])[rows]
    coef, *_ = np.linalg.lstsq(design, y[rows], rcond=None)
    resid = y[rows] - design @ coef
    dof = max(len(rows) - np.linalg.matrix_rank(design), 1)
    return float(np.sqrt(resid @ resid / dof))


class VarPro:
    """MAP fit over transform parameters with the linear coefficients solved exactly per evaluation.

    The base regressors are projected out of the weekly rows, so the media coefficients solve a
    non-negative least-squares problem on the projected weekly rows stacked over the lift rows. The
    Jacobian is Kaufman's analytic approximation: minus the projection (orthogonal to the active
    regressors of the stacked system) of the feature derivatives times their coefficients.
    """

    def __init__(self, transforms: Transforms, base: np.ndarray, rows: np.ndarray, sigma: float, lift: LiftTests):
        self.transforms = transforms
        self.base_rows = base[rows]
        self.rows = rows
        self.sigma = sigma
        self.lift = lift
        self.q = _orthonormal_basis(self.base_rows)
        self.prior_jac = transforms.prior_jacobian()
        self.series = self._channel_series()
        self._cache, self._fitting = None, False
        # Test j's lift per unit of feature in step s: share x share of the step's days in the window,
        # in the test's standard errors.
        self.lift_weights = (lift.holdout_share[:, None] * lift.overlap) * (sigma / lift.standard_error)[:, None]

    def with_sigma(self, sigma: float) -> VarPro:
        """The same problem with another noise scale."""
        clone = copy.copy(self)
        clone.sigma, clone._cache = sigma, None
        clone.lift_weights = self.lift_weights * (sigma / self.sigma)
        return clone

    def _channel_series(self) -> list[np.ndarray]:
        """Per channel: its panel spend, then business-as-usual and held-out spend of each of its tests."""
        series = []
        for c in range(self.transforms.n_channels):
            own = np.flatnonzero(self.lift.channel == c)
            series.append(
                np.column_stack([self.transforms.spend[:, c], *self.lift.business_as_usual[own], *self.lift.held_out[own]])
            )
        return series

    def _features(self, theta: np.ndarray, derivatives: bool):
        """Media features (weeks x channels) with their derivatives (weeks x params), and per test its
        modelled lift per unit of coefficient (in the test's standard errors, with the coefficient in
        sigma units) with its derivative row (tests x params)."""
        t = self.transforms
        n_tests = len(self.lift)
        media = np.empty((t.n_weeks, t.n_channels))
        d_media = np.zeros((t.n_weeks, t.n_params)) if derivatives else None
        lift = np.zeros(n_tests)
        d_lift = np.zeros((n_tests, t.n_params)) if derivatives else None
        for c in range(t.n_channels):
            out = t.channel_feature(self.series[c], c, theta, derivatives)
            feature, jac = out if derivatives else (out, None)
            lo, hi = t.offsets[c], t.offsets[c + 1]
            media[:, c] = t.to_weeks(feature[:, 0])
            if derivatives:
                d_media[:, lo:hi] = t.to_weeks(jac[:, 0, :])
            own = np.flatnonzero(self.lift.channel == c)
            k = len(own)
            if k:
                gap = feature[:, 1 : 1 + k] - feature[:, 1 + k :]
                lift[own] = np.einsum("jt,tj->j", self.lift_weights[own], gap)
                if derivatives:
                    d_gap = jac[:, 1 : 1 + k, :] - jac[:, 1 + k :, :]
                    d_lift[own, lo:hi] = np.einsum("jt,tjp->jp", self.lift_weights[own], d_gap)
        return media, d_media, lift, d_lift

    def modelled_lift(self, fit: Fit) -> np.ndarray:
        """Each lift test's lift as a fit predicts it, in target units."""
        values = self._features(fit.theta, False)[2]
        return values * fit.media_coef[self.lift.channel] / self.sigma * self.lift.standard_error

    def lift_rows(self, lift_values: np.ndarray) -> np.ndarray:
        """Lift-test rows of the design (tests x channels): only the tested channel's column is set."""
        rows = np.zeros((len(self.lift), self.transforms.n_channels))
        rows[np.arange(len(self.lift)), self.lift.channel] = lift_values
        return rows

    def lift_targets(self, measured: np.ndarray) -> np.ndarray:
        return measured / self.lift.standard_error

    def _project(self, v: np.ndarray) -> np.ndarray:
        return v - self.q @ (self.q.T @ v)

    def _solve(self, theta, y_rows, lift_targets, derivatives: bool):
        """Features, exact linear coefficients and residuals at ``theta``. Inside ``fit`` the
        derivatives are computed with the residuals and kept for the Jacobian call at the same point
        (the trust-region search asks for both at every accepted step)."""
        key = (theta.tobytes(), id(y_rows), id(lift_targets))
        if self._cache is not None and self._cache[0] == key and (self._cache[1][1] is not None or not derivatives):
            return self._cache[1]
        solved = self._solve_uncached(theta, y_rows, lift_targets, derivatives or self._fitting)
        self._cache = (key, solved)
        return solved

    def _solve_uncached(self, theta, y_rows, lift_targets, derivatives: bool):
        media, d_media, lift_values, lift_jac = self._features(theta, derivatives)
        media_rows = media[self.rows]
        lift_rows = self.lift_rows(lift_values)
        media_coef, _ = nnls(
            np.vstack([self._project(media_rows), lift_rows]),
            np.concatenate([self._project(y_rows), lift_targets]),
        )
        partial = y_rows - media_rows @ media_coef
        base_coef = np.linalg.lstsq(self.base_rows, partial, rcond=None)[0]
        residuals = np.concatenate([partial - self.base_rows @ base_coef, lift_targets - lift_rows @ media_coef])
        return media, d_media, lift_rows, lift_jac, media_coef, base_coef, residuals

    def residuals(self, theta, y_rows, lift_targets, prior_shift) -> np.ndarray:
        residuals = self._solve(theta, y_rows, lift_targets, False)[6]
        return np.concatenate([residuals, self.transforms.prior_residuals(theta, prior_shift)])

    def jacobian(self, theta, y_rows, lift_targets, prior_shift) -> np.ndarray:
        media, d_media, lift_rows, lift_jac, media_coef, _, _ = self._solve(theta, y_rows, lift_targets, True)
        n_lift = len(self.lift)
        design = np.vstack(
            [
                np.column_stack([self.base_rows, media[self.rows]]),
                np.column_stack([np.zeros((n_lift, self.base_rows.shape[1])), lift_rows]),
            ]
        )
        active = np.r_[np.ones(self.base_rows.shape[1], dtype=bool), media_coef > 0]
        basis = _orthonormal_basis(design[:, active])
        coef_per_param = media_coef[self.transforms.param_channel]
        direction = np.vstack([d_media[self.rows], lift_jac]) * coef_per_param[None, :]
        data_jac = -(direction - basis @ (basis.T @ direction))
        return np.vstack([data_jac, self.prior_jac])

    def solution(self, theta, y_rows, lift_targets, cost: float) -> Fit:
        media, _, _, _, media_coef, base_coef, _ = self._solve(theta, y_rows, lift_targets, False)
        return Fit(theta=theta, media_coef=media_coef * self.sigma, base_coef=base_coef * self.sigma, media=media, cost=cost)

    def fit(
        self,
        y: np.ndarray,
        starts: Sequence[np.ndarray],
        max_nfev: int | None = None,
        prior_shift: np.ndarray | None = None,
        lift_measured: np.ndarray | None = None,
        scout_nfev: int | None = None,
    ) -> Fit:
        """Bounded trust-region least squares from each start; keep the lowest objective.
        With ``scout_nfev`` every start first runs that many evaluations and only the best is then
        run to convergence (within ``max_nfev``). ``lift_measured`` replaces the lift tests'
        measured values (bootstrap redraws)."""
        y_rows = y[self.rows] / self.sigma
        lift_targets = self.lift_targets(self.lift.measured if lift_measured is None else lift_measured)
        if prior_shift is None:
            prior_shift = np.zeros(len(self.transforms.prior_terms()[0]))

        def search(start, limit):
            return least_squares(
                self.residuals,
                np.clip(start, 0.0, 1.0),
                jac=self.jacobian,
                bounds=(0.0, 1.0),
                args=(y_rows, lift_targets, prior_shift),
                method="trf",
                x_scale=1.0,
                max_nfev=limit,
                ftol=TOLERANCE,
                xtol=TOLERANCE,
                gtol=TOLERANCE,
            )

        best = None
        self._fitting = True
        try:
            scouting = scout_nfev is not None and len(starts) > 1
            for start in starts:
                result = search(start, scout_nfev if scouting else max_nfev)
                if best is None or result.cost < best.cost:
                    best = result
            if scouting and best.status == 0:  # stopped by the scouting budget: run on
                best = search(best.x, max_nfev)
        finally:
            self._fitting, self._cache = False, None
        return self.solution(best.x, y_rows, lift_targets, float(best.cost))

    def screened_starts(self, y: np.ndarray, seed: int, extra: Sequence[np.ndarray] = (), n_starts: int = N_STARTS) -> list:
        """Starts: ``extra``, then the best ``n_starts`` of the prior centre and a seeded Sobol screen."""
        y_rows = y[self.rows] / self.sigma
        lift_targets = self.lift_targets(self.lift.measured)
        candidates = np.vstack(
            [
                self.transforms.prior_centre(),
                qmc.Sobol(self.transforms.n_params, scramble=True, rng=seed).random(N_SCREEN_POINTS),
            ]
        )
        no_shift = np.zeros(len(self.transforms.prior_terms()[0]))
        cost = [float(np.sum(self.residuals(t, y_rows, lift_targets, no_shift) ** 2)) for t in candidates]
        order = np.argsort(cost, kind="stable")[:n_starts]
        return [*extra, *candidates[order]]
