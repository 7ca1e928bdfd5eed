"""Personas on the real marketing_campaign.csv, checked against independent pandas computations,
and persona discovery (clustering) checked on planted clusters and for determinism."""

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from sklearn.metrics import adjusted_rand_score

from gtm_assets.defs.personas.persona_clusters import CUSTOMER_TRAITS, PersonaClusterConfig
from gtm_assets.models.creative import TONES
from gtm_assets.models.segmentation import Trait, discover_segments
from gtm_assets_tests.conftest import REPO

SPEND = ["MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts", "MntGoldProds"]
ACCEPTS = [f"AcceptedCmp{i}" for i in range(1, 6)]


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    """Cohort and persona per customer, computed here from the CSV with pandas alone."""
    csv = pd.read_csv(REPO / "data" / "marketing_campaign.csv", sep="\t")
    csv["spend"] = csv[SPEND].sum(axis=1)
    csv["accepts"] = csv[ACCEPTS].sum(axis=1)
    year = csv["Year_Birth"]
    in_range = year.between(1920, 2005)
    csv["cohort"] = np.select(
        [~in_range, year >= 1988, year >= 1976, year >= 1965],
        ["Unassigned", "Young Professionals", "Mid-Career", "Established"],
        "Legacy",
    )
    medians = csv[in_range].groupby("cohort")[["spend", "accepts"]].median()
    high_spend = csv["spend"] > csv["cohort"].map(medians["spend"])
    high_accepts = csv["accepts"] > csv["cohort"].map(medians["accepts"])
    csv["persona"] = np.select(
        [~in_range, high_spend & high_accepts, high_spend, high_accepts],
        ["Unassigned", "Champions", "Premium-but-Quiet", "Deal-Responsive"],
        "Hard-to-Convert",
    )
    csv["median_spend"] = csv["cohort"].map(medians["spend"])
    csv["median_accepts"] = csv["cohort"].map(medians["accepts"])
    return csv


def _customers(conn) -> pd.DataFrame:
    return conn.execute("SELECT * FROM main.personas WHERE entity_type = 'customer'").fetchdf()


def _materialization(graph_run, asset: str) -> dict:
    for result in graph_run.results:
        for event in result.get_asset_materialization_events():
            if event.materialization.asset_key == dg.AssetKey(asset):
                return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"{asset} was not materialized")


def test_cohort_sizes_equal_an_independent_count_from_year_birth(conn, expected):
    sizes = dict(conn.execute("SELECT cohort, count(*) FROM main.personas WHERE entity_type = 'customer' GROUP BY 1").fetchall())
    assert sizes == expected["cohort"].value_counts().to_dict()
    assert sum(sizes.values()) == len(expected) == 2240


def test_every_customer_follows_its_cohorts_median_rule(conn, expected):
    merged = _customers(conn).merge(expected, left_on="customer_id", right_on="ID", validate="one_to_one")
    assert len(merged) == len(expected)
    assert (merged["cohort_x"] == merged["cohort_y"]).all()
    assert (merged["persona_x"] == merged["persona_y"]).all(), merged.loc[
        merged["persona_x"] != merged["persona_y"], ["ID", "persona_x", "persona_y"]
    ]
    # Tie rule: equal to the median is "low". Past acceptances sit at the median (0) for most
    # customers; none of them may be called high-engagement.
    at_median = merged[(merged["cohort_y"] != "Unassigned") & (merged["accepts"] == merged["median_accepts"])]
    assert len(at_median) > 1000
    assert set(at_median["persona_x"]) <= {"Premium-but-Quiet", "Hard-to-Convert"}
    spend_ties = merged[(merged["cohort_y"] != "Unassigned") & (merged["spend"] == merged["median_spend"])]
    assert set(spend_ties["persona_x"]) <= {"Deal-Responsive", "Hard-to-Convert"}


def test_persona_summary_equals_a_direct_groupby(conn, expected):
    summary = conn.execute("SELECT * FROM main.persona_summary").fetchdf().set_index(["cohort", "persona"])
    direct = expected.groupby(["cohort", "persona"]).agg(
        customers=("ID", "size"),
        response_rate=("Response", "mean"),
        mean_spend=("spend", "mean"),
        mean_engagement=("accepts", "mean"),
        mean_income=("Income", "mean"),
    )
    assert sorted(summary.index) == sorted(direct.index)
    for key, row in direct.iterrows():
        assert summary.loc[key, "customers"] == row["customers"]
        assert summary.loc[key, "response_rate"] == pytest.approx(row["response_rate"], abs=5e-5)
        assert summary.loc[key, "mean_spend"] == pytest.approx(row["mean_spend"], abs=5e-3)
        assert summary.loc[key, "mean_engagement"] == pytest.approx(row["mean_engagement"], abs=5e-4)
        assert summary.loc[key, "mean_income"] == pytest.approx(row["mean_income"], abs=5e-3)
    assert summary["share"].sum() == pytest.approx(1.0, abs=1e-3)


