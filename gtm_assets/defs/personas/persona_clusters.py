"""persona_clusters: data-driven persona discovery (k-means) on customers and on web users."""

import json

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.segmentation import Segmentation, Trait, discover_segments
from gtm_assets.outbound.llm import LLMClient
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Behavioural features per population (customers: marketing_campaign.csv; users: web sessions),
# with the words a cluster's name uses when its centroid is well above / below the average.
CUSTOMER_TRAITS = [
    Trait("total_spend", "Big Spenders", "Light Spenders", log=True),
    Trait("past_accept_count", "Campaign Responders", "Campaign-Quiet"),
    Trait("recency_days", "Lapsing", "Recent Buyers"),
    Trait("web_purchases", "Web Shoppers", "Few Web Orders", log=True),
    Trait("catalog_purchases", "Catalog Buyers", "No Catalog", log=True),
    Trait("store_purchases", "Store Regulars", "Rarely In Store", log=True),
    Trait("deals_purchases", "Deal Seekers", "Full-Price Buyers", log=True),
    Trait("web_visits_month", "Frequent Browsers", "Rare Browsers"),
]
USER_TRAITS = [
    Trait("sessions", "Frequent Visitors", "Few Visits", log=True),
    Trait("pageviews", "Deep Browsers", "Light Browsers", log=True),
    Trait("purchases", "Buyers", "Non-Buyers", log=True),
    Trait("revenue", "High Revenue", "No Revenue", log=True),
    Trait("recency_days", "Dormant", "Recently Active"),
    Trait("sessions_per_week", "Habitual", "Occasional", log=True),
    Trait("mobile_share", "Mobile-First", "Desktop-First"),
]
POPULATIONS = {
    "customer": ("main.customer_features", "customer_id", CUSTOMER_TRAITS),
    "user": ("main.features", "user_key", USER_TRAITS),
}
NAMING = "rule-based (two strongest centroid traits, at least 0.5 sd from the mean)"


class PersonaClusterConfig(dg.Config):
    # k = 2 only splits high from low spenders, which the median personas already do.
    min_k: int = 3
    max_k: int = 8
    n_bootstrap: int = 20
    seed: int = 0


def _cluster_rows(population: str, segmentation: Segmentation, llm: LLMClient) -> pd.DataFrame:
    """One row per discovered cluster: name (rule-based, or the LLM's when one is configured),
    profile, centroid and the clustering's quality."""
    profiles = segmentation.profiles
    columns = [c.removeprefix("mean_") for c in profiles.columns if c.startswith("mean_")]
    names = llm.name_clusters(
        [
            {
                "population": population,
                "members": int(row["size"]),
                "share": float(row["share"]),
                "centroid_means": {c: float(row[f"mean_{c}"]) for c in columns},
                "centroid_z": {c: float(row[f"z_{c}"]) for c in columns},
            }
            for _, row in profiles.iterrows()
        ],
        list(profiles["name"]),
    )
    return pd.DataFrame(
        {
            "population": population,
            "cluster_id": [f"{population}-{c}" for c in profiles["cluster"]],
            "cluster_name": [n["name"] for n in names],
            "rule_based_name": profiles["name"],
            "members": profiles["size"],
            "share": profiles["share"],
            "profile": profiles["profile"],
            "centroid_json": [json.dumps({c: row[f"mean_{c}"] for c in columns}) for _, row in profiles.iterrows()],
            "centroid_z_json": [json.dumps({c: row[f"z_{c}"] for c in columns}) for _, row in profiles.iterrows()],
            "k": segmentation.k,
            "silhouette": segmentation.silhouette,
            "mean_stability_ari": round(segmentation.mean_stability_ari, 4),
            "naming": [n["naming"] for n in names],
            "llm_description": pd.Series([n["llm_description"] for n in names], dtype="string"),
            "naming_fallback_reason": pd.Series([n["naming_fallback_reason"] for n in names], dtype="string"),
        }
    )


COLUMN_DESCRIPTIONS = {
    "rule_based_name": "The cluster's name from its standout traits (used when no LLM names it).",
    "members": "Entities in the cluster.",
    "share": "Share of the population in the cluster.",
    "profile": "The cluster in one sentence: its traits against the population's mean.",
    "centroid_json": "The cluster's mean of every clustering feature (JSON).",
    "centroid_z_json": "The same means as z-scores against the population (JSON).",
    "k": "Number of clusters chosen for the population (best silhouette).",
    "silhouette": "Silhouette score of the chosen clustering.",
    "mean_stability_ari": "Mean adjusted Rand index between bootstrap re-clusterings: 1 = perfectly stable.",
    "naming": "Who named the cluster: llm or rule_based.",
    "llm_description": "The LLM's description of the cluster (null when named by rule).",
    "naming_fallback_reason": "Why the rule-based name was used when an LLM was configured.",
}


