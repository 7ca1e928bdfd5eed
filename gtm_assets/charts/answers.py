"""PNG charts for answers and the executive report, drawn with matplotlib (Agg) from the data an
answer read from its tables. matplotlib is imported only when a chart is drawn."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gtm_assets import settings
from gtm_assets.ask.answer import Chart

BLUE, GREY, RED, GREEN = "#4C78A8", "#9D9D9D", "#E45756", "#54A24B"


def chart_dir() -> Path:
    return settings.data_dir() / "reports" / "ask"


def chart_path(intent: str, key: dict) -> Path:
    """A stable file name per intent and question content (the same question rewrites its chart)."""
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return chart_dir() / f"{intent}-{digest}.png"


def render(chart: Chart, path: Path, *, dpi: int = 110) -> Path:
    """Draw ``chart`` into ``path`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    if chart.kind == "summary":
        parts = list(chart.data.values())[:4]
        fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), squeeze=False)
        for ax, part in zip(axes.ravel(), parts, strict=False):  # up to four panels
            DRAW[part.kind](ax, part.data)
            ax.set_title(part.title, fontsize=9)
        for ax in axes.ravel()[len(parts) :]:
            ax.set_visible(False)
        fig.suptitle(chart.title)
    elif chart.kind == "saturation":
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
        _saturation(left, right, chart.data)
        fig.suptitle(chart.title)
    else:
        fig, ax = plt.subplots(figsize=(8, 3.8))
        DRAW[chart.kind](ax, chart.data)
        ax.set_title(chart.title)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=dpi)
    plt.close(fig)
    return path


def _interval_bars(ax, data: dict) -> None:
    labels, values = data["labels"][::-1], data["values"][::-1]
    errors = [
        [v - lo for v, lo in zip(values, data["lo"][::-1], strict=True)],
        [hi - v for v, hi in zip(values, data["hi"][::-1], strict=True)],
    ]
    ax.barh(labels, values, xerr=errors, color=BLUE, capsize=3)
    if data.get("reference") is not None:
        ax.axvline(data["reference"], color=RED, ls="--", lw=1)
    ax.set_xlabel(data["xlabel"], fontsize=8)


def _saturation(left, right, data: dict) -> None:
    labels = data["labels"][::-1]
    left.barh(labels, data["saturation"][::-1], color=GREY)
    left.set_xlim(0, 100)
    left.set_xlabel("saturation at average spend (% of the channel's maximum response)", fontsize=8)
    _interval_bars(right, {**data, "xlabel": "marginal ROI (90% interval); dashed: break-even", "reference": 1.0})


def _share_pairs(ax, data: dict) -> None:
    import numpy as np

    x = np.arange(len(data["labels"]))
    ax.bar(x - 0.2, [100 * v for v in data["first"]], 0.4, label=data["first_label"], color=GREY)
    ax.bar(x + 0.2, [100 * v for v in data["second"]], 0.4, label=data["second_label"], color=BLUE)
    ax.set_xticks(x, data["labels"], rotation=30, fontsize=8)
    ax.set_ylabel("%")
    ax.legend(fontsize=8)


def _grouped(ax, data: dict) -> None:
    import numpy as np

    x = np.arange(len(data["labels"]))
    ax.bar(x - 0.2, data["first"], 0.4, label=data["first_label"], color=GREY)
    ax.bar(x + 0.2, data["second"], 0.4, label=data["second_label"], color=BLUE)
    ax.set_xticks(x, data["labels"], rotation=30, fontsize=8)
    ax.legend(fontsize=8)


def _changes(ax, data: dict) -> None:
    labels, values = data["labels"][::-1], data["values"][::-1]
    colors = [GREEN if v >= 0 else RED for v in values]
    errors = None
    if "lo" in data:
        errors = [[max(v - lo, 0) for v, lo in zip(values, data["lo"][::-1], strict=True)],
                  [max(hi - v, 0) for v, hi in zip(values, data["hi"][::-1], strict=True)]]  # fmt: skip
    ax.barh(labels, values, xerr=errors, color=colors, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(data["xlabel"], fontsize=8)


def _fan(ax, data: dict) -> None:
    if data["history_ds"]:
        ax.plot(data["history_ds"], data["history_y"], color="black", lw=1, label="actual")
    ax.fill_between(data["ds"], data["lo95"], data["hi95"], color=BLUE, alpha=0.18, label="95% interval")
    ax.fill_between(data["ds"], data["lo80"], data["hi80"], color=BLUE, alpha=0.35, label="80% interval")
    ax.plot(data["ds"], data["yhat"], color=BLUE, lw=2, label="forecast")
    ax.set_ylabel("daily revenue")
    ax.legend(fontsize=7, loc="upper left")
    ax.tick_params(axis="x", labelsize=7, rotation=30)


def _bars(ax, data: dict) -> None:
    labels, values = data["labels"][::-1], data["values"][::-1]
    values = [100 * v for v in values] if data.get("share") else values
    colors = [BLUE if label in data["highlight"] else GREY for label in labels]
    ax.barh(labels, values, color=colors)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel(data["xlabel"] + (" (%)" if data.get("share") else ""), fontsize=8)


def _saturation_only(ax, data: dict) -> None:
    """Saturation bars, red where the next unit of spend returns less than it costs (one panel)."""
    labels = data["labels"][::-1]
    colors = [RED if m < 1.0 else GREY for m in data["values"][::-1]]
    ax.barh(labels, data["saturation"][::-1], color=colors)
    ax.set_xlim(0, 100)
    ax.set_xlabel("saturation at average spend (%); red: marginal ROI below break-even", fontsize=8)


DRAW = {"interval_bars": _interval_bars, "share_pairs": _share_pairs, "grouped": _grouped, "changes": _changes,
        "fan": _fan, "bars": _bars, "saturation": _saturation_only}  # fmt: skip
