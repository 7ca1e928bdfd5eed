"""Materialize the whole graph in-process: every landing event file as its own raw_events
partition, then everything downstream. Used by `gtm run` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from gtm_assets import settings
from gtm_assets.landing import is_event_file

RAW_EVENTS = dg.AssetKey("raw_events")
PARTITIONS = "landing_event_files"


@dataclass
class GraphRun:
    ingested_files: list[str]
    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


def load_definitions() -> dg.Definitions:
    from gtm_assets.definitions import defs

    return defs


def materialize_graph(
    instance: dg.DagsterInstance,
    *,
    resources: Mapping[str, Any] | None = None,
    run_config: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
) -> GraphRun:
    """Ingest every landing event file, then materialize every other asset and run its checks."""
    loggers = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    defs = load_definitions()
    assets = list(defs.assets or []) + list(defs.asset_checks or [])
    resources = resources if resources is not None else defs.resources
    events_dir = settings.landing_events_dir()
    files = sorted(p.name for p in events_dir.iterdir() if is_event_file(p)) if events_dir.is_dir() else []
    if not files:
        raise FileNotFoundError(f"{events_dir}: no landing event files (csv, parquet, jsonl, optionally .gz)")
    known = set(instance.get_dynamic_partitions(PARTITIONS))
    instance.add_dynamic_partitions(PARTITIONS, [f for f in files if f not in known])
    run = GraphRun(ingested_files=files)
    for name in files:
        run.results.append(
            dg.materialize(
                assets, selection=[RAW_EVENTS], partition_key=name, instance=instance,
                resources=resources, raise_on_error=raise_on_error, run_config=loggers,
            )
        )
    run.results.append(
        dg.materialize(
            assets,
            selection=dg.AssetSelection.all() - dg.AssetSelection.assets(RAW_EVENTS),
            instance=instance,
            resources=resources,
            run_config={**loggers, **(run_config or {})},
            raise_on_error=raise_on_error,
        )
    )
    return run
