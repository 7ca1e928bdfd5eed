"""The simulated world's channels, its presets, and the per-seed draw of its truth.

Every seed draws its own world from the preset's ranges, so a model cannot pass by mirroring one
construction: per channel a target ROI (log-uniform), a half-saturation as a multiple of the
median adstock on spend days (log-uniform), a Hill shape (log-uniform; concave below 1, S-shaped
above), a daily decay and, for some channels, a delayed peak; per world the noise level, the
baseline's trend and seasonality, how strongly the always-on channels' spend moves together,
whether CTV flights with TV, which always-on channels barely vary, and which channels are tested.

The out-of-family presets draw what the media-mix model does not assume (``simulate.curves``): a
Weibull-shaped carry-over that peaks one to three weeks after the spend, exponential and log1p
saturation, revenue multiplicative in the seasonal base, AR(1) noise, a TV -> Search interaction,
persistent demand shocks, and budgets that follow demand (Search set from last week's revenue,
Display as a share of yesterday's revenue). Those draws come from a random stream of their own, so
the default and hard worlds of a seed are the same with or without them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from gtm_assets.simulate.curves import TrueCurve, weibull_scale_for_peak


@dataclass(frozen=True)
class Campaign:
    """A campaign with its funnel rates (true values, recorded in the ground truth)."""

    name: str
    share: float
    ctr: float
    conversion_rate: float
    revenue_per_conversion: float


@dataclass(frozen=True)
class Channel:
    """A channel's fixed traits: typical daily spend, spend pattern, media costs, UTMs, campaigns.

    Its response (ROI, saturation, carry-over) is drawn per world (``ChannelTruth``).
    """

    name: str
    spend_level: float
    pattern: str  # "flighted", "always_on" or "email"
    cpm: float
    utm_medium: str | None
    utm_sources: tuple[tuple[str, float], ...]
    campaigns: tuple[Campaign, ...]


CHANNELS = (
    Channel(
        "TV",
        9000.0,
        "flighted",
        15.0,
        None,
        (),
        (Campaign("tv_brand_awareness", 0.65, 0.0, 0.020, 95.0), Campaign("tv_seasonal_promo", 0.35, 0.0, 0.025, 90.0)),
    ),
    Channel(
        "Radio",
        2500.0,
        "flighted",
        6.0,
        None,
        (),
        (Campaign("radio_drive_time", 0.6, 0.0, 0.015, 70.0), Campaign("radio_weekend", 0.4, 0.0, 0.012, 70.0)),
    ),
    Channel(
        "Print",
        1800.0,
        "flighted",
        20.0,
        None,
        (),
        (Campaign("print_magazine", 0.55, 0.0, 0.010, 110.0), Campaign("print_newspaper", 0.45, 0.0, 0.008, 80.0)),
    ),
    Channel(
        "Display",
        2200.0,
        "always_on",
        3.0,
        "display",
        (("gdn", 1.0),),
        (Campaign("display_prospecting", 0.6, 0.0025, 0.006, 70.0), Campaign("display_retargeting", 0.4, 0.0060, 0.020, 80.0)),
    ),
    Channel(
        "CTV",
        3500.0,
        "flighted",
        30.0,
        None,
        (),
        (Campaign("ctv_streaming_brand", 0.7, 0.0015, 0.018, 100.0), Campaign("ctv_sports", 0.3, 0.0020, 0.022, 105.0)),
    ),
    Channel(
        "Search",
        4500.0,
        "always_on",
        40.0,
        "cpc",
        (("google", 1.0),),
        (
            Campaign("search_brand", 0.35, 0.080, 0.090, 85.0),
            Campaign("search_generic", 0.45, 0.035, 0.035, 75.0),
            Campaign("search_competitor", 0.20, 0.025, 0.020, 70.0),
        ),
    ),
    Channel(
        "Social",
        3200.0,
        "always_on",
        8.0,
        "paid_social",
        (("facebook", 0.6), ("instagram", 0.4)),
        (
            Campaign("social_prospecting", 0.5, 0.009, 0.015, 65.0),
            Campaign("social_retargeting", 0.3, 0.015, 0.040, 75.0),
            Campaign("social_video", 0.2, 0.005, 0.010, 60.0),
        ),
    ),
    Channel(
        "Email",
        350.0,
        "email",
        1.5,
        "email",
        (("newsletter", 1.0),),
        (
            Campaign("email_newsletter", 0.50, 0.030, 0.025, 60.0),
            Campaign("email_promo", 0.35, 0.045, 0.050, 70.0),
            Campaign("email_winback", 0.15, 0.020, 0.030, 80.0),
        ),
    ),
)
NEVER_OFF = tuple(c.name for c in CHANNELS if c.pattern != "flighted")

# The baseline's fixed parts; its trend, yearly amplitude and the noise level are drawn per world.
BASELINE_LEVEL = 60000.0
WEEKLY_MULTIPLIERS = {"Mon": 1.00, "Tue": 0.97, "Wed": 0.96, "Thu": 0.99, "Fri": 1.04, "Sat": 1.12, "Sun": 1.08}
HOLIDAY_MULTIPLIERS = {"black_friday": 1.5, "cyber_monday": 1.3}
REVENUE_FLOOR = 100.0


@dataclass(frozen=True)
class Preset:
    """Ranges a world's truth is drawn from (all ranges inclusive; "log" ones drawn log-uniformly)."""

    name: str
    roi: tuple[float, float] = (0.3, 5.0)  # log
    half_saturation_multiple: tuple[float, float] = (0.3, 3.0)  # log, x median adstock on spend days
    shape: tuple[float, float] = (0.6, 3.0)  # log
    decay: tuple[float, float] = (0.0, 0.85)  # daily
    delayed_probability: float = 0.2  # per channel: the effect peaks some days after the spend
    peak_days: tuple[float, float] = (2.0, 10.0)
    spend_level_sd: float = 0.3  # log-normal spread of each channel's typical spend around its default
    low_variation_probability: float = 0.5  # that one always-on channel's spend barely varies
    always_on_correlation: tuple[float, float] = (0.0, 0.6)  # shared share of the spend shocks
    ctv_with_tv_probability: float = 0.25  # CTV flights in TV's weeks (collinear flighted channels)
    noise: tuple[float, float] = (0.02, 0.08)  # daily revenue noise SD / baseline level
    trend_per_year: tuple[float, float] = (-0.05, 0.15)
    yearly_amplitude: tuple[float, float] = (0.05, 0.2)
    tested_channels: int = 4  # never-off channels considered for a lift test (each if a test can measure it)
    switch_off_probability: float = 0.25  # a test is a national switch-off, else a geo holdout
    holdout_share: tuple[float, float] = (0.25, 0.5)
    test_days: tuple[int, int] = (21, 56)
    # Outside the model's family (all off in default and hard):
    weibull_probability: float = 0.0  # per channel: carry-over with a Weibull-shaped lag
    weibull_peak_days: tuple[float, float] = (7.0, 21.0)
    weibull_shape: tuple[float, float] = (1.5, 4.0)
    saturations: tuple[tuple[str, float], ...] = (("hill", 1.0),)  # saturation families and their weights
    multiplicative: bool = False  # revenue = base x (1 + media / base level): media effects follow the season
    ar_noise: tuple[float, float] = (0.0, 0.0)  # AR(1) coefficient of the daily noise (0.9 a day is ~0.5 a week)
    tv_search_interaction: tuple[float, float] = (0.0, 0.0)  # Search's response x (1 + g x TV's saturation)
    demand_shock_sd: tuple[float, float] = (0.0, 0.0)  # persistent demand: log-AR(1) of the base, stationary SD
    demand_driven: tuple[tuple[str, str], ...] = ()  # (channel, rule): budgets that follow revenue


