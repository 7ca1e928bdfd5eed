"""dsp_payload: the schema-validated JSON document a DSP can act on, and payload_push, which sends it."""

import hashlib
import json
from datetime import date, timedelta
from importlib import resources as package_files

import dagster as dg
import pandas as pd
from pydantic import Field

from gtm_assets import settings
from gtm_assets.defs.activation.creative_library import SHIPPABLE_CREATIVES_SQL
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.creative import load_brand_guide
from gtm_assets.outbound.dsp import DspClient
from gtm_assets.schemas.strict_json import dumps
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets.warehouse.sql import sql_string

SCHEMA_VERSION = "1.0"
OBJECTIVE_BY_FORMAT = {"spoken": "awareness", "print": "awareness", "email": "retention", "cold_email": "lead_generation"}
BID_STRATEGY_BY_KIND = {"broadcast": "reach_and_frequency", "b2b_role": "owned_send", "user_cluster": "lowest_cost"}
# Upstream assets whose data and code versions the lineage block records.
LINEAGE_ASSETS = (
    "raw_events", "raw_media_spend", "raw_media_plan", "raw_daily_sales", "raw_lift_tests", "raw_customers",
    "raw_prospects", "guarded_sessions", "features", "customer_features", "persona_clusters", "personas", "creative_briefs",
    "mmm_model", "forecast", "allocations", "audiences", "creative_library",
)  # fmt: skip
ROW_COUNT_TABLES = {
    "raw_events": "raw.raw_events", "guarded_sessions": "main.guarded_sessions", "features": "main.features",
    "raw_customers": "raw.raw_customers", "raw_prospects": "raw.raw_prospects", "raw_media_spend": "raw.raw_media_spend",
    "allocations": "main.allocations", "creative_library": "main.creative_library", "audience_members": "main.audience_members",
}  # fmt: skip
RAW_SOURCES = (
    "raw_events",
    "raw_ga4_events",
    "raw_media_spend",
    "raw_media_plan",
    "raw_daily_sales",
    "raw_lift_tests",
    "raw_customers",
    "raw_prospects",
)


def source_files(conn) -> list[dict]:
    """Every landed file of the raw zone with its sha256 and row count (GA4 exports included)."""
    present = {
        r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()
    }
    parts = [
        f"SELECT '{name}' AS source, source_file AS file, any_value(source_file_sha256) AS sha256, count(*) AS rows "
        f"FROM raw.{name} GROUP BY source_file"
        for name in RAW_SOURCES
        if name in present
    ]
    return json.loads(conn.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2").fetchdf().to_json(orient="records"))


OUTBOX_DDL = (
    "CREATE TABLE IF NOT EXISTS main.payload_outbox (payload_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, dagster_run_id VARCHAR, "
    "document_sha256 VARCHAR, outbox_path VARCHAR, document VARCHAR, size_bytes BIGINT)",
    "CREATE TABLE IF NOT EXISTS main.dsp_payload (payload_id VARCHAR, line_number INTEGER, line_type VARCHAR, lineage_id VARCHAR, "
    "object_id VARCHAR, object_asset VARCHAR, object_lineage_id VARCHAR, line_json VARCHAR, dagster_run_id VARCHAR)",
    "CREATE TABLE IF NOT EXISTS main.payload_pushes (payload_id VARCHAR, idempotency_key VARCHAR, mode VARCHAR, attempt INTEGER, "
    "attempted_at VARCHAR, http_status INTEGER, error VARCHAR, response_body VARCHAR, final_status VARCHAR, dagster_run_id VARCHAR)",
)

# The column schema shown in the Dagster UI. One row per line of a payload (history kept); the whole document is in
# payload_outbox.
COLUMN_DESCRIPTIONS = {
    "payload_id": (
        "Unkeyed SHA-256 of the payload's content (advertiser, currency, campaigns, audiences), cut to 32 hex characters."
    ),
    "line_number": "Position of the line in the payload, from 1: each campaign, its ad sets and their ads, then the audiences.",
    "line_type": "Kind of object on the line: campaign, ad_set, ad or audience.",
    "lineage_id": "Keyed lineage id of the line: lineage_id('payload_line', payload_id | line_number).",
    "object_id": (
        "The object's id in the payload: campaign_id (keyed from channel | campaign), ad_set_id, creative_id or audience_id."
    ),
    "object_asset": "Asset the object comes from: allocations (campaign), ad_sets, creative_library (ad) or audiences.",
    "object_lineage_id": (
        "Lineage id of the object's row in object_asset (for a campaign, its allocations row; null for an owned channel)."
    ),
    "line_json": "The line's JSON with sorted keys, without nested ad sets or ads and without audiences' member keys.",
    "dagster_run_id": "Dagster run id of the dsp_payload materialization that wrote the payload.",
}

PUSH_COLUMN_DESCRIPTIONS = {
    "payload_id": "The payload pushed (payload_outbox.payload_id).",
    "idempotency_key": "Key sent with every attempt of this push, so the DSP applies it once.",
    "mode": "dry_run (written to the outbox only) or http (sent to the DSP).",
    "attempt": "Attempt number (1 = the first).",
    "attempted_at": "When the attempt was made (UTC, ISO 8601).",
    "http_status": "HTTP status the DSP answered (null for a dry run or a dropped connection).",
    "error": "Transport error of the attempt, if any.",
    "response_body": "The DSP's answer (truncated).",
    "final_status": "Outcome of the push: dry_run, sent, rejected or failed.",
    "dagster_run_id": "Dagster run id of the push.",
}


class PayloadConfig(dg.Config):
    flight_days: int = Field(default=7, ge=1, le=90, description="days each campaign's flight runs from tomorrow")
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$", description="ISO 4217 currency of the budgets")


class PayloadSchemaError(ValueError):
    """The payload does not match schemas/dsp_payload.schema.json: nothing is written or pushed."""


def payload_schema() -> dict:
    return json.loads(package_files.files("gtm_assets").joinpath("schemas/dsp_payload.schema.json").read_text())


def validate_payload(document: dict) -> None:
    """Raise PayloadSchemaError naming the first violations (JSON path and message)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(payload_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        shown = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}" for e in errors[:5])
        raise PayloadSchemaError(f"payload fails its schema ({len(errors)} error(s)): {shown}")


def _lineage_assets(context: dg.AssetExecutionContext) -> dict:
    """Each upstream asset's latest data version, code version and run id from the Dagster instance."""
    assets = {}
    for name in LINEAGE_ASSETS:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(name))
        tags = (event.asset_materialization.tags or {}) if event and event.asset_materialization else {}
        assets[name] = {
            "data_version": tags.get("dagster/data_version"),
            "code_version": tags.get("dagster/code_version"),
            "run_id": event.run_id if event else None,
        }
    return assets