def test_missing_income_and_out_of_range_birth_years_are_kept_and_counted(conn, expected, graph_run):
    customers = _customers(conn)
    out_of_range = ~expected["Year_Birth"].between(1920, 2005)
    assert out_of_range.sum() == 3  # 1893, 1899, 1900 in the real file
    unassigned = customers[customers["persona"] == "Unassigned"]
    assert set(unassigned["customer_id"]) == set(expected.loc[out_of_range, "ID"])
    assert set(unassigned["unassigned_reason"]) == {"year_birth_out_of_range"}
    missing_income = customers[customers["income_missing"]]
    assert set(missing_income["customer_id"]) == set(expected.loc[expected["Income"].isna(), "ID"])
    assert len(missing_income) == 24 and (missing_income["persona"] != "Unassigned").all()
    flagged = conn.execute(
        "SELECT count(*) FILTER (data_issues LIKE '%missing_income%'), "
        "count(*) FILTER (data_issues LIKE '%year_birth_out_of_range%') FROM main.customer_features"
    ).fetchall()[0]
    assert flagged == (24, 3)
    metadata = _materialization(graph_run, "personas")
    assert metadata["customers_missing_income"] == 24
    assert metadata["unassigned_birth_year_out_of_range"] == 3
    assert metadata["customers"] == 2240


def test_assignments_trace_back_to_raw_rows_and_sessions(conn):
    counts = conn.execute(
        """
        SELECT
            count(*) FILTER (a.entity_type = 'customer'),
            count(*) FILTER (a.entity_type = 'customer' AND r."ID"::INTEGER = a.customer_id
                             AND r.source_file_sha256 = a.source_file_sha256),
            count(*) FILTER (a.entity_type = 'user'),
            count(*) FILTER (a.entity_type = 'user' AND f.session_lineage_ids = a.session_lineage_ids),
            count(*) FILTER (a.cluster_id IS NULL),
            count(DISTINCT a.lineage_id) - count(*)
        FROM main.personas a
        LEFT JOIN raw.raw_customers r USING (raw_row_id)
        LEFT JOIN main.features f ON f.lineage_id = a.source_lineage_id
        """
    ).fetchall()[0]
    users = conn.execute("SELECT count(*) FROM main.features").fetchall()[0][0]
    assert counts[0] == counts[1] == 2240
    assert counts[2] == counts[3] == users > 0
    assert counts[4] == 0 and counts[5] == 0


def test_response_rates_differ_by_persona_not_by_cohort(expected, graph_run):
    assigned = expected[expected["cohort"] != "Unassigned"]
    by_cohort = chi2_contingency(pd.crosstab(assigned["cohort"], assigned["Response"]))
    by_segment = chi2_contingency(pd.crosstab(assigned["cohort"] + "|" + assigned["persona"], assigned["Response"]))
    tests = _materialization(graph_run, "personas")["response_chi_square"]
    assert tests["cohort_vs_response"]["chi2"] == pytest.approx(by_cohort.statistic, abs=1e-3)
    assert tests["segment_vs_response"]["chi2"] == pytest.approx(by_segment.statistic, abs=1e-3)
    assert tests["cohort_vs_response"]["p_value"] > 0.05  # cohorts respond alike
    assert tests["segment_vs_response"]["p_value"] < 1e-6  # personas within cohorts do not
    metadata = _materialization(graph_run, "personas")
    assert "(whole cohort)" in metadata["response_by_cohort_and_persona"]
    assert metadata["persona_response_rates_chart"].startswith("![persona_response_rates](data:image/png;base64,")


def test_segmentation_recovers_planted_clusters_and_names_them():
    rng = np.random.default_rng(5)
    centers = {"big": (3.0, 0.0), "deal": (0.0, 3.0), "quiet": (-3.0, -3.0)}
    frame = pd.concat(
        [
            pd.DataFrame(rng.normal(c, 0.4, size=(200 + 100 * i, 2)), columns=["spend", "deals"]).assign(truth=name)
            for i, (name, c) in enumerate(centers.items())
        ],
        ignore_index=True,
    )
    traits = [Trait("spend", "Big Spenders", "Light Spenders"), Trait("deals", "Deal Seekers", "Full-Price")]
    found = discover_segments(frame, traits, k_range=range(2, 7), n_bootstrap=5, seed=1)
    assert found.k == 3 and found.silhouette == max(found.silhouette_by_k.values())
    assert adjusted_rand_score(frame["truth"], found.labels) > 0.99
    assert min(found.stability_ari) > 0.95
    # Numbered by size: the planted clusters have 400, 300 and 200 rows.
    names = dict(zip(found.profiles["cluster"], found.profiles["name"]))
    assert list(found.profiles["size"]) == [400, 300, 200]
    assert "Light Spenders" in names[1] and "Full-Price" in names[1]
    assert names[2].startswith("Deal Seekers")
    assert names[3].startswith("Big Spenders")