PRESETS = {
    "default": Preset("default"),
    "hard": Preset(
        "hard",
        delayed_probability=0.5,
        low_variation_probability=1.0,
        always_on_correlation=(0.6, 0.95),
        ctv_with_tv_probability=1.0,
        noise=(0.05, 0.08),
        tested_channels=2,
    ),
    "shapes": Preset(
        "shapes",
        weibull_probability=0.5,
        saturations=(("exponential", 0.5), ("log1p", 0.5)),
        ar_noise=(0.9, 0.97),
    ),
    "multiplicative": Preset(
        "multiplicative",
        multiplicative=True,
        tv_search_interaction=(0.5, 1.5),
        ar_noise=(0.8, 0.95),
    ),
    "demand": Preset(
        "demand",
        demand_shock_sd=(0.06, 0.15),
        demand_driven=(("Search", "last_week_revenue"), ("Display", "revenue_share")),
    ),
}
IN_FAMILY_PRESETS = ("default", "hard")
DEMAND_PERSISTENCE = 0.97  # daily AR(1) coefficient of log demand (a shock halves in about 3 weeks)


@dataclass(frozen=True)
class ChannelTruth:
    """A channel's drawn response and spend traits (before its spend exists; see world.py)."""

    name: str
    target_roi: float
    half_saturation_multiple: float
    shape: float
    decay: float
    adstock: str  # "geometric", "delayed" or "weibull" (simulate.curves.CARRY_OVERS)
    peak_days: float
    spend_level: float
    low_variation: bool
    saturation: str = "hill"  # simulate.curves.SATURATIONS
    weibull_shape: float = 0.0
    weibull_scale: float = 0.0
    demand_rule: str = ""  # "", "last_week_revenue" or "revenue_share"

    def curve(self, half_saturation: float):
        """The channel's true shape (simulate.curves.TrueCurve) at a half-saturation level."""
        return TrueCurve(
            self.adstock,
            self.saturation,
            half_saturation,
            self.shape,
            self.decay,
            self.peak_days,
            self.weibull_shape,
            self.weibull_scale,
        )


