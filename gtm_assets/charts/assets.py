"""The assets' charts: the media-mix model's six, attribution against the model, persona response
rates and the forecast's fan chart. Each returns materialization metadata (see ``metadata``), or PNG
bytes for the fan chart, which is also written to a path when asked."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gtm_assets.charts.metadata import figure_metadata
from gtm_assets.models.mmm import MMMResult
from gtm_assets.models.personas import PERSONAS

CURRENT_WEEKS = 4  # "current spend" on the response-curve chart: the mean of the last weeks
FAN_CHART_HISTORY_DAYS = 90


def mmm_charts(panel: pd.DataFrame, channels: list[str], result: MMMResult) -> dict:
    """The six PNG charts of a fit, as materialization metadata."""
    table = result.channels
    wide = result.decomposition.pivot(index="week", columns="component", values="value")
    metadata = {}

    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.stackplot(panel["week"], *[panel[c] for c in channels], labels=channels, alpha=0.8)
    ax.set_ylabel("weekly spend")
    twin = ax.twinx()
    twin.plot(panel["week"], panel["revenue"], color="black", lw=1.5, label="revenue")
    twin.set_ylabel("weekly revenue")
    ax.legend(loc="upper left", fontsize=7, ncol=4)
    ax.set_title("Revenue (line) vs spend by channel (stacked)")
    metadata.update(figure_metadata(fig, "mmm_revenue_vs_spend"))

    fig, ax = plt.subplots(figsize=(9, 3.8))
    parts = ["baseline", *[c for c in wide.columns if c not in {"baseline", "actual", "fitted", *channels}], *channels]
    ax.stackplot(wide.index, *[wide[p].clip(lower=0) for p in parts], labels=parts, alpha=0.85)
    ax.plot(wide.index, wide["actual"], color="black", lw=1, label="actual")
    ax.legend(loc="upper left", fontsize=7, ncol=5)
    ax.set_title("Weekly contributions (stacked; negative control effects not drawn) and actual revenue")
    metadata.update(figure_metadata(fig, "mmm_contributions"))

    metadata.update(figure_metadata(roi_chart(table), "mmm_roi"))

    n_cols = 4
    n_rows = -(-len(channels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(11, 2.6 * n_rows), squeeze=False)
    for ax, (channel, curve) in zip(axes.ravel(), result.response_curves.groupby("channel", sort=False)):
        ax.plot(curve["weekly_spend"], curve["incremental_revenue"], color="#4C78A8")
        current = panel[channel].tail(CURRENT_WEEKS).mean()
        ax.axvline(current, color="#E45756", ls="--", lw=1)
        ax.set_title(f"{channel} (current {current:,.0f}/wk)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(channels) :]:
        ax.set_visible(False)
    fig.suptitle("Response curves: weekly spend -> incremental weekly revenue (dashed: current spend)")
    fig.tight_layout()
    metadata.update(figure_metadata(fig, "mmm_response_curves"))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["spend_share"], 0.4, label="spend share", color="#9D9D9D")
    ax.bar(x + 0.2, table["contribution_share"], 0.4, label="contribution share", color="#4C78A8")
    ax.set_xticks(x, table["channel"], rotation=30, fontsize=8)
    ax.legend()
    ax.set_title(f"Spend share vs contribution share (DECOMP.RSSD {result.diagnostics['decomp_rssd']:.3f})")
    metadata.update(figure_metadata(fig, "mmm_share_comparison"))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    totals = wide.drop(columns=["actual", "fitted"]).sum().sort_values()
    ax.barh(totals.index, totals / wide["fitted"].sum() * 100, color="#72B7B2")
    ax.set_xlabel("share of fitted revenue over the panel (%)")
    ax.set_title(f"Decomposition summary (R² {result.diagnostics['r2']:.3f})")
    metadata.update(figure_metadata(fig, "mmm_decomposition"))
    return metadata


def roi_chart(table: pd.DataFrame) -> plt.Figure:
    """ROI by channel with its 90% interval; unidentified channels in grey. The axis is set by the
    identified channels (and every point estimate), so one channel's wide interval cannot flatten the
    rest: an interval that runs off the axis ends in an arrow with its upper end written beside it."""
    ordered = table.sort_values("roi").reset_index(drop=True)
    identified = ordered["identified"].astype(bool)
    reach = ordered.loc[identified, "roi_hi"].max() if identified.any() else 0.0
    limit = 1.15 * max(reach, ordered["roi"].max(), 1e-9)
    upper = ordered["roi_hi"].clip(upper=limit)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(ordered["channel"], ordered["roi"], xerr=[ordered["roi"] - ordered["roi_lo"], upper - ordered["roi"]],
            color=["#4C78A8" if i else "#BBBBBB" for i in identified], capsize=3)  # fmt: skip
    for y, row in ordered[ordered["roi_hi"] > limit].iterrows():
        ax.annotate(f"→ {row['roi_hi']:.1f}", (limit, y), xytext=(4, -3), textcoords="offset points", fontsize=7)
    ax.set_xlim(0, limit * 1.12)
    ax.set_xlabel("ROI (incremental revenue per unit of spend), 90% interval")
    ax.set_title("Media ROI by channel (grey: not identified)")
    fig.tight_layout()
    return fig


def ltv_holdout_chart(buckets: pd.DataFrame) -> dict:
    """Mean predicted vs actual holdout purchases by the repeat purchases seen before the holdout."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(buckets))
    ax.bar(x - 0.2, buckets["actual"], 0.4, label="actual", color="#4C78A8")
    ax.bar(x + 0.2, buckets["predicted"], 0.4, label="predicted", color="#F58518")
    ax.set_xticks(x, buckets.index)
    ax.set_xlabel("repeat purchases before the holdout")
    ax.set_ylabel("purchases in the holdout, mean")
    ax.legend(fontsize=8)
    ax.set_title("Customer LTV: calibration-holdout check")
    fig.tight_layout()
    return figure_metadata(fig, "ltv_holdout")


