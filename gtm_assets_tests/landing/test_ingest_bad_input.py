"""Bad landing input never stops the world: every outcome is recorded per file, damaged lines are
quarantined with their true row numbers, and everything else loads."""

import functools
import gzip
import os
import shutil

import dagster as dg
import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtm_assets.landing import EVENT_COLUMNS, LandingFileError, ingest_event_file
from gtm_assets.warehouse.resource import DuckDBWarehouse

HEADER = ",".join(EVENT_COLUMNS)


def row(event_id: str, **values) -> str:
    fields = {
        "event_id": event_id,
        "event_timestamp": "2024-01-01T10:00:00.000000Z",
        "event_name": "page_view",
        "user_pseudo_id": "u1",
        "session_id": "1704103200",
        "page_location": "https://shop.example.com/",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "c1",
        "device": "mobile",
        "country": "US",
        "revenue": "",
        "email": "a@example.com",
        "ip_address": "10.0.0.1",
        "consent_analytics": "true",
        "consent_ads": "true",
        **values,
    }
    return ",".join(fields[c] for c in EVENT_COLUMNS)


@pytest.fixture()
def landing(tmp_path):
    (tmp_path / "events").mkdir()
    return tmp_path / "events"


@pytest.fixture()
def db():
    return duckdb.connect(config={"preserve_insertion_order": True})


def loaded(db, name):
    return db.execute(
        "SELECT source_row_number, event_id FROM raw.raw_events WHERE source_file = ? ORDER BY 1", [f"landing/events/{name}"]
    ).fetchall()


def rejected(db, name):
    return db.execute(
        "SELECT source_row_number, error_type FROM raw.rejected_lines WHERE source_file = ? ORDER BY 1",
        [f"landing/events/{name}"],
    ).fetchall()


def test_unchanged_file_is_not_read_again_and_a_replaced_file_replaces_its_rows(db, landing):
    path = landing / "a.csv"
    path.write_text(f"{HEADER}\n{row('e1')}\n{row('e2')}\n")
    assert ingest_event_file(db, landing, "a.csv").rows == 2
    again = ingest_event_file(db, landing, "a.csv")
    assert again.unchanged and again.rows == 2
    path.write_text(f"{HEADER}\n{row('e9')}\n")
    replaced = ingest_event_file(db, landing, "a.csv")
    assert not replaced.unchanged and loaded(db, "a.csv") == [(1, "e9")]


def test_same_content_under_another_name_is_a_duplicate_delivery(db, landing):
    (landing / "export.csv").write_text(f"{HEADER}\n{row('e1')}\n{row('e2')}\n")
    shutil.copy(landing / "export.csv", landing / "export (1).csv")
    assert ingest_event_file(db, landing, "export.csv").status == "loaded"
    duplicate = ingest_event_file(db, landing, "export (1).csv")
    assert (duplicate.status, duplicate.duplicate_of) == ("duplicate", "landing/events/export.csv")
    ids = db.execute("SELECT raw_row_id FROM raw.raw_events").fetchall()
    assert sorted(ids) == [("landing/events/export.csv:1",), ("landing/events/export.csv:2",)]
    assert "duplicate delivery of landing/events/export.csv" in duplicate.summary()


def test_unreadable_files_are_recorded_with_one_line_and_the_others_load(db, landing):
    (landing / "broken.parquet").write_bytes(b"this is not parquet at all")
    (landing / "empty.csv").write_text("")
    (landing / "no_consent.csv").write_text(HEADER.replace(",consent_ads", "") + "\n" + row("e1").rsplit(",", 1)[0] + "\n")
    (landing / "latin1_header.csv").write_bytes(HEADER.replace("country", "pa\xefs").encode("latin-1") + b"\n")
    (landing / "good.jsonl.gz").write_bytes(gzip.compress(b'{"event_id": "j1"}\n'))  # missing columns
    (landing / "ok.csv").write_text(f"{HEADER}\n{row('e1')}\n")
    outcomes = {p.name: ingest_event_file(db, landing, p.name) for p in sorted(landing.iterdir())}
    assert outcomes["ok.csv"].status == "loaded"
    failures = dict(db.execute("SELECT source_file, error FROM raw.ingest_failures").fetchall())
    assert len(failures) == 5
    for name, outcome in outcomes.items():
        if name != "ok.csv":
            assert outcome.status == "failed" and "\n" not in outcome.message
            assert outcome.summary().startswith(f"landing/events/{name}: not ingested: ")
    assert "broken.parquet" in failures["landing/events/broken.parquet"]  # DuckDB names the file it could not read
    assert "empty file" in failures["landing/events/empty.csv"]
    assert "consent_ads" in failures["landing/events/no_consent.csv"]
    assert "not UTF-8" in failures["landing/events/latin1_header.csv"]
    assert "/tmp" not in " ".join(failures.values())  # the reader's alias never leaks into messages


