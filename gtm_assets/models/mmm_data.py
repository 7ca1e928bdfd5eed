"""The media-mix model's inputs: the weekly panel checked and sorted, the base regressors, and lift
tests mapped onto the panel's weeks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WEEKS_PER_YEAR = 52.18
FOURIER_ORDER = 2
NO_EVENT_VALUES = {"", "na", "none", "0", "0.0", "false"}
LIFT_TEST_COLUMNS = ("channel", "start_date", "end_date", "spend", "incremental_revenue", "standard_error")


class MMMInputError(ValueError):
    """The weekly panel or the fit arguments cannot be modelled."""


def n_base_columns(n_controls: int) -> int:
    """Intercept + trend + Fourier terms + controls (event indicators count as controls)."""
    return 2 + 2 * FOURIER_ORDER + n_controls


def validate_panel(
    panel: pd.DataFrame,
    date_col: str,
    target_col: str,
    spend_cols: list[str],
    control_cols: list[str],
    event_cols: list[str],
    n_params_per_channel: int,
    holdout_weeks: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the panel and arguments; return it sorted by week and the event indicator columns."""
    if not spend_cols:
        raise MMMInputError("spend_cols is empty: at least one media channel is required")
    columns = [date_col, target_col, *spend_cols, *control_cols, *event_cols]
    duplicated_names = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated_names:
        raise MMMInputError(f"columns used more than once: {', '.join(duplicated_names)}")
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise MMMInputError(f"columns not in panel: {', '.join(missing)}")
    if holdout_weeks < 0:
        raise MMMInputError(f"holdout_weeks must be >= 0, got {holdout_weeks}")

    data = panel[columns].copy()
    weeks = pd.to_datetime(data[date_col], errors="coerce")
    if weeks.isna().any():
        row = data.index[weeks.isna()][0]
        raise MMMInputError(f"column '{date_col}' has a missing or unparseable date at row {row}")
    data[date_col] = weeks
    data = data.sort_values(date_col, kind="stable").reset_index(drop=True)
    weeks = data[date_col]

    duplicated = weeks[weeks.duplicated()]
    if not duplicated.empty:
        raise MMMInputError(f"duplicated week {duplicated.iloc[0].date()} in column '{date_col}'")
    gaps = weeks.diff().dt.days
    irregular = gaps.iloc[1:][gaps.iloc[1:] != 7]
    if not irregular.empty:
        i = irregular.index[0]
        raise MMMInputError(
            f"irregular weeks in column '{date_col}': {weeks[i - 1].date()} -> {weeks[i].date()} "
            f"is {int(irregular.iloc[0])} days, expected 7"
        )

    for col in [target_col, *spend_cols, *control_cols]:
        values = pd.to_numeric(data[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            raise MMMInputError(f"column '{col}' has a missing or non-numeric value in week {weeks[bad].iloc[0].date()}")
        data[col] = values.astype(float)
    for col in spend_cols:
        negative = data[col] < 0
        if negative.any():
            raise MMMInputError(
                f"column '{col}' has negative spend {data.loc[negative, col].iloc[0]:g} in week {weeks[negative].iloc[0].date()}"
            )
    for col in [target_col, *spend_cols, *control_cols]:
        if data[col].std() == 0:
            kind = "spend" if col in spend_cols else "values"
            raise MMMInputError(
                f"column '{col}' has constant {kind} ({data[col].iloc[0]:g} every week); its effect cannot be estimated"
            )
    events = event_indicators(data, event_cols)

    n_weeks = len(data)
    n_params = n_base_columns(len(control_cols) + events.shape[1]) + n_params_per_channel * len(spend_cols)
    n_fit = n_weeks - holdout_weeks
    if n_fit <= n_params:
        raise MMMInputError(
            f"too few weeks: {n_weeks} weeks ({n_fit} left for fitting after {holdout_weeks} "
            f"holdout weeks) for {n_params} parameters; need more than {n_params} fitting weeks"
        )
    return data, events


def event_indicators(data: pd.DataFrame, event_cols: list[str]) -> pd.DataFrame:
    """One 0/1 column ``<col>=<value>`` per distinct event value (blank, 'na', 0 mean no event)."""
    indicators = {}
    for col in event_cols:
        labels = data[col].astype("string").str.strip().fillna("")
        active = ~labels.str.lower().isin(NO_EVENT_VALUES)
        if not active.any():
            raise MMMInputError(f"event column '{col}' marks no week as an event")
        for value in sorted(labels[active].unique()):
            indicators[f"{col}={value}"] = (labels == value).astype(float).to_numpy()
    return pd.DataFrame(indicators, index=data.index)


def base_design(n_weeks: int, controls: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Unconstrained regressors: intercept, linear trend, yearly Fourier terms, standardized
    controls, then 0/1 event indicators."""
    t = np.arange(n_weeks, dtype=float)
    columns = [np.ones(n_weeks), t / max(n_weeks - 1, 1)]
    names = ["intercept", "trend"]
    for k in range(1, FOURIER_ORDER + 1):
        angle = 2.0 * np.pi * k * t / WEEKS_PER_YEAR
        columns += [np.sin(angle), np.cos(angle)]
        names += [f"sin_{k}", f"cos_{k}"]
    standardized = (controls - controls.mean(axis=0)) / controls.std(axis=0)
    return np.column_stack([*columns, standardized, events]), names


def daily_spend_steps(
    daily_spend: pd.DataFrame, weeks: pd.Series, spend_cols: list[str], weekly_spend: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Check daily spend (a ``date`` column and the spend columns) against the weekly panel and
    return it as steps (days x channels), each day's date, and the number of warm-up days before the
    first panel week. The days must run without gaps from their first day to the panel's last
    Sunday, cover every panel week, and sum to the panel's weekly spend (within a cent per day)."""
    missing = [c for c in ["date", *spend_cols] if c not in daily_spend.columns]
    if missing:
        raise MMMInputError(f"daily_spend lacks column(s): {', '.join(missing)}")
    days = pd.to_datetime(daily_spend["date"], errors="coerce")
    if days.isna().any():
        raise MMMInputError(f"daily_spend has a missing or unparseable date at row {days.index[days.isna()][0]}")
    frame = daily_spend.assign(date=days).sort_values("date", kind="stable")
    if frame["date"].duplicated().any():
        raise MMMInputError(f"daily_spend has the date {frame.loc[frame['date'].duplicated(), 'date'].iloc[0].date()} twice")
    first_week, last_day = weeks.iloc[0], weeks.iloc[-1] + pd.Timedelta(days=6)
    frame = frame[frame["date"] <= last_day]
    if frame.empty or frame["date"].iloc[0] > first_week:
        raise MMMInputError(f"daily_spend does not cover the first panel week {first_week.date()}")
    expected = pd.date_range(frame["date"].iloc[0], last_day, freq="D")
    gaps = expected.difference(frame["date"])
    if len(gaps):
        raise MMMInputError(f"daily_spend has no row for {gaps[0].date()} ({len(gaps)} days missing)")
    values = frame[spend_cols].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        bad = values.isna() | (values < 0)
        row = int(np.flatnonzero(bad.any(axis=1).to_numpy())[0])
        column = bad.columns[bad.iloc[row].to_numpy()][0]
        raise MMMInputError(
            f"daily_spend column '{column}' has a missing, non-numeric or negative value on {frame['date'].iloc[row].date()}"
        )
    steps = values.to_numpy(float)
    warmup = int((first_week - frame["date"].iloc[0]).days)
    weekly = steps[warmup:].reshape(len(weeks), 7, len(spend_cols)).sum(axis=1)
    off = np.abs(weekly - weekly_spend) > 0.07 + 1e-6 * np.abs(weekly_spend)
    if off.any():
        w, c = np.argwhere(off)[0]
        raise MMMInputError(
            f"daily_spend of '{spend_cols[c]}' sums to {weekly[w, c]:,.2f} in week {weeks.iloc[w].date()}, "
            f"the panel says {weekly_spend[w, c]:,.2f}"
        )
    return steps, frame["date"].to_numpy().astype("datetime64[D]"), warmup


@dataclass
class LiftTests:
    """Experiments on the model's time steps (days or weeks).

    Test j switched channel ``channel[j]`` off for a share ``holdout_share[j]`` of the market
    (1 for a national switch-off) over its window, which covers ``overlap[j, s]`` of step s (days in
    the window / days per step). ``business_as_usual[j]`` is the channel's spend per step had there
    been no test (observed + the withheld ``spend`` spread evenly over the window's days) and
    ``held_out[j]`` the spend where it was off (business as usual on the steps' days outside the
    window). The test measured ``measured[j]`` (standard error ``standard_error[j]``): the revenue
    the held-out share lost over the window's days.
    """

    channel: np.ndarray
    overlap: np.ndarray  # tests x steps
    holdout_share: np.ndarray
    business_as_usual: np.ndarray  # tests x steps
    held_out: np.ndarray  # tests x steps
    spend: np.ndarray
    measured: np.ndarray
    standard_error: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.channel)

    def subset(self, keep: np.ndarray) -> LiftTests:
        return LiftTests(
            self.channel[keep],
            self.overlap[keep],
            self.holdout_share[keep],
            self.business_as_usual[keep],
            self.held_out[keep],
            self.spend[keep],
            self.measured[keep],
            self.standard_error[keep],
            [label for label, k in zip(self.labels, keep) if k],
        )

    def ends_before(self, step_index: int) -> np.ndarray:
        """Tests whose window lies in steps before ``step_index``."""
        return self.overlap[:, step_index:].sum(axis=1) == 0


def map_lift_tests(
    lift_tests: pd.DataFrame | None, step_start: np.ndarray, step_days: int, spend: np.ndarray, spend_cols: list[str]
) -> LiftTests:
    """Validate the lift tests (LIFT_TEST_COLUMNS) and express each on the model's time steps
    (``step_start``: each step's first day; ``spend``: steps x channels)."""
    tests = pd.DataFrame(columns=list(LIFT_TEST_COLUMNS)) if lift_tests is None else lift_tests
    missing = [c for c in LIFT_TEST_COLUMNS if c not in tests.columns]
    if missing:
        raise MMMInputError(f"lift_tests lacks column(s): {', '.join(missing)}")
    n_steps = len(step_start)
    week_start = step_start.astype("datetime64[D]")
    step = np.timedelta64(step_days, "D")
    panel_first, panel_end = week_start[0], week_start[-1] + step
    rows = {k: [] for k in ("channel", "overlap", "share", "bau", "held", "spend", "measured", "se", "label")}
    for i, test in enumerate(tests.itertuples(index=False)):
        where = f"lift test {i + 1} ({test.channel}, {test.start_date}..{test.end_date})"
        if test.channel not in spend_cols:
            raise MMMInputError(f"{where}: channel is not one of spend_cols")
        start, end = pd.to_datetime(test.start_date, errors="coerce"), pd.to_datetime(test.end_date, errors="coerce")
        if pd.isna(start) or pd.isna(end) or end < start:
            raise MMMInputError(f"{where}: start_date and end_date must be dates with start <= end")
        first, last = np.datetime64(start.date(), "D"), np.datetime64(end.date(), "D") + np.timedelta64(1, "D")
        if first < panel_first or last > panel_end:
            raise MMMInputError(
                f"{where}: the window runs outside the modelled days ({panel_first}..{panel_end - np.timedelta64(1, 'D')})"
            )
        values = {
            name: pd.to_numeric(getattr(test, name), errors="coerce")
            for name in ("spend", "incremental_revenue", "standard_error")
        }
        if not all(np.isfinite(v) for v in values.values()) or values["standard_error"] <= 0 or values["spend"] <= 0:
            raise MMMInputError(f"{where}: spend and incremental_revenue must be numbers, spend > 0 and standard_error > 0")
        days_in = np.clip((np.minimum(week_start + step, last) - np.maximum(week_start, first)).astype(int), 0, step_days).astype(
            float
        )
        overlap = days_in / step_days
        c = spend_cols.index(test.channel)
        observed_in_window = float(np.sum(overlap * spend[:, c]))
        withheld = values["spend"] * days_in / days_in.sum()
        share = values["spend"] / (observed_in_window + values["spend"])
        bau = spend[:, c] + withheld
        rows["channel"].append(c)
        rows["overlap"].append(overlap)
        rows["share"].append(share)
        rows["bau"].append(bau)
        rows["held"].append(bau * (1.0 - overlap))
        rows["spend"].append(float(values["spend"]))
        rows["measured"].append(float(values["incremental_revenue"]))
        rows["se"].append(float(values["standard_error"]))
        rows["label"].append(f"{test.channel} {start.date()}..{end.date()}")
    n = len(rows["channel"])
    return LiftTests(
        np.array(rows["channel"], dtype=int),
        np.array(rows["overlap"], dtype=float).reshape(n, n_steps),
        np.array(rows["share"], dtype=float),
        np.array(rows["bau"], dtype=float).reshape(n, n_steps),
        np.array(rows["held"], dtype=float).reshape(n, n_steps),
        np.array(rows["spend"], dtype=float),
        np.array(rows["measured"], dtype=float),
        np.array(rows["se"], dtype=float),
        rows["label"],
    )
