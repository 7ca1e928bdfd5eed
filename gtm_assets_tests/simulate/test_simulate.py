"""Tests for the seeded simulator (gtm_assets.simulate): files, counts, varied worlds, the media
plan's honesty and the experiments' measurements."""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from gtm_assets.cli.simulate import main
from gtm_assets.simulate import (
    CHANNELS,
    DEFECT_KINDS,
    EVENT_COLUMNS,
    NEVER_OFF,
    PLAN_FUTURE_DAYS,
    PRESETS,
    simulate,
    simulate_world,
    true_response,
    weekly_truth_panel,
)
from gtm_assets.simulate.spend import plan_spend, realise_spend
from gtm_assets.simulate.world import draw_world

SMALL = {"days": 120, "events": 8000, "formats": ("csv", "parquet", "jsonl.gz", "jsonl", "csv.gz"), "n_event_files": 5}


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> Path:
    """A small simulated small_world (seed 7) covering every event file format."""
    out = tmp_path_factory.mktemp("world_a")
    simulate(out, seed=7, **SMALL)
    return out


@pytest.fixture(scope="module")
def small_truth(small_world) -> dict:
    return json.loads((small_world / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def events_db(small_world):
    """DuckDB connection with all event files as table ``raw`` (all VARCHAR, plus the file name)."""
    connection = duckdb.connect()
    json_columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in EVENT_COLUMNS) + "}"
    parts = []
    for path in sorted((small_world / "landing" / "events").iterdir()):
        if ".csv" in path.name:
            source = f"read_csv('{path}', header = true, all_varchar = true, delim = ',', quote = '\"')"
        elif ".jsonl" in path.name:
            source = f"read_json('{path}', format = 'newline_delimited', columns = {json_columns})"
        else:
            source = f"read_parquet('{path}')"
        columns = [row[0] for row in connection.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        assert columns == list(EVENT_COLUMNS), path.name
        parts.append(f"SELECT '{path.name}' AS file, * FROM {source}")
    connection.execute("CREATE TABLE raw AS " + " UNION ALL ".join(parts))
    connection.execute("""
        CREATE VIEW valid AS
        SELECT DISTINCT * EXCLUDE (file) FROM raw
        WHERE event_id IS NOT NULL AND user_pseudo_id IS NOT NULL AND session_id IS NOT NULL
          AND try_cast(event_timestamp AS TIMESTAMP) IS NOT NULL
          AND (revenue IS NULL OR try_cast(revenue AS DECIMAL(18, 2)) >= 0)""")
    yield connection
    connection.close()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _scalar(connection, sql: str):
    return connection.sql(sql).fetchall()[0][0]


def test_same_seed_gives_identical_bytes(small_world, tmp_path):
    simulate(tmp_path, seed=7, **SMALL)
    assert _files(tmp_path) == _files(small_world)


def test_different_seed_gives_different_files(small_world, tmp_path):
    simulate(tmp_path, seed=8, **SMALL)
    first, second = _files(small_world), _files(tmp_path)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_file_layout(small_world, small_truth):
    names = sorted(p.name for p in (small_world / "landing" / "events").iterdir())
    assert names == sorted(small_truth["files"])
    assert names[0] == "events_001_2024-01-01_2024-01-24.csv"
    assert small_truth["start_date"] == "2024-01-01" and small_truth["end_date"] == "2024-04-29"
    media = pd.read_csv(small_world / "landing" / "media" / "media_spend.csv")
    assert list(media.columns) == ["date", "channel", "campaign", "spend", "impressions", "clicks", "conversions"]
    assert set(small_truth["counts"]["quarantined"]) == set(DEFECT_KINDS)


def test_counts_match_files(events_db, small_truth):
    counts = small_truth["counts"]
    per_file = dict(events_db.sql("SELECT file, count(*) FROM raw GROUP BY file").fetchall())
    assert per_file == counts["raw_rows_per_file"]
    assert sum(per_file.values()) == counts["raw_rows"]

    quarantined = counts["quarantined"]
    assert (
        _scalar(events_db, "SELECT count(*) FROM raw WHERE event_id IS NULL OR user_pseudo_id IS NULL OR session_id IS NULL")
        == quarantined["missing_id"]
    )
    assert (
        _scalar(events_db, "SELECT count(*) FROM raw WHERE try_cast(event_timestamp AS TIMESTAMP) IS NULL")
        == quarantined["unparseable_timestamp"]
    )
    assert _scalar(events_db, "SELECT count(*) FROM raw WHERE try_cast(revenue AS DOUBLE) < 0") == quarantined["negative_revenue"]
    assert (
        _scalar(events_db, "SELECT count(*) FROM raw WHERE revenue IS NOT NULL AND try_cast(revenue AS DOUBLE) IS NULL")
        == quarantined["non_numeric_revenue"]
    )
    assert _scalar(events_db, "SELECT count(event_id) - count(DISTINCT event_id) FROM raw") == quarantined["duplicate_event_id"]
    # Duplicates are full copies of a row.
    assert (
        _scalar(events_db, "SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (file) FROM raw)")
        == counts["raw_rows"] - quarantined["duplicate_event_id"]
    )
    assert counts["quarantined_total"] == sum(quarantined.values())

    assert _scalar(events_db, "SELECT count(*) FROM valid WHERE consent_analytics = 'false'") == counts["dropped_for_consent"]
    assert _scalar(events_db, "SELECT count(*) FROM valid WHERE consent_analytics = 'true'") == counts["kept"]
    assert counts["kept"] == counts["raw_rows"] - counts["dropped_for_consent"] - counts["quarantined_total"]
    assert (
        _scalar(events_db, "SELECT count(DISTINCT (user_pseudo_id, session_id)) FROM valid WHERE consent_analytics = 'true'")
        == counts["kept_sessions"]
    )
    kept_revenue = _scalar(events_db, "SELECT sum(revenue::DECIMAL(18, 2)) FROM valid WHERE consent_analytics = 'true'")
    assert float(kept_revenue) == pytest.approx(counts["kept_revenue"], abs=0.005)


def test_purchase_revenue_per_day_matches_truth(events_db, small_world):
    per_day = events_db.sql("""
        SELECT event_timestamp[1:10] AS date, sum(revenue::DECIMAL(18, 2)) AS revenue, count(*) AS purchases
        FROM raw WHERE event_name = 'purchase' GROUP BY 1 ORDER BY 1""").df()
    daily = pd.read_csv(small_world / "ground_truth_daily.csv", dtype={"revenue_total": str})
    assert len(per_day) == len(daily) == SMALL["days"]
    assert (per_day["purchases"] >= 1).all()
    assert [f"{v:.2f}" for v in per_day["revenue"]] == list(daily["revenue_total"])
    assert list(per_day["date"]) == list(daily["date"])
    assert _scalar(events_db, "SELECT count(*) FROM raw WHERE event_name <> 'purchase' AND try_cast(revenue AS DOUBLE) >= 0") == 0


def test_media_spend_matches_daily_spend_and_roi(small_world, small_truth):
    media = pd.read_csv(small_world / "landing" / "media" / "media_spend.csv")
    daily = pd.read_csv(small_world / "ground_truth_daily.csv")
    media["cents"] = (media["spend"] * 100).round().astype(int)
    per_channel_day = media.pivot_table(index="date", columns="channel", values="cents", aggfunc="sum")
    for channel in CHANNELS:
        expected = (daily[f"spend_{channel.name}"] * 100).round().astype(int).to_numpy()
        assert (per_channel_day[channel.name].to_numpy() == expected).all(), channel.name
        facts = small_truth["channels"][channel.name]
        assert facts["total_spend"] == pytest.approx(daily[f"spend_{channel.name}"].sum(), abs=0.01)
        contribution = daily[f"contrib_{channel.name}"].sum()
        assert facts["total_contribution"] == pytest.approx(contribution, abs=0.01 * len(daily))
        assert facts["true_roi"] == pytest.approx(facts["total_contribution"] / facts["total_spend"], abs=1e-6)
        # The contribution is the drawn response applied to the spend (no test ran for untested channels).
        if not facts["tested"]:
            curve = true_response(facts)
            np.testing.assert_allclose(
                curve.series(daily[f"spend_{channel.name}"].to_numpy()), daily[f"contrib_{channel.name}"], rtol=1e-6, atol=0.01
            )
    assert set(small_truth["campaigns"]) == {c.name for c in CHANNELS}


def test_consent_and_malformed_shares(events_db, small_truth):
    no_consent = _scalar(events_db, "SELECT avg((consent_analytics = 'false')::INT) FROM raw")
    assert no_consent == pytest.approx(0.10, abs=0.03)
    no_ads = _scalar(events_db, "SELECT avg((consent_ads = 'false')::INT) FROM raw")
    assert no_ads == pytest.approx(0.25, abs=0.04)
    counts = small_truth["counts"]
    assert counts["quarantined_total"] / counts["raw_rows"] == pytest.approx(0.005, abs=0.001)
    assert all(n > 0 for n in counts["quarantined"].values())


def test_sessions_are_consistent(events_db):
    # Events of a session share its UTMs/consent and increase strictly in time.
    assert (
        _scalar(
            events_db,
            """
        SELECT count(*) FROM (
            SELECT user_pseudo_id, session_id FROM valid
            GROUP BY ALL
            HAVING count(DISTINCT (utm_source, utm_medium, coalesce(utm_campaign, ''), consent_analytics)) > 1
        )""",
        )
        == 0
    )
    assert (
        _scalar(
            events_db,
            """
        SELECT count(*) FROM (
            SELECT event_timestamp::TIMESTAMP AS ts,
                   lag(event_timestamp::TIMESTAMP)
                       OVER (PARTITION BY user_pseudo_id, session_id ORDER BY event_id) AS previous
            FROM valid)
        WHERE ts <= previous""",
        )
        == 0
    )
    assert (
        _scalar(
            events_db,
            "SELECT count(*) FROM valid WHERE event_timestamp NOT SIMILAR TO "
            "'\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z'",
        )
        == 0
    )
    multi_session_users = _scalar(
        events_db,
        """
        SELECT count(*) FROM (SELECT user_pseudo_id FROM valid GROUP BY 1 HAVING count(DISTINCT session_id) > 1)""",
    )
    assert multi_session_users > 50


def test_cli_writes_outputs(tmp_path, capsys):
    main(["--out", str(tmp_path), "--days", "60", "--events", "2000", "--formats", "parquet,csv.gz", "--files", "3"])
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    assert [name.rsplit(".", 1)[-1] for name in truth["files"]] == ["parquet", "gz", "parquet"]
    assert "raw rows" in capsys.readouterr().out


def test_media_plan_covers_the_days_and_the_future(small_world, small_truth):
    plan = pd.read_csv(small_world / "landing" / "plans" / "media_plan.csv", parse_dates=["date"])
    assert list(plan.columns) == ["date", "channel", "planned_spend"]
    expected_days = pd.date_range(small_truth["start_date"], periods=SMALL["days"] + PLAN_FUTURE_DAYS, freq="D")
    for channel in CHANNELS:
        days = plan.loc[plan.channel == channel.name, "date"]
        assert list(days) == list(expected_days), channel.name
    assert (plan.planned_spend >= 0).all()
    future = plan[plan.date > pd.Timestamp(small_truth["end_date"])]
    assert (future[future.channel.isin(NEVER_OFF)].planned_spend > 0).all()
    daily = pd.read_csv(small_world / "ground_truth_daily.csv", parse_dates=["date"]).set_index("date")
    planned = plan.pivot(index="date", columns="channel", values="planned_spend").loc[daily.index]
    for channel in CHANNELS:
        assert (daily[f"spend_{channel.name}"][planned[channel.name] == 0] == 0).all(), channel.name


def test_plan_is_fixed_before_the_spend_it_plans():
    """The plan is drawn at plan time: the shocks that realise it (drawn later) cannot change it, and
    realised spend departs from it by a persistent drift that the plan does not contain."""
    dates = pd.date_range("2024-01-01", periods=730, freq="D")
    world = draw_world(np.random.default_rng([3, 0]), PRESETS["default"])
    plan = plan_spend(np.random.default_rng([3, 4]), world, dates)
    again = plan_spend(np.random.default_rng([3, 4]), world, dates)
    first = realise_spend(np.random.default_rng([3, 6]), world, plan, len(dates))
    second = realise_spend(np.random.default_rng([99, 6]), world, plan, len(dates))
    for channel in CHANNELS:
        np.testing.assert_array_equal(plan[channel.name], again[channel.name])
        assert not np.allclose(first[channel.name], second[channel.name]), channel.name
    for name in ("Search", "Social", "Display"):
        if world.channels[name].low_variation:
            continue
        ratio = pd.Series(np.log(first[name] / plan[name])).rolling(7).mean().dropna()
        weekly = ratio.to_numpy()[::7]
        # A drift, not daily noise: this week's departure from the plan predicts next week's.
        assert np.corrcoef(weekly[:-1], weekly[1:])[0, 1] > 0.5, name
        assert weekly.std() > 0.05, name


def test_worlds_vary_per_seed_within_the_preset_ranges():
    """Forty worlds: every drawn truth lies in the preset's ranges, and the draws cover them (concave
    and S-shaped curves, delayed peaks, saturation points on both sides of typical spend, low-variation
    channels, CTV flighted with TV, noise levels); two seeds never share their ROIs."""
    preset = PRESETS["default"]
    worlds = [draw_world(np.random.default_rng([seed, 0]), preset) for seed in range(40)]
    channels = [c for w in worlds for c in w.channels.values()]
    for name, (lo, hi) in (
        ("target_roi", preset.roi),
        ("half_saturation_multiple", preset.half_saturation_multiple),
        ("shape", preset.shape),
        ("decay", preset.decay),
    ):
        values = np.array([getattr(c, name) for c in channels])
        assert values.min() >= lo - 1e-3 and values.max() <= hi + 1e-3, name
        assert values.min() < lo + 0.25 * (hi - lo) and values.max() > hi - 0.25 * (hi - lo), name
    shapes = np.array([c.shape for c in channels])
    assert (shapes < 1).mean() > 0.15 and (shapes > 1.5).mean() > 0.3
    assert 0.1 < np.mean([c.adstock == "delayed" for c in channels]) < 0.35
    assert sum(any(c.low_variation for c in w.channels.values()) for w in worlds) > 10
    assert sum(w.ctv_with_tv for w in worlds) > 4
    noise = [w.noise_relative_sd for w in worlds]
    assert min(noise) >= 0.02 and max(noise) <= 0.08 and max(noise) - min(noise) > 0.04
    rois = [tuple(c.target_roi for c in w.channels.values()) for w in worlds]
    assert len(set(rois)) == len(rois)


def test_hard_preset_is_harder_and_the_truth_file_says_so(tmp_path):
    truth = simulate(tmp_path, days=120, events=2000, seed=5, formats=("csv",), preset="hard")
    assert truth["preset"] == "hard" and truth["world"]["ctv_with_tv"]
    assert len(truth["world"]["low_variation_channels"]) == 1
    assert 0.05 <= truth["world"]["noise_relative_sd"] <= 0.08
    for facts in truth["channels"].values():
        assert {
            "adstock",
            "decay",
            "peak_days",
            "saturation",
            "half_saturation",
            "shape",
            "coefficient",
            "target_roi",
            "true_roi",
            "tested",
        } <= set(facts)
    panel = weekly_truth_panel(tmp_path)
    on_tv, on_ctv = panel["TV"] > 0, panel["CTV"] > 0
    assert (on_tv == on_ctv).mean() > 0.9  # CTV flights in TV's weeks
    with pytest.raises(ValueError, match="unknown preset 'easy'"):
        simulate(tmp_path, days=60, events=100, preset="easy")


def test_lift_tests_are_experiments_measured_with_noise():
    """Over 200 worlds: spend really differs in each test window; the measured lift is unbiased for
    the true lift with the world's noise; geo holdouts' estimated standard errors are calibrated
    (90% of +-1.645 SE intervals cover); windows start on any weekday; channels too small to measure
    (Email) are not tested."""
    dates = pd.date_range("2024-01-01", periods=730, freq="D")
    z, designs, weekdays, tested = [], [], set(), set()
    for seed in range(200):
        world = simulate_world(seed, dates, "default")
        daily = world.daily.set_index("date")
        plan = world.media_plan.pivot(index="date", columns="channel", values="planned_spend")
        for test in world.experiments:
            window = daily.loc[test["start_date"] : test["end_date"]]
            spend = window[f"spend_{test['channel']}"].sum()
            planned = plan.loc[test["start_date"] : test["end_date"], test["channel"]].sum()
            # National spend in the window is the plan minus the held-out share (times realised noise).
            expected = (1 - test["holdout_share"]) * test["spend"] / test["holdout_share"]
            assert spend == pytest.approx(expected, rel=0.35, abs=1.0), test
            assert planned == pytest.approx(expected, rel=1e-6, abs=0.05), test
            z.append((test["incremental_revenue"] - test["true_incremental_revenue"]) / test["standard_error"])
            designs.append(test["design"])
            weekdays.add(pd.Timestamp(test["start_date"]).dayofweek)
            tested.add(test["channel"])
    z, designs = np.array(z), np.array(designs)
    geo = z[designs == "geo_holdout"]
    assert len(geo) > 250 and abs(geo.mean()) < 0.15
    assert 0.86 < np.mean(np.abs(geo) < 1.645) < 0.94
    assert (designs == "switch_off").sum() > 25 and abs(np.median(z[designs == "switch_off"])) < 0.3
    assert len(weekdays) == 7
    assert "Email" not in tested
