"""The one Definitions object of gtm-assets, loaded from the domain folders under gtm_assets/defs.

Every Python asset gets a code version: the sha256 of the module that defines it (dbt models already
carry their checksums), so data versions, staleness in the UI and the payload's lineage block change
when the code that made a table changes."""

import hashlib
import inspect
from pathlib import Path

import dagster as dg


def _module_version(asset: dg.AssetsDefinition) -> str:
    source = inspect.getsourcefile(asset.op.compute_fn.decorated_fn)
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]


def _versioned(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """Specs without a code version get their module's."""
    version = _module_version(asset)
    return asset.map_asset_specs(lambda spec: spec if spec.code_version else spec.replace_attributes(code_version=version))


def _with_code_versions(definitions: dg.Definitions) -> dg.Definitions:
    # An asset imported by a second module (a sensor's module, say) is listed twice: version it once.
    unique = list({id(asset): asset for asset in definitions.assets or []}.values())
    versioned = [
        _versioned(asset) if isinstance(asset, dg.AssetsDefinition) and asset.is_executable else asset for asset in unique
    ]
    return dg.Definitions(
        assets=versioned,
        asset_checks=definitions.asset_checks,
        schedules=definitions.schedules,
        sensors=definitions.sensors,
        jobs=definitions.jobs,
        resources=definitions.resources,
        executor=definitions.executor,
        loggers=definitions.loggers,
        metadata=definitions.metadata,
    )


defs = _with_code_versions(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
