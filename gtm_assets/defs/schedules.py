"""Jobs, schedules and the declarative-automation sensor that replace the seed's cron workers."""

import dagster as dg

from gtm_assets.defs.ingest.landing_sensor import media_metrics_sync_job

everything_but_ingestion = dg.AssetSelection.all() - dg.AssetSelection.assets("raw_events")

full_graph_job = dg.define_asset_job(
    "full_graph_job",
    selection=everything_but_ingestion,
    description="Everything downstream of ingested event files: media sync, customers, governance, "
    "features, personas, measurement, forecast, activation.",
)
governance_job = dg.define_asset_job(
    "governance_job",
    selection=dg.AssetSelection.groups("governance", "features"),
    description="Rebuild guarded sessions, quarantine, bridge and features (declarative automation does "
    "this after new raw data; this job is for running it by hand).",
)
daily_personas_job = dg.define_asset_job(
    "daily_personas_job",
    selection=dg.AssetSelection.assets("raw_customers").downstream(),
    description="Persona discovery on the customer table and everything downstream of it.",
)
hourly_allocations_job = dg.define_asset_job(
    "hourly_allocations_job",
    selection=dg.AssetSelection.assets("allocations").downstream(),
    description="Re-optimise budgets (volatility-capped against the last allocation) and refresh the payload.",
)

platform_metrics_sync_job = dg.define_asset_job(
    "platform_metrics_sync_job",
    selection=dg.AssetSelection.assets("platform_metrics", "experiment_results"),
    description="Pull insights from every enabled ad platform, reconcile spend, evaluate the A/B tests and the loop's alerts.",
)
conversions_upload_job = dg.define_asset_job(
    "conversions_upload_job",
    selection=dg.AssetSelection.assets("touchpoints", "attribution", "offline_conversions"),
    description="Rebuild journeys and attribution from the governed sessions and upload new offline conversions.",
)

daily_personas_schedule = dg.ScheduleDefinition(
    name="daily_personas_schedule",
    job=daily_personas_job, cron_schedule="0 7 * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
hourly_allocations_schedule = dg.ScheduleDefinition(
    name="hourly_allocations_schedule",
    job=hourly_allocations_job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
media_metrics_sync_schedule = dg.ScheduleDefinition(
    name="media_metrics_sync_schedule",
    job=media_metrics_sync_job, cron_schedule="*/15 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)

platform_metrics_sync_schedule = dg.ScheduleDefinition(
    name="platform_metrics_sync_schedule",
    job=platform_metrics_sync_job, cron_schedule="*/15 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)

hourly_conversions_schedule = dg.ScheduleDefinition(
    name="hourly_conversions_schedule",
    job=conversions_upload_job, cron_schedule="30 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)

# Evaluates the automation conditions of the governance and features models (eager: after new raw
# events, once no upstream run is in progress), so a batch of ingested files is governed once.
governance_automation_sensor = dg.AutomationConditionSensorDefinition(
    "governance_automation_sensor",
    target=dg.AssetSelection.groups("governance", "features"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
