"""The UI as a front door: every asset that writes a table shows its row count and a described column
schema, and every check (asset checks and the dbt tests) says what it checks."""

from gtm_assets.definitions import defs

# Assets that write no table of their own: a report file, a push to the DSP.
NO_TABLE = {"executive_report", "payload_push"}


def test_every_materialized_column_and_every_check_is_described(graph_run, instance):
    graph = defs.resolve_asset_graph()
    undescribed, without_schema = {}, []
    for key in graph.get_all_asset_keys():
        records = instance.fetch_materializations(key, limit=1).records
        if not records:
            continue
        metadata = records[0].asset_materialization.metadata
        schema = metadata.get("dagster/column_schema")
        if schema is None or "dagster/row_count" not in metadata:
            without_schema.append(key.to_user_string())
            continue
        columns = schema.schema.columns
        missing = [c.name for c in columns if not (c.description or "").strip()]
        if missing:
            undescribed[key.to_user_string()] = missing
    assert undescribed == {}
    assert sorted(set(without_schema) - NO_TABLE) == []
    checked = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(checked) > 60
    assert sorted(f"{s.asset_key.to_user_string()}:{s.name}" for s in checked if not (s.description or "").strip()) == []
