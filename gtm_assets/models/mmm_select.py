"""Per-channel choice of adstock and saturation family by time-ordered validation.

Candidates per channel: geometric or delayed adstock x Hill, logistic or Michaelis-Menten saturation.
A candidate is scored by rolling-origin validation: fitted on the weeks before each of the last
VALIDATION_FOLDS blocks of VALIDATION_WEEKS weeks (with only the lift tests that ended before the
block), it predicts the block from that block's spend, and the lift tests that ran in the block;
the score is the mean squared standardised error over all validation weeks (in units of the weekly
noise scale) and held-out lift tests (in units of their standard errors). Coordinate search from geometric + Michaelis-Menten everywhere: channels are
visited in order of spend (largest first), the others held at their current choice, first for the
saturation family, then for the adstock. Within
SELECTION_TOLERANCE of the best score the candidate with the fewest parameters wins, so a more
flexible curve has to earn its extra parameters out of sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gtm_assets.models.mmm_data import LiftTests
from gtm_assets.models.mmm_fit import VarPro
from gtm_assets.models.mmm_transforms import ChannelSpec, Transforms
from gtm_assets.models.response import ADSTOCKS, SATURATIONS

START_SPEC = ChannelSpec("geometric", "michaelis_menten")
VALIDATION_FOLDS = 3
VALIDATION_WEEKS = 13
SELECTION_TOLERANCE = 0.01
VALIDATION_MAX_NFEV = 60
MIN_TRAIN_WEEKS = 52


@dataclass
class Selection:
    """The chosen spec per channel, the validation score of each candidate tried, the number of
    validation points behind a score, and warm starts."""

    specs: list[ChannelSpec]
    scores: list[dict[ChannelSpec, float]]  # per channel: candidate -> validation mean squared error
    n_validation: int
    fold_thetas: list[np.ndarray]

    def weights(self, c: int) -> tuple[list[ChannelSpec], np.ndarray]:
        """Candidates of channel ``c`` and their Akaike-like weights exp(-n/2 x (score - best)):
        how plausible each is given the validation evidence (the bootstrap draws specs by them)."""
        candidates = list(self.scores[c]) or [self.specs[c]]
        scores = np.array([self.scores[c].get(spec, 0.0) for spec in candidates])
        weights = np.exp(-0.5 * self.n_validation * (scores - scores.min()))
        return candidates, weights / weights.sum()


def _folds(n_weeks: int) -> list[int]:
    """Cut points (first validation week) of the rolling-origin folds that leave enough training."""
    cuts = [n_weeks - k * VALIDATION_WEEKS for k in range(VALIDATION_FOLDS, 0, -1)]
    return [cut for cut in cuts if cut >= MIN_TRAIN_WEEKS]


class _Validator:
    def __init__(self, template: Transforms, base, y, sigma, lift: LiftTests, seed: int):
        self.template, self.base, self.y, self.sigma, self.lift, self.seed = template, base, y, sigma, lift, seed
        self.cuts = _folds(len(y))

    def score(self, specs: list[ChannelSpec], starts: list[np.ndarray] | None, previous: Transforms | None):
        """Validation MSE of ``specs`` and the fitted unit-cube parameters per fold."""
        t = self.template
        transforms = Transforms(t.spend, specs, t.step_days, t.warmup)
        errors, thetas = [], []
        self.n_points = 0
        for k, cut in enumerate(self.cuts):
            rows = np.arange(cut)
            earlier = self.lift.ends_before(t.warmup + cut * t.steps_per_week)
            model = VarPro(transforms, self.base, rows, self.sigma, self.lift.subset(earlier))
            if starts is None:
                fold_starts = model.screened_starts(self.y, self.seed, n_starts=2)
            else:
                fold_starts = [transforms.convert(starts[k], previous)]
            fit = model.fit(self.y, fold_starts, max_nfev=VALIDATION_MAX_NFEV)
            end = min(cut + VALIDATION_WEEKS, len(self.y))
            predicted = self.base[cut:end] @ fit.base_coef + fit.media[cut:end] @ fit.media_coef
            errors.append(((self.y[cut:end] - predicted) / self.sigma) ** 2)
            held_out = self.lift.ends_before(t.warmup + end * t.steps_per_week) & ~earlier
            if held_out.any():
                tests = self.lift.subset(held_out)
                lift = VarPro(transforms, self.base, rows, self.sigma, tests).modelled_lift(fit)
                errors.append(((lift - tests.measured) / tests.standard_error) ** 2)
            thetas.append(fit.theta)
        errors = np.concatenate(errors)
        self.n_points = len(errors)
        return float(np.mean(errors)), thetas, transforms


def select_specs(template: Transforms, base: np.ndarray, y: np.ndarray, sigma: float, lift: LiftTests, seed: int) -> Selection:
    """Choose each channel's adstock and saturation (module docstring); ``template`` carries the
    spend steps. Without enough weeks for one validation fold every channel keeps START_SPEC."""
    n_channels = template.n_channels
    specs = [START_SPEC] * n_channels
    validator = _Validator(template, base, y, sigma, lift, seed)
    scores: list[dict[ChannelSpec, float]] = [{} for _ in range(n_channels)]
    if not validator.cuts:
        return Selection(specs, scores, 0, [])
    best = validator.score(specs, None, None)
    order = np.argsort(-template.spend.sum(axis=0), kind="stable")
    for stage in ("saturation", "adstock"):
        for c in order:
            if stage == "saturation":
                candidates = [ChannelSpec(specs[c].adstock, family) for family in SATURATIONS]
            else:
                candidates = [ChannelSpec(kind, specs[c].saturation) for kind in ADSTOCKS]
            tried = {specs[c]: best}
            for candidate in candidates:
                if candidate not in tried:
                    trial = [*specs[:c], candidate, *specs[c + 1 :]]
                    tried[candidate] = validator.score(trial, best[1], best[2])
            scores[c].update({spec: result[0] for spec, result in tried.items()})
            lowest = min(result[0] for result in tried.values())
            good = [spec for spec, result in tried.items() if result[0] <= lowest * (1 + SELECTION_TOLERANCE)]
            specs[c] = min(good, key=lambda spec: (spec.n_params, tried[spec][0]))
            best = tried[specs[c]]
    return Selection(specs, scores, validator.n_points, best[1])
