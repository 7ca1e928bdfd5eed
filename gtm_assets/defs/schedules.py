"""Schedules and the declarative-automation sensor that replace the seed's cron workers (the jobs they
launch are in jobs.py; media, plan and experiment files are synced by the landing sensor when they
change, so no schedule polls them)."""

import dagster as dg

from gtm_assets.defs.jobs import conversions_upload, daily_personas, hourly_allocations, platform_metrics_sync, refit_models

daily_personas_schedule = dg.ScheduleDefinition(
    name="daily_personas_schedule", job=daily_personas, cron_schedule="0 7 * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
hourly_allocations_schedule = dg.ScheduleDefinition(
    name="hourly_allocations_schedule",
    job=hourly_allocations,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
daily_models_schedule = dg.ScheduleDefinition(
    name="daily_models_schedule", job=refit_models, cron_schedule="0 6 * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)

platform_metrics_sync_schedule = dg.ScheduleDefinition(
    name="platform_metrics_sync_schedule",
    job=platform_metrics_sync,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

hourly_conversions_schedule = dg.ScheduleDefinition(
    name="hourly_conversions_schedule",
    job=conversions_upload,
    cron_schedule="30 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# Evaluates the automation conditions of the dbt models (governance, features and touchpoints; eager:
# after new raw events, once no upstream run is in progress), so a batch of ingested files is governed once.
governance_automation_sensor = dg.AutomationConditionSensorDefinition(
    "governance_automation_sensor",
    target=dg.AssetSelection.groups("governance", "features", "measurement"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
