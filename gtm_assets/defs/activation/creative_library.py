"""creative_library: ads for every funded campaign, per ad set (campaign x audience), in the channel's
format, compliance-checked, with audio for spoken scripts."""

import hashlib
import json

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.bandit import split_cents
from gtm_assets.models.briefs import copy_brief
from gtm_assets.models.creative import AMBER, FORMATS, RED, CopyBrief, format_for_channel, load_brand_guide
from gtm_assets.outbound.copywriting import write_ad_set_copy
from gtm_assets.outbound.llm import LLMClient, usage_metadata
from gtm_assets.outbound.tts import available_backend, synthesize
from gtm_assets.schemas.strict_json import dumps
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

BROADCAST_FORMATS = ("spoken", "print")
SHIPPABLE = ("ready", "approved")
# Creatives that may ship now: green ones, and amber ones with an approval of their exact content
# (approvals recorded by `gtm approve` after the library was built count at once).
SHIPPABLE_CREATIVES_SQL = """
SELECT c.* EXCLUDE (status, approved_by, approved_at),
       CASE WHEN c.traffic_light = 'amber' AND a.creative_id IS NOT NULL THEN 'approved' ELSE c.status END AS status,
       a.approved_by
FROM main.creative_library c
LEFT JOIN (SELECT creative_id, content_sha256, arg_max(approved_by, approved_at) AS approved_by
           FROM main.creative_approvals GROUP BY ALL) a USING (creative_id, content_sha256)
WHERE c.traffic_light = 'green' OR (c.traffic_light = 'amber' AND a.creative_id IS NOT NULL)
"""
APPROVALS_DDL = (
    "CREATE TABLE IF NOT EXISTS main.creative_approvals (creative_id VARCHAR NOT NULL, content_sha256 VARCHAR NOT NULL, "
    "approved_by VARCHAR NOT NULL, approved_at TIMESTAMP NOT NULL, note VARCHAR)"
)

# The column schema shown in the Dagster UI. One row per copy variant of an ad set (campaign x audience); status,
# approvals and audio are as of the build (`gtm approve` later counts in SHIPPABLE_CREATIVES_SQL, not here).
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row, equal to creative_id: lineage_id('creative', ad_set_key | content_sha256).",
    "creative_id": (
        "Keyed id of the creative: lineage_id('creative', ad_set_key | content_sha256), so changed copy gets a new id."
    ),
    "ad_set_id": "Keyed id of the creative's ad set: lineage_id('ad_set', ad_set_key); main.ad_sets has one row per ad set.",
    "campaign": "Campaign: a funded campaign of allocations, or the brand guide's B2B cold e-mail campaign.",
    "channel": "Media channel of the campaign (Email for the B2B cold e-mails).",
    "objective": (
        "Objective of the ad set's brief: conversion (web-user clusters), awareness (broadcast) or lead_generation (B2B)."
    ),
    "allocation_lineage_id": (
        "Lineage id of the allocations row that funds the campaign; null for the B2B cold e-mails (owned channel, no budget)."
    ),
    "audience_id": "Keyed id of the audience the ad set targets (main.audiences.audience_id).",
    "audience_kind": "Kind of the audience: user_cluster, b2b_role or broadcast.",
    "audience_key": "Readable name of the audience: user_cluster:<cluster_id>, b2b_role:<role> or broadcast.",
    "ad_set_key": "Readable name of the ad set: campaign | audience_key.",
    "ad_set_daily_budget": (
        "The ad set's daily budget: the campaign's recommended_campaign_spend split over its ad sets by audience size, "
        "to the cent."
    ),
    "ad_set_budget_share": (
        "Share (0-1) of the campaign's budget given to the ad set, by its audience's consented members; 1 for B2B."
    ),
    "format": (
        "Creative format: the brand guide's format for the channel (search_rsa, social, display, email, spoken, print) or "
        "cold_email."
    ),
    "variant": "A/B variant number within the ad set, from 1.",
    "copy_json": "The variant's copy as JSON with sorted keys: the format's fields (headlines, body, scripts, ...).",
    "copy_text": "Every text of the copy, in the format's field order, joined with ' | '.",
    "content_sha256": "Unkeyed SHA-256 of copy_json; an approval holds only for this exact content.",
    "generator": "Who wrote the copy: llm, or offline (the built-in copywriter, used without an LLM or to fill in for it).",
    "generator_fallback_reason": (
        "Why offline copy filled in (the LLM's error, or its variants were not green); null if the LLM wrote it or no LLM is set."
    ),
    "compliance_score": "1 minus 0.35 per red and 0.1 per amber compliance finding, floored at 0, rounded to 2 decimals.",
    "traffic_light": (
        "Compliance verdict: red if any finding is red (blocked), amber if any is amber (needs approval), else green."
    ),
    "compliance_reasons": (
        "Each compliance finding as 'severity: layer/rule: detail' (format, brand, claims, targeting, toxicity, pii, audience)."
    ),
    "brief_lineage_id": "Lineage id of the creative_briefs row the copy was written from; null for broadcast and B2B ad sets.",
    "brand_guide_sha256": "SHA-256 of the brand guide file the copy was written and checked against.",
    "status": (
        "At build time: blocked (red), needs_approval (amber), approved (amber with an approval of this content) or "
        "ready (green)."
    ),
    "approved_by": (
        "Who last approved this exact content (creative_id and content_sha256) with `gtm approve` before the build; else null."
    ),
    "approved_at": "When this exact content was last approved before the build; null if it was not.",
    "audio_15s_path": "Path of the WAV file of the 15 s spoken script; null unless a shippable spoken creative got audio.",
    "audio_15s_seconds": "Length in seconds of the 15 s WAV file; null without one.",
    "audio_30s_path": "Path of the WAV file of the 30 s spoken script; null unless a shippable spoken creative got audio.",
    "audio_30s_seconds": "Length in seconds of the 30 s WAV file; null without one.",
    "audio_backend": (
        "Text-to-speech backend of the audio: openai_speech, espeak-ng or none; null unless tried (shippable spoken "
        "creatives only)."
    ),
    "audio_note": "Why audio is missing or came from a fallback backend; null otherwise.",
}


