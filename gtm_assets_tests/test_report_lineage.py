"""The report's lineage section reads whatever lineage block the payload document carries (a mapping
of asset records, a list of records, or any other JSON) and tolerates its absence."""

import json

import duckdb

from gtm_assets.ask.report import _lineage_rows, payload_lineage
from gtm_assets.ask.source import Warehouse


def _warehouse_with_payload(tmp_path, document: dict) -> Warehouse:
    outbox = tmp_path / "dsp_payload_abc.json"
    outbox.write_text(json.dumps(document))
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE TABLE main.dsp_payload (payload_id VARCHAR, dagster_run_id VARCHAR, line_number INTEGER, "
                     "line_type VARCHAR, lineage_id VARCHAR, line_json VARCHAR, outbox_path VARCHAR)")  # fmt: skip
        conn.executemany("INSERT INTO main.dsp_payload VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [("abc", "run-1", 1, "budget", "l1", "{}", str(outbox)),
                          ("abc", "run-1", 2, "creative", "l2", "{}", str(outbox))])  # fmt: skip
    return Warehouse(database)


def test_lineage_block_is_read_from_the_payload_document(tmp_path):
    block = {"mmm_model": {"data_version": "v1", "code_version": "c1", "rows": 8},
             "allocations": {"data_version": "v2", "rows": 19, "source_sha256s": ["aa", "bb"]}}  # fmt: skip
    with _warehouse_with_payload(tmp_path, {"payload_id": "abc", "lineage": block, "source_files": []}) as wh:
        lineage = payload_lineage(wh)
    assert lineage["payload_id"] == "abc" and lineage["dagster_run_id"] == "run-1"
    assert lineage["lines"] == {"budget": 1, "creative": 1} and lineage["lineage"] == block
    columns, rows = _lineage_rows(block)
    assert columns == ["asset", "data_version", "code_version", "rows", "source_sha256s"]
    assert rows[1] == ["allocations", "v2", "", "19", '["aa", "bb"]']


def test_missing_lineage_block_and_other_shapes_are_tolerated(tmp_path):
    with _warehouse_with_payload(tmp_path, {"payload_id": "abc", "source_files": [{"source": "raw_events"}]}) as wh:
        lineage = payload_lineage(wh)
    assert lineage["lineage"] is None and lineage["source_files"] == [{"source": "raw_events"}]
    assert _lineage_rows({"version": 2, "assets": "x"}) is None  # shown as JSON instead
    assert _lineage_rows([{"asset": "a", "rows": 1}]) == (["asset", "rows"], [["a", "1"]])
