"""Charts attached to materializations: a PNG rendered by matplotlib (Agg, no display), embedded
in Markdown metadata so the Dagster UI shows it, and also written under data/reports/."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import dagster as dg
import matplotlib.pyplot as plt

from gtm_assets import settings


def figure_metadata(fig: plt.Figure, name: str) -> dict:
    """Render ``fig`` as PNG and return metadata entries that display it (see ``png_metadata``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return png_metadata(buffer.getvalue(), name)


def png_metadata(png: bytes, name: str) -> dict:
    """Save ``png`` as <data folder>/reports/<name>.png and return metadata entries that display it and
    name the file (relative to the data folder, so no local path is published)."""
    reports = settings.data_dir() / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"{name}.png"
    path.write_bytes(png)
    encoded = base64.b64encode(png).decode("ascii")
    return {
        f"{name}_chart": dg.MetadataValue.md(f"![{name}](data:image/png;base64,{encoded})"),
        f"{name}_png": dg.MetadataValue.path(str(path.relative_to(settings.data_dir()))),  # under the data folder
    }