@dataclass(frozen=True)
class WorldTruth:
    """Everything drawn for one world before any spend or revenue is simulated."""

    preset: str
    channels: dict[str, ChannelTruth]
    noise_relative_sd: float
    trend_per_year: float
    yearly_amplitude: float
    yearly_peak_day_of_year: float
    always_on_correlation: float
    ctv_with_tv: bool
    revenue_form: str = "additive"  # or "multiplicative"
    noise_ar: float = 0.0
    tv_search_interaction: float = 0.0
    demand_shock_sd: float = 0.0

    def summary(self) -> dict:
        """The world-level draws, for ground_truth.json."""
        out = {k: v for k, v in asdict(self).items() if k not in {"channels"}}
        out["low_variation_channels"] = [c.name for c in self.channels.values() if c.low_variation]
        out["noise_sd"] = round(self.noise_relative_sd * BASELINE_LEVEL, 2)
        return out


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _out_of_family(rng: np.random.Generator, preset: Preset, truth: ChannelTruth) -> ChannelTruth:
    """A channel's out-of-family draws: its carry-over and saturation families, its demand rule."""
    families, weights = zip(*preset.saturations)
    saturation = str(rng.choice(families, p=np.array(weights) / sum(weights)))
    weibull = rng.random() < preset.weibull_probability
    shape = round(float(rng.uniform(*preset.weibull_shape)), 3)
    peak = round(float(rng.uniform(*preset.weibull_peak_days)), 2)
    changes = {"saturation": saturation, "demand_rule": dict(preset.demand_driven).get(truth.name, "")}
    if saturation != "hill":
        changes["shape"] = 1.0
    if weibull:
        changes.update(
            adstock="weibull",
            decay=0.0,
            peak_days=peak,
            weibull_shape=shape,
            weibull_scale=round(weibull_scale_for_peak(shape, peak), 3),
        )
    return replace(truth, **changes)