class CreativeLibraryConfig(dg.Config):
    variants_per_ad_set: int = Field(default=2, ge=2, le=5, description="A/B variants per ad set (at least two)")
    max_ad_sets_per_campaign: int = Field(default=3, ge=1, le=10, description="audiences per digital campaign")
    channels: list[str] = Field(
        default=[], description="rewrite only these channels' creatives and keep the others (empty: every funded channel)"
    )
    audiences: list[str] = Field(
        default=[],
        description="rewrite only these audiences' creatives (audience_key, e.g. user_cluster:user-1; see `gtm show creatives`) and keep the others",
    )
    synthesize_audio: bool = Field(default=True, description="turn spoken scripts into WAV files when a TTS backend exists")
    seed: int = Field(default=0, description="seed of the offline copywriter")


def internal_labels(conn) -> tuple[str, ...]:
    """Every internal segment, cohort, persona and cluster label: copy must never contain one."""
    rows = conn.execute(
        """
        SELECT DISTINCT label FROM (
            SELECT unnest([cohort, persona]) AS label FROM main.persona_summary
            UNION ALL SELECT unnest([cluster_name, rule_based_name]) FROM main.persona_clusters
            UNION ALL SELECT segment_name FROM main.creative_briefs
        ) WHERE label IS NOT NULL AND label <> 'Unassigned'
        """
    ).fetchall()
    return tuple(sorted(r[0] for r in rows))