def test_a_failed_replacement_keeps_the_previous_rows(db, landing):
    path = landing / "a.parquet"
    db.execute(
        f"COPY (SELECT 'p1' AS event_id, {', '.join(repr(c) + ' AS ' + c for c in EVENT_COLUMNS[1:])}) "
        f"TO '{path}' (FORMAT parquet)"
    )
    assert ingest_event_file(db, landing, "a.parquet").rows == 1
    path.write_bytes(b"truncated")
    assert ingest_event_file(db, landing, "a.parquet").status == "failed"
    assert loaded(db, "a.parquet") == [(1, "p1")]


def test_damaged_csv_lines_are_quarantined_with_their_row_numbers(db, landing):
    lines = [
        row("e1").encode(),
        row("e2", page_location='"https://shop.example.com/?q=""a\nb"""').encode(),  # quoted quotes and newline
        b"3,only,three",
        row("e4").encode(),
        row("e5", country="DxE").encode().replace(b"DxE", b"D\xffE"),  # invalid UTF-8
        (row("e6") + ",extra").encode(),
        row("e7").encode(),
    ]
    (landing / "d.csv").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join([HEADER.encode()] + lines) + b"\r\n")
    outcome = ingest_event_file(db, landing, "d.csv")
    assert (outcome.rows, outcome.rejected_lines) == (4, 3)
    assert loaded(db, "d.csv") == [(1, "e1"), (2, "e2"), (4, "e4"), (7, "e7")]
    assert [n for n, _ in rejected(db, "d.csv")] == [3, 5, 6]
    assert (
        db.execute("SELECT page_location FROM raw.raw_events WHERE event_id = 'e2'").fetchone()[0]
        == 'https://shop.example.com/?q="a\nb"'
    )


def test_damaged_json_lines_are_quarantined_with_their_row_numbers(db, landing):
    import json

    good = lambda i: json.dumps({c: (f"j{i}" if c == "event_id" else "x") for c in EVENT_COLUMNS})  # noqa: E731
    content = (
        b"\n".join(
            [good(1).encode(), b"{not json", b"", good(4).encode().replace(b'"x"', b'"\xff"', 1), b"[1, 2]", good(6).encode()]
        )
        + b"\n"
    )
    (landing / "d.jsonl.gz").write_bytes(gzip.compress(content))
    outcome = ingest_event_file(db, landing, "d.jsonl.gz")
    assert (outcome.rows, outcome.rejected_lines) == (2, 4)
    assert loaded(db, "d.jsonl.gz") == [(1, "j1"), (6, "j6")]
    assert rejected(db, "d.jsonl.gz") == [(2, "INVALID JSON"), (3, "EMPTY LINE"), (4, "INVALID ENCODING"), (5, "INVALID JSON")]


@pytest.mark.parametrize("name", ['it\'s "quoted".csv', "glob*[x]?.csv", "sp ace; DROP TABLE x;--.csv", "ünï.csv"])
def test_odd_names_load_without_touching_sql_or_globs(db, landing, name):
    (landing / name).write_text(f"{HEADER}\n{row('e1')}\n")
    (landing / "glob-victim.csv").write_text(f"{HEADER}\n{row('x1')}\n{row('x2')}\n")
    outcome = ingest_event_file(db, landing, name)
    assert (outcome.status, outcome.rows) == ("loaded", 1)
    assert loaded(db, name) == [(1, "e1")]


