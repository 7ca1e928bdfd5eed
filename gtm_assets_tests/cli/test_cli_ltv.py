"""`gtm ltv --csv` on a transaction log: bad rows get one line each and are quarantined, the counts
reconcile, and the holdout summary carries aggregate_error, mae and spearman."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from gtm_assets.models.ltv_input import read_transactions
from gtm_assets.simulate.ltv_world import ltv_world

GTM = [str(Path(sys.executable).parent / "gtm")]


def _log_with_bad_rows(path: Path) -> int:
    world = ltv_world("bgnbd", 2, customers=800, continuations=5)
    log = world.transactions.assign(date=world.transactions["date"].dt.strftime("%Y-%m-%d"))
    bad = pd.DataFrame(
        [["c00001", "2031-01-01", 10.0], ["c00002", "2023-03-01", -5.0], ["", "2023-03-01", 5.0],
         ["c00003", "not a date", 5.0], ["c00004", "2023-04-01", "ten"], log.iloc[5].tolist()],
        columns=log.columns,
    )  # fmt: skip
    pd.concat([log, bad], ignore_index=True).to_csv(path, index=False)
    return len(log)


def test_bad_rows_are_quarantined_with_row_column_and_reason(tmp_path):
    path = tmp_path / "tx.csv"
    good = _log_with_bad_rows(path)
    log = read_transactions(str(path), customer_col="customer", date_col="date", value_col="value",
                            as_of=pd.Timestamp("2024-12-30"))  # fmt: skip
    reasons = {(r.row, r.column): r.reason for r in log.quarantined.itertuples()}
    assert reasons == {
        (good + 1, "date"): "date after 2024-12-30 (in the future)",
        (good + 2, "value"): "negative value (refund or correction, not netted)",
        (good + 3, "customer"): "missing customer id",
        (good + 4, "date"): "unparseable date",
        (good + 5, "value"): "value is not a number",
        (good + 6, "customer"): "duplicate transaction of row 6",
    }
    assert len(log.transactions) + len(log.quarantined) == log.rows == good + 6


def test_gtm_ltv_holdout_json(tmp_path):
    path = tmp_path / "tx.csv"
    _log_with_bad_rows(path)
    done = subprocess.run(
        [*GTM, "ltv", "--csv", str(path), "--customer-col", "customer", "--date-col", "date", "--value-col", "value",
         "--calibration-end", "2023-12-31", "--holdout-end", "2024-12-30", "--bootstrap", "5", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "row 6" in done.stderr and done.stderr.count("quarantined") == 6
    result = json.loads(done.stdout)
    summary = result["summary"]
    assert set(summary) >= {"aggregate_error", "mae", "spearman"}
    assert abs(summary["aggregate_error"]) < 0.25 and summary["spearman"] > 0.3
    assert result["transactions"] + len(result["quarantined"]) == result["rows"]
    assert {"actual_revenue", "predicted_revenue", "revenue_low", "revenue_high"} <= set(result["table"][0])


def test_a_missing_column_is_one_clear_line(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer,day,value\na,2024-01-01,3\n")
    done = subprocess.run(
        [*GTM, "ltv", "--csv", str(path), "--customer-col", "customer", "--date-col", "date", "--value-col", "value"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {path}: no column date (columns: customer, day, value)"