def _ad_sets(conn, guide, config: CreativeLibraryConfig) -> list[dict]:
    """One dict per ad set: campaign, channel, format, audience, brief, budget share."""
    campaigns = conn.execute(
        "SELECT channel, campaign, lineage_id AS allocation_lineage_id, recommended_campaign_spend AS daily_budget "
        "FROM main.allocations WHERE recommended_campaign_spend > 0 ORDER BY channel, campaign"
    ).fetchdf()
    if config.channels:
        wanted = {c.lower() for c in config.channels}
        campaigns = campaigns[campaigns["channel"].str.lower().isin(wanted)]
    audiences = conn.execute("SELECT * FROM main.audiences").fetchdf()
    briefs = conn.execute(
        "SELECT b.*, a.audience_id FROM main.creative_briefs b JOIN main.audiences a "
        "ON a.persona_cluster_lineage_id = b.persona_cluster_lineage_id WHERE b.segment_type = 'cluster'"
    ).fetchdf()
    broadcast = audiences[audiences["kind"] == "broadcast"].iloc[0]
    bb = guide.broadcast_brief
    broadcast_brief = CopyBrief(
        audience=bb["audience"],
        responds_to="everyday quality and a clear offer",
        tone=bb["tone"],
        offer_type=bb["offer_type"],
        objective="awareness",
    )
    sets = []
    for campaign in campaigns.to_dict("records"):
        fmt = format_for_channel(campaign["channel"], guide.channel_formats)
        if fmt.name in BROADCAST_FORMATS:
            chosen = [(broadcast, broadcast_brief, None)]
        else:
            channel = campaign["channel"].lower()
            fits = briefs[briefs["channels"].map(lambda cs, channel=channel: channel in [c.lower() for c in cs])]
            fits = fits.merge(audiences[["audience_id", "members"]], on="audience_id")
            fits = fits[fits["members"] > 0].sort_values(["members", "audience_id"], ascending=[False, True])
            if fits.empty:  # no cluster's brief names this channel: its largest audience
                fits = briefs.merge(audiences[["audience_id", "members"]], on="audience_id")
                fits = fits[fits["members"] > 0].sort_values(["members", "audience_id"], ascending=[False, True]).head(1)
            chosen = [
                (
                    audiences.set_index("audience_id").loc[b["audience_id"]].to_dict() | {"audience_id": b["audience_id"]},
                    copy_brief(b),
                    b["lineage_id"],
                )
                for b in fits.head(config.max_ad_sets_per_campaign).to_dict("records")
            ]
        # The campaign's budget splits over its ad sets by audience size, in cents that sum to it exactly.
        weights = np.array([max(int(a["members"]), 1) for a, _, _ in chosen], dtype=float)
        budgets = split_cents(float(campaign["daily_budget"]), weights)
        for (audience, brief, brief_lineage), weight, budget in zip(chosen, weights, budgets):
            sets.append(
                {
                    **campaign,
                    "format": fmt.name,
                    "audience_id": audience["audience_id"],
                    "audience_key": audience["audience_key"],
                    "audience_kind": audience["kind"],
                    "brief": brief,
                    "brief_lineage_id": brief_lineage,
                    "budget_share": weight / weights.sum(),
                    "ad_set_daily_budget": float(budget),
                    "objective": brief.objective,
                }
            )
    b2b = conn.execute("SELECT * FROM main.audiences WHERE kind = 'b2b_role' AND members > 0 ORDER BY role").fetchdf()
    if not config.channels or "email" in {c.lower() for c in config.channels}:
        for audience in b2b.to_dict("records"):
            brief = CopyBrief(
                audience=f"B2B prospects in a {audience['role']} role",
                responds_to=guide.b2b["roles"][audience["role"]]["value"],
                tone="professional",
                offer_type="b2b",
                objective="lead_generation",
                role=audience["role"],
            )
            sets.append(
                {
                    "channel": "Email",
                    "campaign": guide.b2b["campaign"],
                    "allocation_lineage_id": None,
                    "daily_budget": 0.0,
                    "format": "cold_email",
                    "audience_id": audience["audience_id"],
                    "audience_key": audience["audience_key"],
                    "audience_kind": "b2b_role",
                    "brief": brief,
                    "brief_lineage_id": None,
                    "budget_share": 1.0,
                    "ad_set_daily_budget": 0.0,
                    "objective": "lead_generation",
                }
            )
    if config.audiences:
        unknown = set(config.audiences) - set(audiences["audience_key"]) - set(b2b["audience_key"])
        if unknown:
            raise dg.Failure(
                description=f"creative_library: unknown audiences {sorted(unknown)} (known: {sorted(audiences['audience_key'])})"
            )
        sets = [ad_set for ad_set in sets if ad_set["audience_key"] in config.audiences]
    return sets