@dg.asset(
    deps=["customer_features", "features"],
    group_name="personas",
    owners=[OWNER],
    kinds={"duckdb", "python", "scikitlearn"},
    pool=DUCKDB_POOL,
)
def persona_clusters(config: PersonaClusterConfig, warehouse: DuckDBWarehouse, llm: LLMClient) -> dg.MaterializeResult:
    """Data-driven personas: k-means on standardized behavioural features (log1p for heavy tails),
    separately for customers (customer_features) and web users (features). k is the one with the
    highest silhouette in min_k..max_k; stability is the adjusted Rand index against refits on
    bootstrap resamples. Clusters are named by rule from their centroids, or by the LLM when one is
    configured (rule-based fallback, reason recorded; `naming` per cluster). Writes persona_clusters
    (one profile per cluster) and persona_cluster_members (entity -> cluster, with lineage)."""
    clusters, members, quality = [], [], {}
    with warehouse.transaction() as conn:
        for population, (table, key, traits) in POPULATIONS.items():
            columns = [t.column for t in traits]
            complete = " AND ".join(f"{c} IS NOT NULL" for c in columns)
            frame = conn.execute(
                f"SELECT lineage_id, {key}::VARCHAR AS entity_key, {', '.join(c + '::DOUBLE AS ' + c for c in columns)} "
                f"FROM {table} WHERE {complete} ORDER BY lineage_id"
            ).fetchdf()
            missing = conn.execute(f"SELECT count(*) FROM {table} WHERE NOT ({complete})").fetchall()[0][0]
            segmentation = discover_segments(
                frame, traits, k_range=range(config.min_k, config.max_k + 1), n_bootstrap=config.n_bootstrap, seed=config.seed
            )
            clusters.append(_cluster_rows(population, segmentation, llm))
            members.append(
                pd.DataFrame(
                    {
                        "entity_type": population,
                        "entity_key": frame["entity_key"],
                        "source_lineage_id": frame["lineage_id"],
                        "cluster_id": [f"{population}-{c}" for c in segmentation.labels],
                    }
                )
            )
            quality[population] = {
                "rows_clustered": len(frame),
                "rows_unclustered_missing_values": int(missing),
                "k": segmentation.k,
                "k_criterion": f"max silhouette over k={config.min_k}..{config.max_k}",
                "silhouette_by_k": {str(k): v for k, v in segmentation.silhouette_by_k.items()},
                "silhouette": segmentation.silhouette,
                "stability_ari_mean": round(segmentation.mean_stability_ari, 4),
                "stability_ari_min": min(segmentation.stability_ari),
                "bootstrap_resamples": config.n_bootstrap,
                "seed": config.seed,
            }
        cluster_frame = pd.concat(clusters, ignore_index=True)
        member_frame = pd.concat(members, ignore_index=True)
        conn.register("cluster_frame", cluster_frame)
        conn.register("member_frame", member_frame)
        conn.execute(
            "CREATE OR REPLACE TABLE main.persona_clusters AS "
            "SELECT lineage_id('persona_cluster', cluster_id) AS lineage_id, * FROM cluster_frame ORDER BY population, cluster_id"
        )
        conn.execute(
            "CREATE OR REPLACE TABLE main.persona_cluster_members AS "
            "SELECT lineage_id('persona_cluster_member', entity_type || '|' || source_lineage_id) AS lineage_id, "
            "m.*, c.lineage_id AS persona_cluster_lineage_id "
            "FROM member_frame m JOIN main.persona_clusters c USING (cluster_id) ORDER BY entity_type, source_lineage_id"
        )
        metadata = table_metadata(conn, "main.persona_clusters", descriptions=COLUMN_DESCRIPTIONS)
    profiles = cluster_frame[["cluster_id", "cluster_name", "naming", "members", "share", "profile"]]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "cluster_profiles": dg.MetadataValue.md(profiles.to_markdown(index=False)),
            "clustering_quality": dg.MetadataValue.json(quality),
            "customer_silhouette": dg.MetadataValue.float(quality["customer"]["silhouette"]),
            "customer_stability_ari": dg.MetadataValue.float(quality["customer"]["stability_ari_mean"]),
            "user_silhouette": dg.MetadataValue.float(quality["user"]["silhouette"]),
            "user_stability_ari": dg.MetadataValue.float(quality["user"]["stability_ari_mean"]),
            "naming": NAMING if not llm.enabled else f"{llm.label}, rule-based fallback: {NAMING}",
            "clusters_named_by_llm": dg.MetadataValue.int(int((cluster_frame["naming"] == "llm").sum())),
        }
    )
