"""creative_library: copy variants per persona, compliance-scored (offline template generator)."""

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.creative import generate_copy
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

# What each behavioural persona responds to: the brief the template generator writes from.
PERSONA_BRIEFS = {
    "Champions": {"tone": "warm", "offer_type": "loyalty", "key_figures": {"points_multiplier": 2}},
    "Premium-but-Quiet": {"tone": "professional", "offer_type": "free_shipping", "key_figures": {}},
    "Deal-Responsive": {"tone": "playful", "offer_type": "discount", "key_figures": {"discount_pct": 20}},
    "Hard-to-Convert": {"tone": "warm", "offer_type": "free_trial", "key_figures": {"trial_days": 14}},
}
CHANNEL = "email"


class CreativeConfig(dg.Config):
    variants_per_persona: int = 2
    channel: str = CHANNEL
    seed: int = 0


@dg.asset(
    deps=["personas", "allocations"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def creative_library(config: CreativeConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Copy variants (headline, body, call to action) for every cohort x persona segment, written
    from the segment's summary figures by the offline template generator and scored for compliance
    (banned claims, length limits, opt-out text)."""
    with warehouse.get_connection() as conn:
        segments = conn.execute(
            "SELECT lineage_id, cohort, persona, customers, response_rate, mean_spend, mean_income "
            "FROM main.persona_summary WHERE persona <> 'Unassigned' ORDER BY cohort, persona"
        ).fetchdf()
        rows = []
        for segment in segments.itertuples(index=False):
            brief = {"segment_name": f"{segment.cohort} {segment.persona}", **PERSONA_BRIEFS[segment.persona]}
            for number, variant in enumerate(
                generate_copy(brief, channel=config.channel, style=brief["tone"], n_variants=config.variants_per_persona, seed=config.seed),
                start=1,
            ):
                rows.append(
                    {
                        "cohort": segment.cohort,
                        "persona": segment.persona,
                        "variant": number,
                        "channel": config.channel,
                        "headline": variant["headline"],
                        "body": variant["body"],
                        "call_to_action": variant["call_to_action"],
                        "compliance_score": float(variant["compliance"]["score"]),
                        "compliance_failures": list(variant["compliance"]["failed_rules"]),
                        "generator": "template",
                        "persona_summary_lineage_id": segment.lineage_id,
                    }
                )
        library = pd.DataFrame(rows)
        conn.register("library", library)
        conn.execute(
            "CREATE OR REPLACE TABLE main.creative_library AS SELECT lineage_id('creative', "
            "persona_summary_lineage_id || '|' || channel || '|' || variant) AS lineage_id, * FROM library"
        )
        metadata = table_metadata(conn, "main.creative_library")
    return dg.MaterializeResult(
        metadata={**metadata, "mean_compliance_score": dg.MetadataValue.float(float(library["compliance_score"].mean()))}
    )
