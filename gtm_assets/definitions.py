"""The one Definitions object of gtm-assets, loaded from the domain folders under gtm_assets/defs."""

import os
from pathlib import Path

import dagster as dg

from gtm_assets import settings

# dbt's profile and the warehouse resource both read this variable: give it one absolute value.
os.environ.setdefault("GTM_DUCKDB_PATH", str(settings.duckdb_path()))

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