def _ad(row: dict) -> dict:
    audio = None
    if row["format"] == "spoken":
        audio = {
            "backend": row["audio_backend"] or "none",
            "script_15s_file": row["audio_15s_path"],
            "script_15s_seconds": row["audio_15s_seconds"],
            "script_30s_file": row["audio_30s_path"],
            "script_30s_seconds": row["audio_30s_seconds"],
        }
    return {
        "ad_id": row["creative_id"], "creative_id": row["creative_id"], "format": row["format"], "variant": int(row["variant"]),
        "copy": json.loads(row["copy_json"]), "audio": audio,
        "compliance": {"traffic_light": row["traffic_light"], "score": float(row["compliance_score"]), "approved_by": row["approved_by"]},
    }  # fmt: skip


def build_payload(conn, *, flight_start: date, flight_days: int, currency: str, advertiser: str) -> tuple[dict, dict]:
    """(content, campaign_allocations): campaigns -> ad sets -> shippable ads, and the audiences they
    use with their consented members; plus each campaign's allocation lineage id."""
    ads = conn.execute(
        f"SELECT c.*, lineage_id('campaign', c.channel || '|' || c.campaign) AS campaign_id FROM ({SHIPPABLE_CREATIVES_SQL}) c "
        "ORDER BY channel, campaign, ad_set_key, variant"
    ).fetchdf()
    ads = ads.astype(object).where(pd.notna(ads), None)
    sets = conn.execute("SELECT * FROM main.ad_sets").fetchdf().set_index("ad_set_id")
    flight = {"start_date": flight_start.isoformat(), "end_date": (flight_start + timedelta(days=flight_days - 1)).isoformat()}
    campaigns, allocations = [], {}
    for (campaign_id, channel, name), group in ads.groupby(["campaign_id", "channel", "campaign"], sort=False):
        ad_sets = []
        for ad_set_id, ad_rows in group.groupby("ad_set_id", sort=False):
            ad_set = sets.loc[ad_set_id]
            ad_sets.append({
                "ad_set_id": ad_set_id, "audience_id": ad_set["audience_id"], "daily_budget": round(float(ad_set["daily_budget"]), 2),
                "budget_share": round(float(ad_set["budget_share"]), 6), "bid_strategy": BID_STRATEGY_BY_KIND[ad_set["audience_kind"]],
                "ads": [_ad(r) for r in ad_rows.to_dict("records")],
            })  # fmt: skip
        fmt = group["format"].iloc[0]
        allocation = group["allocation_lineage_id"].iloc[0]
        allocations[campaign_id] = allocation
        campaigns.append({
            "campaign_id": campaign_id, "name": name, "channel": channel,
            "objective": OBJECTIVE_BY_FORMAT.get(fmt, "conversions"),
            "daily_budget": round(sum(s["daily_budget"] for s in ad_sets), 2), "flight": flight,
            "budget_source": "allocations" if allocation else "owned channel (no media cost)", "ad_sets": ad_sets,
        })  # fmt: skip
    used = sorted({s["audience_id"] for c in campaigns for s in c["ad_sets"]})
    audience_rows = conn.execute(
        "SELECT * FROM main.audiences WHERE list_contains(?, audience_id) ORDER BY audience_id", [used]
    ).fetchdf()
    members = conn.execute(
        "SELECT audience_id, list(DISTINCT member_key ORDER BY member_key) AS keys FROM main.audience_members "
        "WHERE consented AND list_contains(?, audience_id) GROUP BY audience_id",
        [used],
    ).fetchall()
    keys = {audience_id: list(k) for audience_id, k in members}
    audiences = [
        {"audience_id": a["audience_id"], "kind": a["kind"], "rule": a["rule"], "size": len(keys.get(a["audience_id"], [])),
         "key_type": a["key_type"], "member_keys": keys.get(a["audience_id"], [])}
        for a in audience_rows.to_dict("records")
    ]  # fmt: skip
    return {"advertiser": advertiser, "currency": currency, "campaigns": campaigns, "audiences": audiences}, allocations


