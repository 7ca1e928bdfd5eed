"""Bad landing files fail with the file (and row/column) named, and loaded tables stay as they were."""

import gzip
import os
import shutil

import dagster as dg
import duckdb
import pytest

from gtm_assets.landing import EVENT_COLUMNS, LandingFileError, replace_file_rows
from gtm_assets.warehouse import DuckDBWarehouse

HEADER = ",".join(EVENT_COLUMNS)
GOOD_ROW = "e1,2024-01-01T10:00:00.000000Z,page_view,u1,1704103200,https://shop.example.com/,google,cpc,c1,mobile,US,,a@example.com,10.0.0.1,true,true"


@pytest.fixture()
def landing(tmp_path):
    (tmp_path / "events").mkdir()
    return tmp_path / "events"


@pytest.fixture()
def db(tmp_path):
    return duckdb.connect(str(tmp_path / "bad.duckdb"))


def _ingest(db, path):
    return replace_file_rows(db, table="raw_events", path=path, source_file=path.name, columns=EVENT_COLUMNS)


def test_good_file_then_reingest_replaces_instead_of_duplicating(db, landing):
    path = landing / "ok.csv"
    path.write_text(HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW.replace("e1,", "e2,", 1) + "\n")
    assert _ingest(db, path).rows == 2
    assert _ingest(db, path).rows == 2
    assert db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0] == 2
    path.write_text(HEADER + "\n" + GOOD_ROW + "\n")  # the file changed: its rows are replaced
    assert _ingest(db, path).rows == 1
    assert db.execute("SELECT count(*), min(source_row_number) FROM raw.raw_events").fetchone() == (1, 1)


def test_missing_column_names_file_and_column_and_keeps_table(db, landing):
    good = landing / "ok.csv"
    good.write_text(HEADER + "\n" + GOOD_ROW + "\n")
    _ingest(db, good)
    bad = landing / "no_consent.csv"
    bad.write_text(HEADER.replace(",consent_ads", "") + "\n" + GOOD_ROW.rsplit(",", 1)[0] + "\n")
    with pytest.raises(LandingFileError, match=r"no_consent\.csv.*consent_ads"):
        _ingest(db, bad)
    assert db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0] == 1


def test_empty_file_and_header_only_file_are_named(db, landing):
    empty = landing / "empty.csv"
    empty.write_text("")
    with pytest.raises(LandingFileError, match=r"empty\.csv.*empty"):
        _ingest(db, empty)
    header_only = landing / "header_only.jsonl.gz"
    with gzip.open(header_only, "wt") as handle:
        handle.write("")
    with pytest.raises(LandingFileError, match="header_only"):
        _ingest(db, header_only)


def test_unreadable_file_is_named(db, landing):
    broken = landing / "broken.parquet"
    broken.write_bytes(b"this is not parquet at all")
    with pytest.raises(LandingFileError, match=r"broken\.parquet"):
        _ingest(db, broken)
    ragged = landing / "ragged.csv"
    ragged.write_text(HEADER + "\n" + GOOD_ROW + "\n" + "only,three,fields\n")
    with pytest.raises(LandingFileError, match=r"ragged\.csv"):
        _ingest(db, ragged)
    assert db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'raw_events'").fetchone()[0] in (0, 1)


def test_bad_media_value_names_file_row_and_column(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.raw_media_spend import raw_media_spend

    media = tmp_path / "data" / "landing" / "media"
    media.mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path / "data"))
    good = "date,channel,campaign,spend,impressions,clicks,conversions\n2024-01-01,TV,tv_brand,100.00,1000,0,3\n"
    (media / "media_spend.csv").write_text(good)
    warehouse = DuckDBWarehouse(database=str(tmp_path / "m.duckdb"))
    assert dg.materialize([raw_media_spend], resources={"warehouse": warehouse}).success
    (media / "media_spend.csv").write_text(good + "2024-01-02,TV,tv_brand,12O.00,1000,0,3\n")
    with pytest.raises(LandingFileError, match=r"media_spend\.csv: row 2, column 'spend': '12O\.00'"):
        dg.materialize([raw_media_spend], resources={"warehouse": warehouse})
    with warehouse.get_connection() as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_media_spend").fetchone()[0] == 1


def test_media_plan_is_optional_and_a_bad_value_names_file_row_and_column(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.raw_media_plan import raw_media_plan

    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path / "data"))
    warehouse = DuckDBWarehouse(database=str(tmp_path / "p.duckdb"))
    assert dg.materialize([raw_media_plan], resources={"warehouse": warehouse}).success
    plans = tmp_path / "data" / "landing" / "plans"
    plans.mkdir(parents=True)
    good = "date,channel,planned_spend\n2024-01-01,TV,100.00\n"
    (plans / "media_plan.csv").write_text(good)
    assert dg.materialize([raw_media_plan], resources={"warehouse": warehouse}).success
    (plans / "media_plan.csv").write_text(good + "2024-01-02,TV,-5\n")
    with pytest.raises(LandingFileError, match=r"media_plan\.csv: row 2, column 'planned_spend': '-5'"):
        dg.materialize([raw_media_plan], resources={"warehouse": warehouse})
    with warehouse.get_connection() as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_media_plan").fetchall()[0][0] == 1


def test_raw_events_partition_failure_names_the_file(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events

    events = tmp_path / "data" / "landing" / "events"
    events.mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path / "data"))
    (events / "missing_cols.csv").write_text("event_id,event_name\ne1,page_view\n")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(landing_event_files.name, ["missing_cols.csv"])
        with pytest.raises(LandingFileError, match=r"missing_cols\.csv: missing required column\(s\) event_timestamp"):
            dg.materialize(
                [raw_events], partition_key="missing_cols.csv", instance=instance,
                resources={"warehouse": DuckDBWarehouse(database=str(tmp_path / "e.duckdb"))},
            )


def test_production_without_key_refuses_to_hash(monkeypatch, tmp_path):
    from gtm_assets import settings

    monkeypatch.setenv("GTM_ENV", "production")
    monkeypatch.delenv("GTM_HMAC_KEY", raising=False)
    with pytest.raises(settings.MissingSecretError, match="GTM_HMAC_KEY"):
        settings.hmac_key()
    with pytest.raises(settings.MissingSecretError):
        with DuckDBWarehouse(database=str(tmp_path / "p.duckdb")).get_connection():
            pass
    monkeypatch.setenv("GTM_ENV", "development")
    assert settings.hmac_key() == settings.DEVELOPMENT_HMAC_KEY.encode()


def test_row_numbers_are_exact_on_large_files_read_with_many_threads(db, landing):
    """Files big enough for DuckDB's parallel readers: every row's number equals its position."""
    db.execute("SET threads = 4")
    columns = ", ".join(
        f"'r' || i AS {c}" if c == "event_id" else f"i::VARCHAR AS {c}" if c == "revenue" else f"'x' AS {c}"
        for c in EVENT_COLUMNS
    )
    rows = 400_000
    for name, options in (("big.csv", "(HEADER)"), ("big.jsonl", "(FORMAT json)"), ("big.csv.gz", "(HEADER, COMPRESSION gzip)")):
        db.execute(f"COPY (SELECT {columns} FROM range(1, {rows + 1}) t(i) ORDER BY i) TO '{landing / name}' {options}")
        assert _ingest(db, landing / name).rows == rows
        wrong = db.execute(
            "SELECT count(*) FROM raw.raw_events WHERE source_file = ? AND source_row_number <> revenue::BIGINT",
            [name],
        ).fetchall()[0][0]
        assert wrong == 0, name
