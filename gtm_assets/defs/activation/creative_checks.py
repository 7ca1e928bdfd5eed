"""Blocking checks on the creative library and the payload: nothing red, nothing unapproved amber and no
internal label ships, and every funded campaign has enough shippable ads for an A/B test."""

import json

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.activation.creative_library import SHIPPABLE_CREATIVES_SQL, internal_labels
from gtm_assets.defs.governance.checks import no_pii_check
from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.models.creative import AMBER, FORMATS, RED, check_creative, load_brand_guide
from gtm_assets.warehouse.resource import DuckDBWarehouse

MIN_SHIPPABLE_ADS = 2


@dg.asset_check(asset="creative_library", blocking=True, pool=DUCKDB_POOL)
def shippable_creatives_pass_compliance(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every creative marked shippable passes the current brand guide's compliance checks again (no red,
    amber only with an approval of this exact content, no internal segment label)."""
    guide = load_brand_guide(settings.brand_guide_path())
    with warehouse.get_connection() as conn:
        labels = internal_labels(conn)
        rows = conn.execute(
            "SELECT c.creative_id, c.format, c.copy_json, c.status, c.approved_by, c.content_sha256, b.offer_figures "
            f"FROM ({SHIPPABLE_CREATIVES_SQL}) c LEFT JOIN main.creative_briefs b ON b.lineage_id = c.brief_lineage_id"
        ).fetchall()
        approvals = {
            (r[0], r[1]) for r in conn.execute("SELECT creative_id, content_sha256 FROM main.creative_approvals").fetchall()
        }
    problems = []
    for creative_id, fmt, copy_json, status, _approved_by, sha, figures in rows:
        result = check_creative(
            json.loads(copy_json),
            FORMATS[fmt],
            guide=guide,
            offer_figures=json.loads(figures) if figures else None,
            internal_labels=labels,
        )
        if result.light == RED:
            problems.append(f"{creative_id}: red but {status}: {'; '.join(result.reasons)}")
        elif result.light == AMBER and (creative_id, sha) not in approvals:
            problems.append(f"{creative_id}: amber without an approval of this content")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:5]) or f"{len(rows)} shippable creatives pass",
        metadata={"shippable_checked": len(rows), "violations": len(problems)},
    )


@dg.asset_check(asset="creative_library", blocking=True, pool=DUCKDB_POOL)
def every_funded_campaign_has_ads(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Each campaign with a budget in allocations has at least one ad set, and every ad set has at least
    two shippable ads."""
    with warehouse.get_connection() as conn:
        missing = conn.execute(
            "SELECT a.channel || ' / ' || a.campaign FROM main.allocations a "
            "WHERE a.recommended_campaign_spend > 0 AND NOT EXISTS (SELECT 1 FROM main.ad_sets s "
            "WHERE s.campaign = a.campaign AND s.channel = a.channel)"
        ).fetchall()
        thin = conn.execute(
            f"SELECT ad_set_key || ': ' || shippable_ads || ' shippable' FROM main.ad_sets WHERE shippable_ads < {MIN_SHIPPABLE_ADS}"
        ).fetchall()
    problems = [f"{m[0]} has no ad set" for m in missing] + [t[0] for t in thin]
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:5]) or "every funded campaign has ads",
        metadata={"campaigns_without_ads": len(missing), "thin_ad_sets": len(thin)},
    )


@dg.asset_check(asset="dsp_payload", blocking=True, pool=DUCKDB_POOL)
def payload_ships_only_shippable_creatives(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every ad line of the newest payload is a creative whose status is ready or approved, and every
    audience member in it has consent."""
    with warehouse.get_connection() as conn:
        payload_id = conn.execute("SELECT payload_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1").fetchall()[0][0]
        bad_ads = conn.execute(
            "SELECT p.object_id, coalesce(c.status, 'missing') FROM main.dsp_payload p "
            "LEFT JOIN main.creative_library c ON c.creative_id = p.object_id "
            f"WHERE p.payload_id = ? AND p.line_type = 'ad' AND p.object_id NOT IN (SELECT creative_id FROM ({SHIPPABLE_CREATIVES_SQL}))",
            [payload_id],
        ).fetchall()
        document = json.loads(
            conn.execute("SELECT document FROM main.payload_outbox WHERE payload_id = ?", [payload_id]).fetchall()[0][0]
        )
        keys = [(a["audience_id"], k) for a in document["audiences"] for k in a["member_keys"]]
        conn.execute("CREATE OR REPLACE TEMP TABLE payload_members (audience_id VARCHAR, member_key VARCHAR)")
        conn.executemany("INSERT INTO payload_members VALUES (?, ?)", keys)
        unconsented = conn.execute(
            "SELECT count(*) FROM payload_members p LEFT JOIN main.audience_members m USING (audience_id, member_key) "
            "WHERE NOT coalesce(m.consented, false)"
        ).fetchall()[0][0]
    problems = [f"ad {a}: {s}" for a, s in bad_ads] + ([f"{unconsented} audience members without consent"] if unconsented else [])
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:5]) or "only shippable ads and consented members",
        metadata={"payload_id": payload_id, "bad_ads": len(bad_ads), "unconsented_members": int(unconsented)},
    )


activation_outputs_have_no_pii = [
    no_pii_check("audiences", ["main.audiences", "main.audience_members"]),
    no_pii_check("payload_push", ["main.payload_pushes"]),
]
