"""The one record of what was ingested, shared by the landing sensor and `gtm run`.

Every ``raw_events`` partition (one per landing file) is materialized with the file's sha256 as its
data version (and as ``source_file_sha256`` metadata), in the Dagster instance that both the daemon
and `gtm run` use (``DAGSTER_HOME``). A file whose current sha256 equals the one recorded for its
partition is not ingested again, whoever looks; the ``raw_events`` asset also skips it by the
warehouse's own ``raw.landing_files`` when asked anyway. Reading the record never opens DuckDB.
"""

from __future__ import annotations

import dagster as dg

RAW_EVENTS = dg.AssetKey("raw_events")


def recorded_sha256(instance: dg.DagsterInstance, partition_key: str) -> str | None:
    """The sha256 of the file last ingested as ``partition_key`` (None if never)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_EVENTS, asset_partitions=[partition_key]), limit=1
    ).records
    if not records:
        return None
    materialization = records[0].asset_materialization
    value = materialization.metadata.get("source_file_sha256") if materialization else None
    return getattr(value, "value", value)


def files_to_ingest(instance: dg.DagsterInstance, sha256_by_name: dict[str, str]) -> dict[str, str | None]:
    """The names (sorted) whose content differs from what the record says was ingested, each with the
    sha256 recorded for it (None if never ingested)."""
    recorded = {name: recorded_sha256(instance, name) for name in sorted(sha256_by_name)}
    return {name: recorded[name] for name, sha in sorted(sha256_by_name.items()) if recorded[name] != sha}
