"""creative_library: copy variants per persona, compliance-scored (offline template generator, or the
LLM when one is configured)."""

import dagster as dg
import pandas as pd

from gtm_assets.defs.personas.creative_briefs import copy_request
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.llm import LLMClient
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

CHANNEL = "email"


class CreativeConfig(dg.Config):
    variants_per_persona: int = 2
    channel: str = CHANNEL
    seed: int = 0


@dg.asset(
    deps=["creative_briefs", "allocations"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def creative_library(config: CreativeConfig, warehouse: DuckDBWarehouse, llm: LLMClient) -> dg.MaterializeResult:
    """Copy variants (headline, body, call to action) for every cohort x persona segment, written
    from the segment's creative brief (offer, tone) by the offline template generator, or by the LLM
    when one is configured (template fallback, reason recorded; `generator` per row), and scored for
    compliance (banned claims, length limits, opt-out text) the same way either way."""
    with warehouse.get_connection() as conn:
        segments = conn.execute(
            "SELECT persona_summary_lineage_id AS lineage_id, cohort, persona, segment_name, who_they_are, responds_to, "
            "tone, offer_type, offer_figures, do_list, dont_list FROM main.creative_briefs WHERE segment_type = 'persona' "
            "ORDER BY cohort, persona"
        ).fetchdf()
        rows = []
        for segment in segments.itertuples(index=False):
            brief = segment._asdict()
            for number, variant in enumerate(
                llm.copy_variants(brief, copy_request(brief), channel=config.channel, style=segment.tone,
                                  n_variants=config.variants_per_persona, seed=config.seed),
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
                        "generator": variant["generator"],
                        "generator_fallback_reason": variant["generator_fallback_reason"],
                        "persona_summary_lineage_id": segment.lineage_id,
                    }
                )
        library = pd.DataFrame(rows).astype({"generator_fallback_reason": "string"})
        conn.register("library", library)
        conn.execute(
            "CREATE OR REPLACE TABLE main.creative_library AS SELECT lineage_id('creative', "
            "persona_summary_lineage_id || '|' || channel || '|' || variant) AS lineage_id, * FROM library"
        )
        metadata = table_metadata(conn, "main.creative_library")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "mean_compliance_score": dg.MetadataValue.float(float(library["compliance_score"].mean())),
            "generator": llm.label,
            "variants_by_generator": dg.MetadataValue.json({g: int(n) for g, n in library["generator"].value_counts().sort_index().items()}),
        }
    )