def test_clustering_is_deterministic_and_its_quality_is_recorded(conn, graph_run):
    config = PersonaClusterConfig()
    columns = [t.column for t in CUSTOMER_TRAITS]
    frame = conn.execute(
        f"SELECT lineage_id, {', '.join(c + '::DOUBLE AS ' + c for c in columns)} FROM main.customer_features ORDER BY lineage_id"
    ).fetchdf()
    runs = [
        discover_segments(
            frame,
            CUSTOMER_TRAITS,
            k_range=range(config.min_k, config.max_k + 1),
            n_bootstrap=config.n_bootstrap,
            seed=config.seed,
        )
        for _ in range(2)
    ]
    assert (runs[0].labels == runs[1].labels).all()
    assert runs[0].stability_ari == runs[1].stability_ari
    pd.testing.assert_frame_equal(runs[0].profiles, runs[1].profiles)
    stored = conn.execute(
        "SELECT source_lineage_id, cluster_id FROM main.persona_cluster_members WHERE entity_type = 'customer' "
        "ORDER BY source_lineage_id"
    ).fetchall()
    assert [s[0] for s in stored] == list(frame["lineage_id"])
    assert [s[1] for s in stored] == [f"customer-{c}" for c in runs[0].labels]

    quality = _materialization(graph_run, "persona_clusters")["clustering_quality"]
    for population in ("customer", "user"):
        figures = quality[population]
        by_k = {int(k): v for k, v in figures["silhouette_by_k"].items()}
        assert sorted(by_k) == list(range(config.min_k, config.max_k + 1))
        assert figures["silhouette"] == max(by_k.values()) == by_k[figures["k"]]
        assert 0 < figures["stability_ari_min"] <= figures["stability_ari_mean"] <= 1
        assert figures["bootstrap_resamples"] == config.n_bootstrap and figures["seed"] == config.seed
    assert quality["customer"]["k"] == runs[0].k
    clusters = conn.execute("SELECT population, cluster_name, members FROM main.persona_clusters").fetchdf()
    assert clusters.groupby("population")["members"].sum().to_dict() == {
        "customer": 2240,
        "user": conn.execute("SELECT count(*) FROM main.features").fetchall()[0][0],
    }
    assert clusters["cluster_name"].is_unique


def test_creative_briefs_cover_every_segment_and_feed_the_library(conn):
    briefs = conn.execute("SELECT * FROM main.creative_briefs").fetchdf()
    segments = conn.execute("SELECT lineage_id FROM main.persona_summary WHERE persona <> 'Unassigned'").fetchdf()
    clusters = conn.execute("SELECT lineage_id FROM main.persona_clusters").fetchdf()
    persona_briefs = briefs[briefs["segment_type"] == "persona"]
    cluster_briefs = briefs[briefs["segment_type"] == "cluster"]
    assert sorted(persona_briefs["persona_summary_lineage_id"]) == sorted(segments["lineage_id"])
    assert len(persona_briefs) == 16
    assert sorted(cluster_briefs["persona_cluster_lineage_id"]) == sorted(clusters["lineage_id"])
    for brief in briefs.itertuples():
        assert brief.tone in TONES and set(brief.channels) <= {"email", "search", "social", "display"} and brief.channels.size
        assert brief.who_they_are and brief.responds_to and brief.do_list.size and brief.dont_list.size
        assert isinstance(json.loads(brief.key_figures), dict) and isinstance(json.loads(brief.offer_figures), dict)
    champions = persona_briefs[persona_briefs["persona"] == "Champions"]
    assert set(champions["offer_type"]) == {"loyalty"}
    # Every creative written from a brief points at an existing cluster brief.
    orphans = conn.execute(
        "SELECT count(*) FROM main.creative_library l LEFT JOIN main.creative_briefs b ON b.lineage_id = l.brief_lineage_id "
        "WHERE l.brief_lineage_id IS NOT NULL AND (b.lineage_id IS NULL OR b.segment_type <> 'cluster')"
    ).fetchone()[0]
    assert orphans == 0
