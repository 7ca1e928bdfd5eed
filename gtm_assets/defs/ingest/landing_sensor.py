"""Sensor on data/landing/: starts ingestion for every new or changed file that is complete.

* Complete: a file is ingested once its size and modification time are the same at two consecutive
  ticks (so a file still being copied is left alone), or at once when a marker ``<name>.done`` sits
  beside it (for writers that can announce completion).
* Shared record: an event file is ingested when its sha256 differs from the one recorded for its
  ``raw_events`` partition in the Dagster instance (see ``landing_record``), which `gtm run` writes
  too; a daemon started on a warehouse that `gtm run` filled starts nothing for unchanged files.
* A replaced file (same name, new content) is ingested again and its rows replace the old ones, also
  when the content returns to an earlier version; a deleted file keeps its rows in the warehouse (the
  policy of ``raw_events``) and the sensor logs it once.
* The cursor (per file: size, mtime, sha256, stable or pending) is stored by Dagster with the sensor,
  so it survives a daemon restart; size and mtime spare re-hashing unchanged files.
* Media spend, media plans, sales and lift tests: one sync run of their folder when any complete file changed
  and the folder's files are not the version its asset last recorded.
It never opens DuckDB: sensors run outside runs and pools. Governance follows from declarative
automation (the dbt models' eager condition), once per batch of ingested files."""

import json
from pathlib import Path

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.ingest.landing_record import files_to_ingest
from gtm_assets.defs.ingest.raw_events import landing_event_files
from gtm_assets.defs.jobs import ingest_landing, sync_daily_sales, sync_lift_tests, sync_media_plan, sync_media_spend
from gtm_assets.landing import is_event_file, sha256_of_file
from gtm_assets.landing.files import UnsafeFileName, check_landing_name

DONE_MARKER = ".done"

FOLDERS = (
    ("media", settings.landing_media_dir, sync_media_spend, "raw_media_spend"),
    ("plans", settings.landing_plans_dir, sync_media_plan, "raw_media_plan"),
    ("sales", settings.landing_sales_dir, sync_daily_sales, "raw_daily_sales"),
    ("experiments", settings.landing_experiments_dir, sync_lift_tests, "raw_lift_tests"),
)


def _csv_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.csv") if p.is_file()) if directory.is_dir() else []


def _event_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if is_event_file(p)) if directory.is_dir() else []


def scan(previous: dict, paths: list[Path]) -> tuple[dict, list[str]]:
    """The folder's new cursor entries and the names that are complete.

    An entry is {size, mtime_ns, sha256 (once complete)}. A file is complete when its size and mtime
    equal those of the previous tick, or when ``<name>.done`` exists; sha256 is computed only then,
    and only when size or mtime changed since it was last computed."""
    entries, complete = {}, []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue  # removed between listing and stat
        known = previous.get(path.name, {})
        same = known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns
        marked = path.with_name(path.name + DONE_MARKER).exists()
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        if same or marked:
            entry["sha256"] = known["sha256"] if same and "sha256" in known else sha256_of_file(path)
            complete.append(path.name)
        entries[path.name] = entry
    return entries, complete


def _digest(entries: dict, names: list[str]) -> str:
    return ",".join(f"{n}:{entries[n]['sha256'][:16]}" for n in sorted(names))


def _folder_version(entries: dict, names: list[str]) -> str:
    """The data version the folder's sync asset records for these files (their sha256 prefixes, by name)."""
    return ",".join(entries[n]["sha256"][:16] for n in sorted(names))


def _recorded_version(instance: dg.DagsterInstance, asset: str) -> str | None:
    """The data version of the asset's latest materialization: a daemon started on a warehouse whose
    folders were synced already (by `gtm run`) starts no sync for the same files."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    materialization = records[0].asset_materialization if records else None
    return (materialization.tags or {}).get("dagster/data_version") if materialization else None


@dg.sensor(
    jobs=[ingest_landing, sync_media_spend, sync_media_plan, sync_daily_sales, sync_lift_tests],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Ingest complete new or changed files from data/landing/events (one run per file, skipping files
    whose sha256 the shared record already has), data/landing/media, data/landing/plans and
    data/landing/experiments (one sync run each when any complete file changed)."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    events_dir = settings.landing_events_dir()
    events, complete = scan(cursor.get("events", {}), _event_files(events_dir))
    for name in sorted(set(cursor.get("events", {})) - set(events)):
        context.log.info(f"landing/events/{name} was deleted: its rows stay in the warehouse")

    safe = []
    for name in complete:
        try:
            check_landing_name(events_dir, name)
            safe.append(name)
        except UnsafeFileName as error:
            if "sha256" not in cursor.get("events", {}).get(name, {}):
                context.log.warning(f"landing/events: not ingested: {error}")
    pending = sorted(set(events) - set(complete))
    if pending:
        context.log.info(f"waiting for {len(pending)} file(s) to stop changing: {', '.join(pending[:10])}")
    changed = files_to_ingest(context.instance, {n: events[n]["sha256"] for n in safe})
    # The run key names the version replaced too: a file that comes back to an earlier content (or is
    # re-delivered after a failed attempt) is a new request, not one Dagster has already seen.
    run_requests = [
        dg.RunRequest(
            job_name=ingest_landing.name,
            partition_key=name,
            run_key=f"{name}:{(recorded or 'none')[:16]}->{events[name]['sha256']}",
        )
        for name, recorded in changed.items()
    ]
    new_cursor = {"events": events}
    for key, folder, job, asset in FOLDERS:
        entries, ready = scan(cursor.get(key, {}), _csv_files(folder()))
        new_cursor[key] = entries
        old = cursor.get(key, {})
        if (
            ready
            and len(ready) == len(entries)
            and _digest(entries, ready) != _digest(old, [n for n in old if "sha256" in old[n]])
            and _folder_version(entries, ready) != _recorded_version(context.instance, asset)
        ):
            run_requests.append(dg.RunRequest(job_name=job.name, run_key=f"{key}:{_digest(entries, ready)}"))
    new_partitions = [n for n in changed if not context.instance.has_dynamic_partition(landing_event_files.name, n)]
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[landing_event_files.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(new_cursor, sort_keys=True),
    )