def attribution_chart(table: pd.DataFrame) -> dict:
    """Channel credit under each attribution model beside the media-mix model."""
    columns = [c for c in table.columns if table[c].notna().any()]
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(table))
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        style = {"color": "#9D9D9D"} if column == "mmm_model" else {}
        ax.bar(x + (i - len(columns) / 2 + 0.5) * width, table[column].fillna(0), width, label=column, **style)
    ax.set_xticks(x, table.index, rotation=20, fontsize=8)
    ax.set_ylabel("share of revenue")
    ax.legend(fontsize=7, ncol=3)
    ax.set_title("Channel credit under each attribution model vs the media-mix model")
    return figure_metadata(fig, "attribution_vs_mmm")


def persona_response_chart(table: pd.DataFrame, tests: dict) -> plt.Figure:
    """Response rate by cohort, each cohort's personas beside it, with both chi-square p-values."""
    cohorts = list(dict.fromkeys(table["cohort"]))
    series = ["(whole cohort)", *PERSONAS]
    rates = table.pivot(index="cohort", columns="persona", values="response_rate").reindex(index=cohorts, columns=series)
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, name in enumerate(series):
        ax.bar(
            np.arange(len(cohorts)) + (i - (len(series) - 1) / 2) * width,
            rates[name].fillna(0.0),
            width,
            label=name,
            color="0.55" if i == 0 else None,
        )
    ax.set_xticks(np.arange(len(cohorts)), cohorts)
    ax.set_ylabel("response rate (last campaign)")
    ax.set_title(
        f"By cohort: chi2 p = {tests['cohort_vs_response']['p_value']:.2g};  "
        f"by persona within cohort: chi2 p = {tests['segment_vs_response']['p_value']:.2g}"
    )
    ax.legend(fontsize=8)
    return fig


def fan_chart_png(history: pd.DataFrame, forecast: pd.DataFrame, path_or_buffer=None) -> bytes:
    """Fan chart of the last 90 days of history and the forecast with 80%/95% bands, as PNG.

    ``history`` has ds, y; ``forecast`` is the output of ``forecast_revenue``. The PNG bytes are
    returned and, when ``path_or_buffer`` is a path or a writable binary file object, written there.
    """
    recent = history.assign(ds=pd.to_datetime(history["ds"])).sort_values("ds")
    recent = recent[recent["ds"] > recent["ds"].iloc[-1] - pd.Timedelta(days=FAN_CHART_HISTORY_DAYS)]
    ds = pd.to_datetime(forecast["ds"])

    figure = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(recent["ds"], recent["y"], color="black", linewidth=1.2, label="actual")
    axes.fill_between(
        ds,
        forecast["yhat_lower_95"],
        forecast["yhat_upper_95"],
        color="tab:blue",
        alpha=0.18,
        label="95% interval",
    )
    axes.fill_between(
        ds,
        forecast["yhat_lower_80"],
        forecast["yhat_upper_80"],
        color="tab:blue",
        alpha=0.35,
        label="80% interval",
    )
    axes.plot(ds, forecast["yhat"], color="tab:blue", linewidth=1.8, label="forecast")
    axes.axvline(recent["ds"].iloc[-1], color="grey", linestyle=":", linewidth=1)
    axes.set_title("Daily revenue: history and forecast")
    axes.set_ylabel("revenue")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    if hasattr(path_or_buffer, "write"):
        path_or_buffer.write(png)
    elif path_or_buffer is not None:
        Path(path_or_buffer).write_bytes(png)
    return png