def draw_world(rng: np.random.Generator, preset: Preset, extra: np.random.Generator | None = None) -> WorldTruth:
    """Draw a world's truth from the preset's ranges; ``extra`` draws the out-of-family traits
    (a stream of its own, so in-family worlds do not depend on it)."""
    always_on = [c.name for c in CHANNELS if c.pattern == "always_on"]
    low = str(rng.choice(always_on)) if rng.random() < preset.low_variation_probability else None
    channels = {}
    for channel in CHANNELS:
        delayed = rng.random() < preset.delayed_probability
        channels[channel.name] = ChannelTruth(
            name=channel.name,
            target_roi=round(_log_uniform(rng, preset.roi), 3),
            half_saturation_multiple=round(_log_uniform(rng, preset.half_saturation_multiple), 3),
            shape=round(_log_uniform(rng, preset.shape), 3),
            decay=round(float(rng.uniform(*preset.decay)), 3)
            if not delayed
            else round(float(rng.uniform(max(preset.decay[0], 0.3), preset.decay[1])), 3),
            adstock="delayed" if delayed else "geometric",
            peak_days=round(float(rng.uniform(*preset.peak_days)), 2) if delayed else 0.0,
            spend_level=round(channel.spend_level * float(rng.lognormal(0.0, preset.spend_level_sd)), 2),
            low_variation=channel.name == low,
        )
    extra = np.random.default_rng(0) if extra is None else extra
    channels = {name: _out_of_family(extra, preset, truth) for name, truth in channels.items()}
    world_extra = {
        "revenue_form": "multiplicative" if preset.multiplicative else "additive",
        "noise_ar": round(float(extra.uniform(*preset.ar_noise)), 3),
        "tv_search_interaction": round(float(extra.uniform(*preset.tv_search_interaction)), 3),
        "demand_shock_sd": round(float(extra.uniform(*preset.demand_shock_sd)), 4),
    }
    return WorldTruth(
        preset=preset.name,
        channels=channels,
        noise_relative_sd=round(float(rng.uniform(*preset.noise)), 4),
        trend_per_year=round(float(rng.uniform(*preset.trend_per_year)), 4),
        yearly_amplitude=round(float(rng.uniform(*preset.yearly_amplitude)), 4),
        yearly_peak_day_of_year=round(float(rng.uniform(0, 365)), 1),
        always_on_correlation=round(float(rng.uniform(*preset.always_on_correlation)), 3),
        ctv_with_tv=bool(rng.random() < preset.ctv_with_tv_probability),
        **world_extra,
    )


def baseline(dates: pd.DatetimeIndex, world: WorldTruth) -> np.ndarray:
    """Baseline revenue b_t = L * (1 + g t / 365.25) * weekly_t * (1 + A cos(2 pi (doy - P) / 365.25)) * holiday_t."""
    years = np.arange(len(dates)) / 365.25
    weekly = np.array(list(WEEKLY_MULTIPLIERS.values()))[np.asarray(dates.day_of_week)]
    day_of_year = np.asarray(dates.day_of_year, dtype=float)
    yearly = 1.0 + world.yearly_amplitude * np.cos(2 * np.pi * (day_of_year - world.yearly_peak_day_of_year) / 365.25)
    holiday = np.ones(len(dates))
    for year in sorted(set(dates.year)):
        nov_first = pd.Timestamp(year=year, month=11, day=1)
        thanksgiving = nov_first + pd.Timedelta(days=(3 - nov_first.day_of_week) % 7 + 21)
        for offset, key in ((1, "black_friday"), (4, "cyber_monday")):
            holiday[np.asarray(dates == thanksgiving + pd.Timedelta(days=offset))] = HOLIDAY_MULTIPLIERS[key]
    return BASELINE_LEVEL * (1.0 + world.trend_per_year * years) * weekly * yearly * holiday


def demand_multiplier(rng: np.random.Generator, n_days: int, world: WorldTruth) -> np.ndarray:
    """Persistent demand shocks of the base, exp(u_t) with u a daily AR(1) (DEMAND_PERSISTENCE) whose
    stationary SD is the world's ``demand_shock_sd`` (all ones without shocks). Nothing in the
    calendar predicts them: a model sees them only through revenue and the demand signal."""
    if world.demand_shock_sd <= 0:
        return np.ones(n_days)
    rho = DEMAND_PERSISTENCE
    innovations = world.demand_shock_sd * math.sqrt(1 - rho**2) * rng.standard_normal(n_days)
    start = world.demand_shock_sd * rng.standard_normal()
    u = lfilter([1.0], [1.0, -rho], innovations, zi=[rho * start])[0]
    return np.exp(u - 0.5 * world.demand_shock_sd**2)


def daily_noise(rng: np.random.Generator, n_days: int, world: WorldTruth) -> np.ndarray:
    """Revenue noise per day: Gaussian with SD noise_relative_sd x BASELINE_LEVEL, independent across
    days or, with ``noise_ar`` > 0, an AR(1) with that stationary SD (today's surprise carries into
    tomorrow's)."""
    sd = world.noise_relative_sd * BASELINE_LEVEL
    white = rng.normal(0.0, sd, n_days)
    rho = world.noise_ar
    if rho <= 0:
        return white
    return lfilter([math.sqrt(1 - rho**2)], [1.0, -rho], white, zi=[rho * white[0]])[0]