@dg.asset(
    deps=["creative_briefs", "allocations", "audiences"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def creative_library(
    context: dg.AssetExecutionContext, config: CreativeLibraryConfig, warehouse: DuckDBWarehouse, llm: LLMClient
) -> dg.MaterializeResult:
    """Ads for every campaign with a budget: one ad set per audience the campaign targets (discovered
    web-user clusters whose brief names the channel; broadcast for TV, CTV, radio and print; B2B
    prospects by role for cold e-mail), each with A/B variants in the channel's format (search: 15
    headlines and 4 descriptions; social; display; e-mail; 15 s and 30 s spoken scripts, with audio when
    a TTS backend exists; print; role-aware cold e-mail). Copy comes from the LLM when configured, else
    the offline copywriter (`generator` per row), within the brand guide; every variant is checked
    (format limits, brand guide, claims, protected-class targeting, toxicity, PII, internal labels) and
    gets a traffic light: red is blocked, amber ships only with an approval (`gtm approve`), green ships."""
    guide = load_brand_guide(settings.brand_guide_path())
    rows, calls, failures = [], [], []
    widened = ""
    with warehouse.transaction() as conn:
        conn.execute(APPROVALS_DDL)
        labels = internal_labels(conn)
        stale = _stale_channels(conn) if config.channels or config.audiences else []
        if stale:  # kept creatives would point at briefs or audiences that no longer exist: rewrite all
            widened = (
                f"rewrote every channel instead of {config.channels or config.audiences}: the creatives of "
                f"{', '.join(stale)} were written for briefs or audiences that persona discovery has replaced"
            )
            context.log.warning(widened)
            config = config.model_copy(update={"channels": [], "audiences": []})
        ad_sets = _ad_sets(conn, guide, config)
        for n, ad_set in enumerate(ad_sets):
            fmt = FORMATS[ad_set["format"]]
            written = write_ad_set_copy(
                llm,
                ad_set["brief"],
                fmt,
                guide,
                n_variants=config.variants_per_ad_set,
                seed=config.seed + n,
                internal_labels=labels,
            )
            calls += written.calls
            failures += written.failures
            for number, variant in enumerate(written.variants, start=1):
                copy_json = dumps(variant.copy, sort_keys=True)
                rows.append({
                    "campaign": ad_set["campaign"], "channel": ad_set["channel"], "objective": ad_set["objective"],
                    "allocation_lineage_id": ad_set["allocation_lineage_id"], "audience_id": ad_set["audience_id"],
                    "audience_kind": ad_set["audience_kind"], "audience_key": ad_set["audience_key"],
                    "ad_set_key": f"{ad_set['campaign']}|{ad_set['audience_key']}",
                    "ad_set_daily_budget": ad_set["ad_set_daily_budget"],
                    "ad_set_budget_share": ad_set["budget_share"], "format": fmt.name, "variant": number,
                    "copy_json": copy_json, "copy_text": " | ".join(fmt.texts(variant.copy)),
                    "content_sha256": hashlib.sha256(copy_json.encode()).hexdigest(),
                    "generator": variant.generator, "generator_fallback_reason": variant.fallback_reason,
                    "compliance_score": variant.compliance.score, "traffic_light": variant.compliance.light,
                    "compliance_reasons": variant.compliance.reasons, "brief_lineage_id": ad_set["brief_lineage_id"],
                    "brand_guide_sha256": guide.sha256,
                })  # fmt: skip
        frame = pd.DataFrame(rows).astype(
            {"generator_fallback_reason": "string", "brief_lineage_id": "string", "allocation_lineage_id": "string"}
        )
        conn.register("library_frame", frame)
        conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE new_creatives AS
            WITH ided AS (
                SELECT lineage_id('creative', ad_set_key || '|' || content_sha256) AS creative_id,
                       lineage_id('ad_set', ad_set_key) AS ad_set_id,
                       * REPLACE (compliance_reasons::VARCHAR[] AS compliance_reasons) FROM library_frame
            ),
            approved AS (
                SELECT creative_id, content_sha256, arg_max(approved_by, approved_at) AS approved_by, max(approved_at) AS approved_at
                FROM main.creative_approvals GROUP BY ALL
            )
            SELECT i.creative_id AS lineage_id, i.*,
                   CASE WHEN traffic_light = '{RED}' THEN 'blocked'
                        WHEN traffic_light = '{AMBER}' AND a.creative_id IS NOT NULL THEN 'approved'
                        WHEN traffic_light = '{AMBER}' THEN 'needs_approval'
                        ELSE 'ready' END AS status,
                   a.approved_by, a.approved_at,
                   NULL::VARCHAR AS audio_15s_path, NULL::DOUBLE AS audio_15s_seconds,
                   NULL::VARCHAR AS audio_30s_path, NULL::DOUBLE AS audio_30s_seconds, NULL::VARCHAR AS audio_backend,
                   NULL::VARCHAR AS audio_note
            FROM ided i LEFT JOIN approved a USING (creative_id, content_sha256)
            ORDER BY channel, campaign, audience_key, variant
            """
        )
        if config.channels or config.audiences:  # only these channels' / audiences' creatives are rewritten; the others stay
            conn.execute("CREATE TABLE IF NOT EXISTS main.creative_library AS SELECT * FROM new_creatives LIMIT 0")
            conn.execute(
                "DELETE FROM main.creative_library WHERE (len($channels) = 0 OR list_contains($channels, lower(channel))) "
                "AND (len($audiences) = 0 OR list_contains($audiences, audience_key))",
                {"channels": [c.lower() for c in config.channels], "audiences": list(config.audiences)},
            )
            conn.execute("INSERT INTO main.creative_library BY NAME SELECT * FROM new_creatives")
        else:
            conn.execute("CREATE OR REPLACE TABLE main.creative_library AS SELECT * FROM new_creatives")
        audio = _synthesize_audio(conn, llm) if config.synthesize_audio else {"audio_backend": "disabled by config"}
        conn.execute(
            "CREATE OR REPLACE TABLE main.ad_sets AS SELECT ad_set_id AS lineage_id, ad_set_id, any_value(ad_set_key) AS ad_set_key, "
            "any_value(campaign) AS campaign, any_value(channel) AS channel, any_value(objective) AS objective, "
            "any_value(format) AS format, any_value(audience_id) AS audience_id, any_value(audience_kind) AS audience_kind, "
            "any_value(allocation_lineage_id) AS allocation_lineage_id, any_value(brief_lineage_id) AS brief_lineage_id, "
            "any_value(ad_set_daily_budget) AS daily_budget, any_value(ad_set_budget_share) AS budget_share, "
            f"count(*) FILTER (WHERE status IN {SHIPPABLE}) AS shippable_ads, count(*) AS ads "
            "FROM main.creative_library GROUP BY ad_set_id ORDER BY channel, campaign, ad_set_key"
        )
        metadata = table_metadata(conn, "main.creative_library", descriptions=COLUMN_DESCRIPTIONS)
        by_light = conn.execute(
            "SELECT channel, format, traffic_light, status, count(*) FROM main.creative_library GROUP BY ALL ORDER BY ALL"
        ).fetchdf()
    context.log.info(f"{len(rows)} creatives for {len(ad_sets)} ad sets; copy by {llm.label}")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "ad_sets": dg.MetadataValue.int(len(ad_sets)),
            "creatives_by_channel_and_light": dg.MetadataValue.md(by_light.to_markdown(index=False)),
            "blocked_red": dg.MetadataValue.int(int((frame["traffic_light"] == RED).sum())),
            "generator": llm.label,
            "scope": widened
            or (
                f"channels {config.channels}, audiences {config.audiences}"
                if config.channels or config.audiences
                else "every channel"
            ),
            "brand_guide": dg.MetadataValue.path(str(settings.brand_guide_path())),
            "brand_guide_sha256": guide.sha256,
            **{
                k: dg.MetadataValue.md(v) if k == "llm_calls_table" else v
                for k, v in usage_metadata(calls, failures).items()
                if v is not None
            },
            **audio,
        }
    )


def _stale_channels(conn) -> list[str]:
    """Channels with creatives written for a brief or an audience that no longer exists (persona
    discovery ran since): a rewrite of other channels alone would leave them behind."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'creative_library'"
    ).fetchall()[0][0]
    if not exists:
        return []
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT channel FROM main.creative_library c "
            "WHERE (c.brief_lineage_id IS NOT NULL AND c.brief_lineage_id NOT IN (SELECT lineage_id FROM main.creative_briefs)) "
            "OR c.audience_id NOT IN (SELECT audience_id FROM main.audiences) ORDER BY 1"
        ).fetchall()
    ]


