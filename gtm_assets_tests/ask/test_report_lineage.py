"""The report's lineage section reads the newest payload document's lineage block (each upstream asset's
data and code version, the source files) and tolerates a document without one."""

import json

import duckdb

from gtm_assets.ask.report import _lineage_rows, payload_lineage
from gtm_assets.ask.source import Warehouse
from gtm_assets.defs.activation.dsp_payload import OUTBOX_DDL


def _warehouse_with_payload(tmp_path, document: dict) -> Warehouse:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as conn:
        for ddl in OUTBOX_DDL:
            conn.execute(ddl)
        conn.execute("INSERT INTO main.payload_outbox VALUES ('old', '2026-01-01', 'run-0', 'x', '/o/old.json', '{}', 2)")
        conn.execute(
            "INSERT INTO main.payload_outbox VALUES ('abc', '2026-02-01', 'run-1', 'x', '/o/abc.json', ?, 2)",
            [json.dumps(document)],
        )
        conn.executemany("INSERT INTO main.dsp_payload VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [("abc", 1, "campaign", "l1", "c1", "allocations", "a1", "{}", "run-1"),
                          ("abc", 2, "ad", "l2", "k1", "creative_library", "k1", "{}", "run-1"),
                          ("old", 1, "ad", "l3", "k2", "creative_library", "k2", "{}", "run-0")])  # fmt: skip
    return Warehouse(database)


def test_lineage_block_is_read_from_the_newest_payload_document(tmp_path):
    assets = {"mmm_model": {"data_version": "v1", "code_version": "c1", "run_id": "r1"},
              "allocations": {"data_version": "v2", "code_version": None, "run_id": "r2"}}  # fmt: skip
    files = [{"source": "raw_events", "file": "landing/events/a.csv", "sha256": "f" * 64, "rows": 10}]
    document = {"payload_id": "abc", "lineage": {"assets": assets, "source_files": files, "row_counts": {}, "lineage_ids": {}}}
    with _warehouse_with_payload(tmp_path, document) as wh:
        lineage = payload_lineage(wh)
    assert lineage["payload_id"] == "abc" and lineage["dagster_run_id"] == "run-1" and lineage["outbox_path"] == "/o/abc.json"
    assert lineage["lines"] == {"campaign": 1, "ad": 1} and lineage["lineage"] == assets
    assert lineage["source_files"] == [{**files[0], "source_file": "landing/events/a.csv"}]
    columns, rows = _lineage_rows(assets)
    assert columns == ["asset", "data_version", "code_version", "run_id"]
    assert rows[1] == ["allocations", "v2", "null", "r2"]


def test_a_document_without_a_lineage_block_is_tolerated(tmp_path):
    with _warehouse_with_payload(tmp_path, {"payload_id": "abc"}) as wh:
        lineage = payload_lineage(wh)
    assert lineage["lineage"] is None and lineage["source_files"] == []
    assert _lineage_rows({"version": 2, "assets": "x"}) is None  # shown as JSON instead
    assert _lineage_rows([{"asset": "a", "rows": 1}]) == (["asset", "rows"], [["a", "1"]])