def _lines(document: dict, allocations: dict) -> list[tuple]:
    """(line_type, object_id, object_asset, object_lineage_id, line_json) per payload line, in order."""
    lines = []
    for campaign in document["campaigns"]:
        head = {k: v for k, v in campaign.items() if k != "ad_sets"}
        lines.append(("campaign", campaign["campaign_id"], "allocations", allocations.get(campaign["campaign_id"]), head))
        for ad_set in campaign["ad_sets"]:
            lines.append(
                (
                    "ad_set",
                    ad_set["ad_set_id"],
                    "ad_sets",
                    ad_set["ad_set_id"],
                    {"campaign_id": campaign["campaign_id"], **{k: v for k, v in ad_set.items() if k != "ads"}},
                )
            )
            lines += [
                ("ad", ad["ad_id"], "creative_library", ad["creative_id"], {"ad_set_id": ad_set["ad_set_id"], **ad})
                for ad in ad_set["ads"]
            ]
    for audience in document["audiences"]:
        lines.append(
            (
                "audience",
                audience["audience_id"],
                "audiences",
                audience["audience_id"],
                {k: v for k, v in audience.items() if k != "member_keys"},
            )
        )
    return [(kind, oid, asset, lid, dumps(body, sort_keys=True)) for kind, oid, asset, lid, body in lines]


@dg.asset(
    deps=["allocations", "creative_library", "audiences"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "json"},
    pool=DUCKDB_POOL,
)
def dsp_payload(context: dg.AssetExecutionContext, config: PayloadConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """The document a DSP can act on: campaigns (daily budget, flight, channel, objective) -> ad sets
    (audience, budget split, bid strategy) -> ads (shippable creatives only: green, or amber with an
    approval), the audiences as consented keyed-hash member lists with their rule and size, and a lineage
    block (each upstream asset's data and code version, source file sha256s, row counts, allocation
    lineage ids). Validated against schemas/dsp_payload.schema.json before anything is written: an
    invalid payload fails this asset and nothing is pushed. Written to data/outbox/, to payload_outbox
    (the whole document, history kept) and to dsp_payload (one row per line, with its lineage id)."""
    guide = load_brand_guide(settings.brand_guide_path())
    with warehouse.transaction() as conn:
        for ddl in OUTBOX_DDL:
            conn.execute(ddl)
        allocated_at = conn.execute("SELECT max(allocated_at)::DATE FROM main.allocations").fetchall()[0][0]
        content, allocations = build_payload(
            conn,
            flight_start=allocated_at + timedelta(days=1),
            flight_days=config.flight_days,
            currency=config.currency,
            advertiser=guide.brand,
        )
        payload_id = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]
        row_counts = {
            name: int(conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for name, table in ROW_COUNT_TABLES.items()
        }
        sources = source_files(conn)
        created_at = pd.Timestamp.now(tz="UTC")
        document = {
            "schema_version": SCHEMA_VERSION, "payload_id": payload_id, "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dagster_run_id": context.run_id, **content,
            "lineage": {"assets": _lineage_assets(context), "source_files": sources, "row_counts": row_counts,
                        "lineage_ids": {"campaign_allocations": allocations}},
        }  # fmt: skip
        validate_payload(document)
        text = dumps(document, indent=2, sort_keys=True)
        path = settings.outbox_dir() / f"dsp_payload_{payload_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        lines = _lines(document, allocations)
        conn.execute("DELETE FROM main.payload_outbox WHERE payload_id = ?", [payload_id])
        conn.execute(
            "INSERT INTO main.payload_outbox VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                payload_id,
                created_at.tz_localize(None),
                context.run_id,
                hashlib.sha256(text.encode()).hexdigest(),
                str(path),
                text,
                len(text.encode()),
            ],
        )
        conn.execute("DELETE FROM main.dsp_payload WHERE payload_id = ?", [payload_id])
        conn.executemany(
            "INSERT INTO main.dsp_payload VALUES (?, ?, ?, lineage_id('payload_line', ? || '|' || ?), ?, ?, ?, ?, ?)",
            [
                (payload_id, n, kind, payload_id, str(n), oid, asset, lid, body, context.run_id)
                for n, (kind, oid, asset, lid, body) in enumerate(lines, start=1)
            ],
        )
        metadata = table_metadata(
            conn, "main.dsp_payload", where=f"payload_id = {sql_string(payload_id)}", descriptions=COLUMN_DESCRIPTIONS
        )
    counts = {kind: sum(1 for line in lines if line[0] == kind) for kind in ("campaign", "ad_set", "ad", "audience")}
    context.log.info(f"Payload {payload_id}: {counts} ({len(text.encode()):,} bytes) -> {path}")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "payload_id": payload_id,
            "outbox_path": dg.MetadataValue.path(str(path)),
            "size_bytes": dg.MetadataValue.int(len(text.encode())),
            "lines_by_type": dg.MetadataValue.json(counts),
            "audience_members": dg.MetadataValue.int(sum(a["size"] for a in document["audiences"])),
            "schema": "gtm_assets/schemas/dsp_payload.schema.json (valid)",
            "source_files": dg.MetadataValue.json(sources),
        }
    )