def _synthesize_audio(conn, llm: LLMClient) -> dict:
    """WAV files for the spoken scripts of shippable creatives; the backend and any note per row."""
    spoken = conn.execute(
        f"SELECT creative_id, copy_json FROM main.creative_library WHERE format = 'spoken' AND status IN {SHIPPABLE} "
        "AND creative_id IN (SELECT creative_id FROM new_creatives)"
    ).fetchall()
    backend = available_backend(llm)
    written = 0
    for creative_id, copy_json in spoken:
        copy = json.loads(copy_json)
        results = {
            length: synthesize(copy[f"script_{length}"], settings.audio_dir() / f"{creative_id}_{length}.wav", llm)
            for length in ("15s", "30s")
        }
        written += sum(r.path is not None for r in results.values())
        conn.execute(
            "UPDATE main.creative_library SET audio_15s_path = ?, audio_15s_seconds = ?, audio_30s_path = ?, "
            "audio_30s_seconds = ?, audio_backend = ?, audio_note = ? WHERE creative_id = ?",
            [
                results["15s"].path,
                results["15s"].duration_seconds,
                results["30s"].path,
                results["30s"].duration_seconds,
                results["30s"].backend,
                results["30s"].note or results["15s"].note,
                creative_id,
            ],
        )
    return {
        "audio_backend": backend,
        "audio_files_written": dg.MetadataValue.int(written),
        "audio_note": "scripts only: no TTS backend" if backend == "none" else f"WAV under {settings.audio_dir()}",
    }
