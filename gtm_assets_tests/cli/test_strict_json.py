"""Every JSON the product writes parses with a strict parser: no NaN, Infinity or -Infinity (RFC 8259
has no such tokens; JavaScript's JSON.parse rejects them), whether printed by a command, written as a
payload or report, or stored as asset metadata."""

import json
import math
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

GTM = [str(Path(sys.executable).parent / "gtm")]


def strict_loads(text: str):
    """json.loads that fails on NaN and ±Infinity, as JSON.parse does."""

    def refuse(token: str):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_the_strict_parser_refuses_what_python_writes_by_default():
    with pytest.raises(ValueError, match="not JSON: NaN"):
        strict_loads(json.dumps({"roi": float("nan")}))
    with pytest.raises(ValueError, match="not JSON: Infinity"):
        strict_loads(json.dumps([math.inf]))


def _gtm(*args: str) -> str:
    return subprocess.run([*GTM, *args], capture_output=True, text=True, check=True).stdout


def test_mmm_fit_json_is_strict(truth, data_dir, tmp_path):
    """The fit's channel table has NaN where a channel has no lift test (lift_test_roi) and the
    diagnostics may hold an infinite VIF: the output has null there."""
    from gtm_assets.simulate import weekly_truth_panel

    names = list(truth["channels"])
    panel = weekly_truth_panel(data_dir).drop(columns=[f"contrib_{c}" for c in names])
    panel.to_csv(tmp_path / "panel.csv", index=False)
    out = _gtm("mmm", "fit", "--csv", str(tmp_path / "panel.csv"), "--date-col", "week", "--target-col", "revenue",
               "--spend-cols", ",".join(names), "--event-cols", "holiday", "--bootstrap", "3", "--json")  # fmt: skip
    document = strict_loads(out)
    assert all(c["lift_test_roi"] is None for c in document["channels"])  # no lift tests given: null, not NaN


@pytest.mark.parametrize(
    "question",
    ["What is the ROI of TV vs Search?", "Which channel should get more budget?", "Is the TV estimate reliable?",
     "Which experiment should we run next?", "Give me the executive summary", "What happens if we cut Social by 20%?"],
)  # fmt: skip
def test_ask_json_is_strict(graph_run, question):
    document = strict_loads(_gtm("ask", "--json", question))
    assert document["answer"] and document["numbers"]


@pytest.mark.parametrize("table", ["allocations", "creatives", "experiments", "payloads", "personas"])
def test_show_json_is_strict(graph_run, table):
    assert isinstance(strict_loads(_gtm("show", table, "--json")), list)


def test_payload_documents_and_trace_are_strict(graph_run, data_dir):
    documents = sorted((data_dir / "outbox").glob("dsp_payload_*.json"))
    assert documents
    for path in documents:
        strict_loads(path.read_text())
    assert strict_loads(_gtm("trace", "--format", "json"))  # the newest payload of the session's warehouse


def test_asset_metadata_is_strict(graph_run):
    """Every JSON metadata value of every materialization and check is strict JSON; every float is finite."""
    checked = 0
    events = [e.materialization.metadata for r in graph_run.results for e in r.get_asset_materialization_events()]
    events += [c.metadata for r in graph_run.results for c in r.get_asset_check_evaluations()]
    for metadata in events:
        for key, value in metadata.items():
            if isinstance(value, dg.JsonMetadataValue):
                strict_loads(json.dumps(value.data))
                checked += 1
            elif isinstance(value, dg.FloatMetadataValue) and value.value is not None:
                assert math.isfinite(value.value), key
    assert checked > 20