@dg.asset(
    deps=["dsp_payload"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def payload_push(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, dsp: DspClient) -> dg.MaterializeResult:
    """Push the newest payload through the DSP resource: dry-run by default (the exact HTTP request is
    written to data/outbox/push_<payload id>.request.json and nothing leaves the machine), a POST with
    the payload id as Idempotency-Key when configured, retried with backoff on 429 / 5xx / timeouts /
    dropped connections. A payload the DSP already accepted is not sent again. Every attempt and the
    DSP's response are kept in payload_pushes; a rejected or failed push fails this asset."""
    with warehouse.get_connection() as conn:
        for ddl in OUTBOX_DDL:
            conn.execute(ddl)
        payload_id, document = conn.execute(
            "SELECT payload_id, document FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1"
        ).fetchall()[0]
        already = conn.execute(
            "SELECT count(*) FROM main.payload_pushes WHERE payload_id = ? AND final_status = 'sent'", [payload_id]
        ).fetchall()[0][0]
        request_path = settings.outbox_dir() / f"push_{payload_id}.request.json"
        if already:
            status, attempts = "already_sent", []
            conn.execute(
                "INSERT INTO main.payload_pushes VALUES (?, ?, ?, 0, ?, NULL, NULL, NULL, 'already_sent', ?)",
                [payload_id, payload_id, dsp.mode, pd.Timestamp.now(tz="UTC").isoformat(), context.run_id],
            )
        else:
            result = dsp.push(document.encode("utf-8"), idempotency_key=payload_id)
            request_path.write_text(dumps(result.request, indent=2))
            status, attempts = result.status, result.attempts
            rows = [
                (
                    payload_id,
                    payload_id,
                    dsp.mode,
                    a.attempt,
                    a.at,
                    a.http_status,
                    a.error,
                    a.response_body,
                    status,
                    context.run_id,
                )
                for a in attempts
            ] or [
                (
                    payload_id,
                    payload_id,
                    dsp.mode,
                    0,
                    pd.Timestamp.now(tz="UTC").isoformat(),
                    None,
                    None,
                    None,
                    status,
                    context.run_id,
                )
            ]
            conn.executemany("INSERT INTO main.payload_pushes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        metadata = table_metadata(
            conn, "main.payload_pushes", where=f"payload_id = {sql_string(payload_id)}", descriptions=PUSH_COLUMN_DESCRIPTIONS
        )
    context.log.info(f"Payload {payload_id}: {status} after {len(attempts)} attempt(s) ({dsp.mode})")
    if status in ("rejected", "failed"):
        last = attempts[-1]
        detail = f"HTTP {last.http_status}: {last.response_body}" if last.http_status else last.error
        raise dg.Failure(
            description=f"DSP push of payload {payload_id} {status} after {len(attempts)} attempt(s): {detail}",
            metadata={"payload_id": payload_id, "attempts": len(attempts)},
        )
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "payload_id": payload_id,
            "push_status": status,
            "mode": dsp.mode,
            "attempts": dg.MetadataValue.int(len(attempts)),
            "request": dg.MetadataValue.path(str(request_path)),
        }
    )
