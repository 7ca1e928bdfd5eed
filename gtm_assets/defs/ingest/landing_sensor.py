"""Sensor on data/landing/: starts ingestion for every new or changed file.

The cursor maps each file to its sha256, so an unchanged file is never ingested twice (a changed
file gets a new run key). It never opens the DuckDB file: sensors run outside runs and pools."""

import json

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events
from gtm_assets.defs.ingest.raw_media_plan import raw_media_plan
from gtm_assets.defs.ingest.raw_media_spend import raw_media_spend
from gtm_assets.landing import is_event_file, sha256_of_file

ingest_events_job = dg.define_asset_job(
    "ingest_events_job",
    selection=[raw_events],
    partitions_def=landing_event_files,
    description="Ingest one landing event file (one partition of raw_events).",
)
media_metrics_sync_job = dg.define_asset_job(
    "media_metrics_sync_job",
    selection=[raw_media_spend],
    description="Sync daily media spend, impressions, clicks and conversions from data/landing/media.",
)
media_plan_sync_job = dg.define_asset_job(
    "media_plan_sync_job",
    selection=[raw_media_plan],
    description="Sync the planned daily spend per channel from data/landing/plans.",
)


def _csv_files(directory) -> list:
    return sorted(p for p in directory.glob("*.csv") if p.is_file()) if directory.is_dir() else []


def _digest(files: dict) -> str:
    """Names and sha256 prefixes of fingerprinted files, for a run key."""
    return ",".join(f"{n}:{f['sha256'][:16]}" for n, f in sorted(files.items()))


def _fingerprints(cursor: dict, paths) -> dict:
    """sha256 per file, re-hashing only files whose size or mtime changed since the last tick."""
    result = {}
    for path in paths:
        stat = path.stat()
        known = cursor.get(path.name)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            result[path.name] = known
        else:
            result[path.name] = {"sha256": sha256_of_file(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return result


@dg.sensor(
    jobs=[ingest_events_job, media_metrics_sync_job, media_plan_sync_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Ingest new or changed files from data/landing/events (one run per file), data/landing/media
    and data/landing/plans (one sync run each when any of its files changed)."""
    cursor = {"events": {}, "media": {}, "plans": {}, **(json.loads(context.cursor) if context.cursor else {})}
    events_dir = settings.landing_events_dir()
    event_paths = sorted(p for p in events_dir.iterdir() if is_event_file(p)) if events_dir.is_dir() else []
    events = _fingerprints(cursor["events"], event_paths)
    media = _fingerprints(cursor["media"], _csv_files(settings.landing_media_dir()))
    plans = _fingerprints(cursor["plans"], _csv_files(settings.landing_plans_dir()))

    changed_events = [n for n, f in events.items() if cursor["events"].get(n, {}).get("sha256") != f["sha256"]]
    run_requests = [
        dg.RunRequest(job_name=ingest_events_job.name, partition_key=name, run_key=f"{name}:{events[name]['sha256']}")
        for name in changed_events
    ]
    for key, files, job in (("media", media, media_metrics_sync_job), ("plans", plans, media_plan_sync_job)):
        if files and _digest(files) != _digest(cursor[key]):
            run_requests.append(dg.RunRequest(job_name=job.name, run_key=f"{key}:{_digest(files)}"))
    new_partitions = [n for n in changed_events if not context.instance.has_dynamic_partition(landing_event_files.name, n)]
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[landing_event_files.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps({"events": events, "media": media, "plans": plans}, sort_keys=True),
    )