@pytest.mark.parametrize("name", ["../outside.csv", "sub/dir.csv", "..", "a...csv", "tab\tname.csv"])
def test_names_that_could_escape_the_folder_are_refused(db, landing, name):
    (landing.parent / "outside.csv").write_text(f"{HEADER}\n{row('e1')}\n")
    outcome = ingest_event_file(db, landing, name)
    assert outcome.status == "failed" and "not a plain file name" in outcome.message
    assert db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0] == 0


def test_a_link_leading_outside_the_folder_is_refused(db, landing):
    (landing.parent / "secret.csv").write_text(f"{HEADER}\n{row('e1')}\n")
    os.symlink(landing.parent / "secret.csv", landing / "innocent.csv")
    assert "resolves outside" in ingest_event_file(db, landing, "innocent.csv").message


# -- property: random mixtures never crash and reconcile exactly -------------------------------------
VALID = st.builds(
    lambda i, text: row(f"e{i}", page_location='"' + text.replace('"', '""') + '"'),
    st.integers(0, 10**6),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
)
DAMAGED = st.sampled_from(["only,three,fields", row("x") + ",too,many", "\udcff" + row("y")[1:], ""])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.tuples(st.booleans(), VALID, DAMAGED), max_size=25),
    bom=st.booleans(),
    crlf=st.booleans(),
    huge=st.booleans(),
    unterminated_tail=st.booleans(),
    copies=st.integers(0, 2),
)
def test_random_mixtures_never_crash_and_reconcile(tmp_path_factory, lines, bom, crlf, huge, unterminated_tail, copies):
    landing = tmp_path_factory.mktemp("events")
    con = duckdb.connect(config={"preserve_insertion_order": True})
    body, expected_rows, expected_rejected = [], [], []
    for index, (is_valid, valid, damaged) in enumerate(lines, start=1):
        if is_valid:
            text = valid if not (huge and index == 1) else row("huge", page_location="h" * 300_000)
            body.append(text)
            expected_rows.append(index)
        else:
            body.append(damaged)
            expected_rejected.append(index)
    if unterminated_tail:
        body.append('"unterminated,' + row("z"))
        expected_rejected.append(len(body))
    newline = "\r\n" if crlf else "\n"
    raw = (newline.join([HEADER] + body) + newline).encode("utf-8", "surrogateescape")
    (landing / "mix.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)
    for n in range(copies):
        shutil.copy(landing / "mix.csv", landing / f"mix copy {n}.csv")
    names = ["mix.csv"] + [f"mix copy {n}.csv" for n in range(copies)]
    outcomes = [ingest_event_file(con, landing, name) for name in names]
    first = next(o for o in outcomes if o.source_file == "landing/events/mix.csv")
    assert first.status == "loaded"
    assert [o.status for o in outcomes].count("duplicate") == copies
    got_rows = [n for n, _ in loaded(con, "mix.csv")]
    got_rejected = [n for n, _ in rejected(con, "mix.csv")]
    # An empty line is no record for a CSV reader: it neither loads nor rejects.
    empty = [i for i, (ok, _, damaged) in enumerate(lines, start=1) if not ok and damaged == ""]
    assert got_rows == sorted(got_rows) and sorted(got_rows + got_rejected) == sorted(set(got_rows + got_rejected))
    assert len(got_rows) == len(expected_rows)
    assert len(got_rows) + len(got_rejected) == len(body) - len(empty)
    assert first.rows == len(got_rows) and first.rejected_lines == len(got_rejected)


def test_raw_events_partition_never_fails_on_bad_input(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events

    events = tmp_path / "data" / "landing" / "events"
    events.mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path / "data"))
    (events / "missing_cols.csv").write_text("event_id,event_name\ne1,page_view\n")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(landing_event_files.name, ["missing_cols.csv"])
        result = dg.materialize(
            [raw_events],
            partition_key="missing_cols.csv",
            instance=instance,
            resources={"warehouse": DuckDBWarehouse(database=str(tmp_path / "e.duckdb"))},
        )
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "missing_cols.csv: not ingested: columns fit neither layout: missing required column(s)" in check.description


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


