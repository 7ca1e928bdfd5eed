"""Allocation methods scored on the simulator's true (daily adstock + Hill) response curves, and
Thompson sampling on the true campaign funnels."""

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
from gtm_assets.models.bandit import split_channel_budget, thompson_shares
from gtm_assets.simulate import CHANNELS


def true_daily_revenue(truth: dict, spend: dict[str, float]) -> float:
    """Steady-state true revenue per day: beta * hill(x / (1 - decay)) with daily spend x."""
    total = 0.0
    for channel, x in spend.items():
        p = truth["channels"][channel]
        adstock = x / (1 - p["decay"])
        total += p["coefficient"] * adstock ** p["shape"] / (adstock ** p["shape"] + p["half_saturation"] ** p["shape"])
    return total


def true_weekly_params(truth: dict) -> pd.DataFrame:
    """The true daily curves in the allocator's weekly steady-state form (same revenue per day)."""
    rows = []
    for channel, p in truth["channels"].items():
        rows.append({"channel": channel, "decay": 0.0, "half_saturation": 7 * p["half_saturation"] * (1 - p["decay"]),
                     "shape": p["shape"], "coefficient": 7 * p["coefficient"]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def recent(truth, data_dir):
    media = pd.read_csv(data_dir / "landing" / "media" / "media_spend.csv", parse_dates=["date"])
    last = media[media.date > media.date.max() - pd.Timedelta(days=28)].groupby("channel")[["spend", "conversions"]].sum()
    current = (last.spend / 28).to_dict()
    cpa = (last.spend / last.conversions.clip(lower=1)).to_dict()
    return current, cpa


def scored(truth, recent, mmm: pd.DataFrame) -> dict[str, float]:
    current, cpa = recent
    guardrails = Guardrails(total_daily_budget=round(sum(current.values()), 2))
    revenue = {}
    for method in ("mmm_optimal", "inverse_cpa", "uniform"):
        plan = allocate(method, channels=list(current), current=current, guardrails=guardrails, mmm_channels=mmm, cpa=cpa)
        assert abs(plan.recommended_spend.sum() - guardrails.total_daily_budget) <= 0.01
        revenue[method] = true_daily_revenue(truth, dict(zip(plan.channel, plan.recommended_spend)))
    return revenue


def test_mmm_optimal_on_true_curves_beats_baselines(truth, recent):
    revenue = scored(truth, recent, true_weekly_params(truth))
    assert revenue["mmm_optimal"] > revenue["uniform"] * 1.02
    assert revenue["mmm_optimal"] > revenue["inverse_cpa"] * 1.02


def test_mmm_optimal_on_fitted_model_beats_baselines(truth, recent, conn):
    """The whole chain: the MMM fitted on the simulated data, scored on the true curves."""
    revenue = scored(truth, recent, conn.execute("SELECT * FROM main.mmm_model").fetchdf())
    assert revenue["mmm_optimal"] > revenue["uniform"]
    assert revenue["mmm_optimal"] > revenue["inverse_cpa"]


def test_infeasible_floors_name_the_constraint(recent):
    current, _ = recent
    floors = {"TV": 0.6 * sum(current.values()), "Search": 0.6 * sum(current.values())}
    with pytest.raises(InfeasibleGuardrails, match=r"^floors sum to [\d,.]+ > total budget [\d,.]+ \(channels: ") as error:
        allocate("uniform", channels=list(current), current=current,
                 guardrails=Guardrails(total_daily_budget=sum(current.values()), floors=floors))
    assert "TV " in str(error.value) and "Search " in str(error.value)


def _funnel(name: str) -> tuple[dict, float]:
    channel = next(c for c in CHANNELS if c.name == name)
    return {c.name: c.ctr for c in channel.campaigns}, channel.cpm


@pytest.mark.parametrize("channel_name", ["Social", "Search"])
def test_thompson_share_on_best_campaign_grows(truth, channel_name):
    """Rounds of: split a small budget, observe the true funnel's conversions, update."""
    rates = {c: v["conversion_rate"] for c, v in truth["campaigns"][channel_name].items()}
    ctr, cpm = _funnel(channel_name)
    per_spend = {c: 1000 / cpm * ctr[c] * rates[c] for c in rates}
    best = max(per_spend, key=per_spend.get)
    campaigns = list(rates)
    rng = np.random.default_rng(3)
    seen = pd.DataFrame({"campaign": campaigns, "recent_spend": 1.0, "window_spend": 0.0, "window_conversions": 0.0})
    budget = 10.0 / per_spend[best]  # about ten conversions a round if all went to the best campaign
    history = []
    for round_number in range(12):
        split = split_channel_budget(channel_name, budget, seen, seed=round_number).set_index("campaign")
        assert split.recommended_campaign_spend.sum() == pytest.approx(round(budget, 2), abs=1e-9)
        assert (split.campaign_share >= 0.05 - 1e-12).all()
        history.append(split.loc[best, "campaign_share"])
        spend = split.loc[campaigns, "recommended_campaign_spend"].to_numpy()
        clicks = rng.binomial((spend / cpm * 1000).astype(int), [ctr[c] for c in campaigns])
        seen["window_spend"] += spend
        seen["window_conversions"] += rng.binomial(clicks, [rates[c] for c in campaigns])
    assert history[0] < 0.7  # starts spread out while the posterior is vague
    assert np.mean(history[-4:]) > np.mean(history[:4]) + 0.1
    assert history[-1] > 0.75


def test_thompson_without_conversions_keeps_recent_shares():
    campaigns = pd.DataFrame({"campaign": ["a", "b"], "recent_spend": [300.0, 100.0],
                              "window_spend": [8400.0, 2800.0], "window_conversions": [0.0, 0.0]})
    split = split_channel_budget("TV", 1000.01, campaigns)
    assert split.split_method.eq("recent_share").all()
    assert split.recommended_campaign_spend.tolist() == [750.01, 250.0]
    assert "no tracked conversions" in split.split_rationale[0]
    with pytest.raises(ValueError, match="at least one conversion"):
        thompson_shares(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
