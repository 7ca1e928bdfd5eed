"""Creatives: channel formats and their limits, the brand guide, the offline copywriter and the layered
compliance checks. Pure code: no Dagster, no DuckDB."""

from gtm_assets.models.creative.brand_guide import BrandGuide, BrandGuideError, load_brand_guide
from gtm_assets.models.creative.compliance import AMBER, GREEN, RED, ComplianceResult, Finding, check_creative
from gtm_assets.models.creative.copywriter import ROLES, TONES, CopyBrief, write_offline
from gtm_assets.models.creative.formats import FORMATS, Format, format_for_channel

__all__ = [
    "AMBER", "FORMATS", "GREEN", "RED", "ROLES", "TONES", "BrandGuide", "BrandGuideError", "ComplianceResult",
    "CopyBrief", "Finding", "Format", "check_creative", "format_for_channel", "load_brand_guide", "write_offline",
]  # fmt: skip
