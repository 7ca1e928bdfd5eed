"""creative_briefs: one structured brief per cohort x persona and per discovered cluster, the input
the copy generator writes from (creative_library, `gtm personas --cohort ... --persona ...`)."""

import json

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.briefs import cluster_brief, persona_briefs
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

COLUMN_DESCRIPTIONS = {
    "segment_type": "persona (cohort x persona) or cluster (a behavioural persona cluster).",
    "segment_name": "Name of the segment the brief is for.",
    "who_they_are": "Who the segment is, in plain words, from its figures.",
    "audience_description": "The audience as the copywriter sees it (no segment label).",
    "key_figures": "The segment's figures the brief rests on.",
    "responds_to": "What the segment has responded to (offers, channels).",
    "tone": "Tone of voice the copy should take.",
    "channels": "Channels to reach the segment on.",
    "offer_type": "Kind of offer to make.",
    "offer_figures": "The figures behind the offer.",
    "do_list": "What the copy should do.",
    "dont_list": "What the copy must not do.",
    "persona_summary_lineage_id": "Lineage id of the persona_summary row the brief was written from.",
}


@dg.asset(
    deps=["personas", "persona_clusters"],
    group_name="personas",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def creative_briefs(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """One structured brief per cohort x persona and per discovered cluster: who they are (key
    figures), what they respond to, tone, channels, offer type and figures, do and don't, and the
    persona_summary / persona_clusters row (lineage id) the numbers come from."""
    with warehouse.get_connection() as conn:
        summary = conn.execute("SELECT * EXCLUDE (assignment_lineage_ids) FROM main.persona_summary").fetchdf()
        clusters = conn.execute("SELECT * FROM main.persona_clusters ORDER BY population, cluster_id").fetchdf()
        briefs = persona_briefs(summary) + [cluster_brief(c) for c in clusters.to_dict("records")]
        frame = pd.DataFrame(briefs)
        for column in ("key_figures", "offer_figures"):
            frame[column] = frame[column].map(lambda v: json.dumps(v))
        conn.register("brief_frame", frame)
        conn.execute(
            "CREATE OR REPLACE TABLE main.creative_briefs AS SELECT lineage_id('creative_brief', segment_type || '|' "
            "|| coalesce(persona_summary_lineage_id, persona_cluster_lineage_id)) AS lineage_id, * FROM brief_frame"
        )
        metadata = table_metadata(conn, "main.creative_briefs", descriptions=COLUMN_DESCRIPTIONS)
    shown = frame[["segment_type", "segment_name", "tone", "offer_type", "channels"]]
    return dg.MaterializeResult(metadata={**metadata, "briefs": dg.MetadataValue.md(shown.to_markdown(index=False))})