def test_production_without_key_refuses_to_hash(monkeypatch, tmp_path):
    from gtm_assets import settings

    monkeypatch.setenv("GTM_ENV", "production")
    monkeypatch.delenv("GTM_HMAC_KEY", raising=False)
    with pytest.raises(settings.MissingSecretError, match="GTM_HMAC_KEY"):
        settings.hmac_key()
    with pytest.raises(settings.MissingSecretError), DuckDBWarehouse(database=str(tmp_path / "p.duckdb")).get_connection():
        pass
    monkeypatch.setenv("GTM_ENV", "development")
    assert settings.hmac_key() == settings.DEVELOPMENT_HMAC_KEY.encode()


def test_row_numbers_are_exact_on_large_files_read_with_many_threads(db, landing):
    """Files big enough for DuckDB's parallel readers, with damaged lines spread through them: every
    loaded row's number equals its record position."""
    db.execute("SET threads = 4")
    columns = ", ".join(
        f"'r' || i AS {c}" if c == "event_id" else f"i::VARCHAR AS {c}" if c == "revenue" else f"'x' AS {c}"
        for c in EVENT_COLUMNS
    )
    rows = 300_000
    for name, options in (("big.csv", "(HEADER)"), ("big.jsonl", "(FORMAT json)"), ("big.csv.gz", "(HEADER, COMPRESSION gzip)")):
        db.execute(f"COPY (SELECT {columns} FROM range(1, {rows + 1}) t(i) ORDER BY i) TO '{landing / name}' {options}")
        assert ingest_event_file(db, landing, name).rows == rows
        wrong = db.execute(
            "SELECT count(*) FROM raw.raw_events WHERE source_file = ? AND source_row_number <> revenue::BIGINT",
            [f"landing/events/{name}"],
        ).fetchall()[0][0]
        assert wrong == 0, name
    damaged = landing / "damaged.csv"
    with open(landing / "big.csv") as source, open(damaged, "w") as target:
        for number, line in enumerate(source):
            target.write("broken,line\n" if number % 50_000 == 7 else line)
    outcome = ingest_event_file(db, landing, "damaged.csv")
    assert outcome.rejected_lines == 6 and outcome.rows == rows - 6
    wrong = db.execute(
        "SELECT count(*) FROM raw.raw_events WHERE source_file = 'landing/events/damaged.csv' "
        "AND source_row_number <> revenue::BIGINT"
    ).fetchall()[0][0]
    assert wrong == 0
    assert [n for n, _ in rejected(db, "damaged.csv")] == [7 + 50_000 * k for k in range(6)]


def test_a_negative_measured_lift_loads_but_a_negative_spend_is_refused(tmp_path):
    from gtm_assets.defs.ingest.raw_lift_tests import LIFT_TEST_TYPES
    from gtm_assets.landing import sync_csv_folder
    from gtm_assets.models.mmm_data import LIFT_TEST_COLUMNS

    folder = tmp_path / "experiments"
    folder.mkdir()
    header = ",".join(LIFT_TEST_COLUMNS)
    (folder / "lifts.csv").write_text(f"{header}\nSearch,2025-03-03,2025-03-30,12000.00,-850.25,400.00\n")
    sync = functools.partial(
        sync_csv_folder,
        table="raw_lift_tests",
        folder=folder,
        source_prefix="landing/experiments",
        columns=LIFT_TEST_COLUMNS,
        typed_columns=LIFT_TEST_TYPES,
        signed_columns=("incremental_revenue",),
    )
    with duckdb.connect() as conn:
        sync(conn)
        assert conn.execute("SELECT incremental_revenue::DECIMAL(18, 2)::DOUBLE FROM raw.raw_lift_tests").fetchone()[0] == -850.25
        (folder / "lifts.csv").write_text(f"{header}\nSearch,2025-03-03,2025-03-30,-12000.00,-850.25,400.00\n")
        with pytest.raises(LandingFileError, match=r"lifts.csv: row 1, column 'spend': '-12000.00' is not a valid non-negative"):
            sync(conn)
