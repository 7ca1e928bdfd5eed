"""Every job of the graph, in one place: what the sensors and schedules launch, what `gtm run` runs,
and the named jobs a person (launchpad) or another system (GraphQL) launches with typed run config.

| job | assets | run config |
|---|---|---|
| ingest_landing | one landing event file (a raw_events partition) | - |
| sync_media_spend / sync_media_plan / sync_daily_sales / sync_lift_tests | a landing folder's CSVs | - |
| discover_personas | features -> persona clusters, personas, creative briefs | ops.persona_clusters.config |
| generate_creatives | briefs -> audiences, creative_library | ops.creative_library.config (channels, audiences, variants) |
| optimize_budget | mmm_model -> allocations -> experiment_plan | ops.allocations.config (total budget, method, guardrails) |
| push_payload | dsp_payload -> payload_push (dry-run unless GTM_DSP_MODE=http) | ops.dsp_payload.config |
| refit_models | mmm_model, forecast | ops.mmm_model.config, ops.forecast.config |
| everything_after_ingestion | every asset but raw_events (what `gtm run` runs after ingesting) | - |
"""

import dagster as dg

from gtm_assets.defs.ingest.raw_events import landing_event_files

RAW_EVENTS = dg.AssetKey("raw_events")
EVERYTHING_AFTER_INGESTION = dg.AssetSelection.all() - dg.AssetSelection.assets(RAW_EVENTS)

ingest_landing = dg.define_asset_job(
    "ingest_landing",
    selection=dg.AssetSelection.assets(RAW_EVENTS),
    partitions_def=landing_event_files,
    description="Ingest one landing event file (one partition of raw_events); the landing sensor launches it for "
    "every new or changed complete file, and governance follows by declarative automation.",
)
sync_media_spend = dg.define_asset_job(
    "sync_media_spend",
    selection=dg.AssetSelection.assets("raw_media_spend"),
    description="Sync daily media spend, impressions, clicks and conversions from data/landing/media.",
)
sync_media_plan = dg.define_asset_job(
    "sync_media_plan",
    selection=dg.AssetSelection.assets("raw_media_plan"),
    description="Sync the planned daily spend per channel from data/landing/plans.",
)
sync_daily_sales = dg.define_asset_job(
    "sync_daily_sales",
    selection=dg.AssetSelection.assets("raw_daily_sales"),
    description="Sync daily orders and revenue from the order system (the sales ledger) from data/landing/sales.",
)
sync_lift_tests = dg.define_asset_job(
    "sync_lift_tests",
    selection=dg.AssetSelection.assets("raw_lift_tests"),
    description="Sync lift tests (geo holdouts, switch-off tests) from data/landing/experiments.",
)
discover_personas = dg.define_asset_job(
    "discover_personas",
    selection=dg.AssetSelection.assets("raw_customers", "customer_features", "persona_clusters", "personas", "creative_briefs"),
    description="Persona discovery: the customer table, its features and the behavioural features -> discovered clusters, "
    "cohort x persona segments and their creative briefs.",
)
generate_creatives = dg.define_asset_job(
    "generate_creatives",
    selection=dg.AssetSelection.assets("audiences", "creative_library"),
    description="Briefs -> ads for every funded campaign, compliance-checked; run config chooses channels, "
    "audiences and the number of A/B variants.",
)
optimize_budget = dg.define_asset_job(
    "optimize_budget",
    selection=dg.AssetSelection.assets("allocations", "experiment_plan"),
    description="Re-optimise the daily budget on the fitted media-mix model under the guardrails, and plan the lift "
    "tests for the channels it holds; run config sets the total budget, the method and guardrail overrides. "
    "Infeasible guardrails fail with the figures named.",
)
push_payload = dg.define_asset_job(
    "push_payload",
    selection=dg.AssetSelection.assets("dsp_payload", "payload_push", "lineage_edges"),
    description="Build the schema-validated DSP payload from the latest allocations and creatives and push it: "
    "dry-run (the request written to data/outbox) unless GTM_DSP_MODE=http with an endpoint and token.",
)
refit_models = dg.define_asset_job(
    "refit_models",
    selection=dg.AssetSelection.assets("mmm_model", "forecast"),
    description="Refit the media-mix model and the revenue forecast on the latest governed data.",
)
everything_after_ingestion = dg.define_asset_job(
    "everything_after_ingestion",
    selection=EVERYTHING_AFTER_INGESTION,
    description="Everything downstream of ingested event files: folder syncs, customers, governance, features, "
    "personas, measurement, forecast, activation, reporting (what `gtm run` runs after ingesting).",
)
daily_personas = dg.define_asset_job(
    "daily_personas",
    selection=dg.AssetSelection.assets("raw_customers").downstream(),
    description="Persona discovery on the customer table and everything downstream of it.",
)
hourly_allocations = dg.define_asset_job(
    "hourly_allocations",
    selection=dg.AssetSelection.assets("allocations").downstream(),
    description="Re-optimise budgets (volatility-capped against the trailing base) and refresh the payload.",
)
platform_metrics_sync = dg.define_asset_job(
    "platform_metrics_sync",
    selection=dg.AssetSelection.assets("platform_metrics", "experiment_results"),
    description="Pull insights from every enabled ad platform, reconcile spend, evaluate the A/B tests and the loop's alerts.",
)
conversions_upload = dg.define_asset_job(
    "conversions_upload",
    selection=dg.AssetSelection.assets("touchpoints", "attribution", "offline_conversions"),
    description="Rebuild journeys and attribution from the governed sessions and upload new offline conversions.",
)
