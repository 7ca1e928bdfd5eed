"""`gtm personas` on CSV files: figures checked against the raw file itself (counted here with
pandas from the documented rules, not with the product's SQL), one segment's brief and copy, and
exit code 2 with a clear message for every kind of bad input."""

import argparse

import pandas as pd
import pytest

from gtm_assets.cli import personas as cli_personas
from gtm_assets_tests.conftest import REPO

CSV = REPO / "data" / "marketing_campaign.csv"


def gtm(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gtm")
    cli_personas.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["personas", *argv])
    return args.handler(args)


SPEND_COLUMNS = ["MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts", "MntGoldProds"]
ACCEPTED_COLUMNS = [f"AcceptedCmp{i}" for i in range(1, 6)]


def expected_segments(path) -> pd.DataFrame:
    """Customers and responders per cohort x persona, counted from the raw file with the README's
    rules: cohorts by birth year (1988+, 1976-87, 1965-75, before 1965; outside 1920-2005 Unassigned),
    personas by strictly-above-the-cohort-median total spend and past acceptances."""
    raw = pd.read_csv(path, sep="\t")
    year = raw["Year_Birth"]
    cohort = pd.Series("Unassigned", index=raw.index)
    cohort[year.between(1920, 1964)] = "Legacy"
    cohort[year.between(1965, 1975)] = "Established"
    cohort[year.between(1976, 1987)] = "Mid-Career"
    cohort[year.between(1988, 2005)] = "Young Professionals"
    spend = raw[SPEND_COLUMNS].sum(axis=1)
    accepted = raw[ACCEPTED_COLUMNS].sum(axis=1)
    high_spend = spend > spend.groupby(cohort).transform("median")
    engaged = accepted > accepted.groupby(cohort).transform("median")
    persona = pd.Series("Hard-to-Convert", index=raw.index)
    persona[high_spend & engaged] = "Champions"
    persona[high_spend & ~engaged] = "Premium-but-Quiet"
    persona[~high_spend & engaged] = "Deal-Responsive"
    persona[cohort == "Unassigned"] = "Unassigned"
    frame = pd.DataFrame({"cohort": cohort, "persona": persona, "response": raw["Response"]})
    return frame.groupby(["cohort", "persona"]).agg(customers=("response", "size"), responders=("response", "sum"))


def test_cli_summary_matches_the_raw_file():
    summary, issues = cli_personas.persona_summary_from_csv(CSV)
    expected = expected_segments(CSV)
    got = summary.set_index(["cohort", "persona"])[["customers", "responders"]]
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_dtype=False)
    assert summary["customers"].sum() == 2240
    assert issues == {"unassigned": 3, "missing_income": 24}


def test_cli_summary_is_the_graphs_persona_summary(conn):
    """The CLI (an in-memory DuckDB on one file) and the graph (dbt + assets) agree."""
    from_csv, _ = cli_personas.persona_summary_from_csv(CSV)
    in_graph = conn.execute("SELECT cohort, persona, customers, responders FROM main.persona_summary").fetchdf()
    pd.testing.assert_frame_equal(
        from_csv[["cohort", "persona", "customers", "responders"]].sort_values(["cohort", "persona"]).reset_index(drop=True),
        in_graph.sort_values(["cohort", "persona"]).reset_index(drop=True),
        check_dtype=False,
    )


def test_table_lists_every_cohort_and_persona_with_its_counts(capsys):
    assert gtm("--csv", str(CSV), "--no-llm") == 0
    out = capsys.readouterr().out
    expected = expected_segments(CSV)
    lines = [line for line in out.splitlines() if line.startswith("| ") and "cohort" not in line]
    assert len(lines) == len(expected) == 17
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert int(cells[2]) == expected.loc[(cells[0], cells[1]), "customers"], cells[:3]
    assert "3 customers unassigned" in out and "24 with missing income" in out


def test_segment_prints_its_brief_and_copy_in_the_asked_channel_and_style(capsys):
    assert (
        gtm(
            "--csv",
            str(CSV),
            "--cohort",
            "Mid-Career",
            "--persona",
            "Champions",
            "--channel",
            "email",
            "--style",
            "playful",
            "--no-llm",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("# Mid-Career Champions\n")
    assert f"{expected_segments(CSV).loc[('Mid-Career', 'Champions'), 'customers']} Mid-Career customers" in out
    assert "Offer: loyalty" in out and "Copy (email: e-mail: subject, preheader, body, call to action; tone playful)" in out
    assert out.count("Unsubscribe anytime.") == 2 and out.count("offline generator, compliance green (1.00)") == 2
    copy = out.split("Copy (", 1)[1]
    assert "Mid-Career" not in copy and "Champions" not in copy  # copy speaks to people, not to segments


def test_customers_with_bad_birth_years_or_income_are_counted(tmp_path, capsys):
    frame = pd.read_csv(CSV, sep="\t", dtype=str, keep_default_na=False)
    frame.loc[:9, "Year_Birth"] = "1850"
    frame.loc[10:14, "Income"] = ""
    path = tmp_path / "customers.csv"
    frame.to_csv(path, sep="\t", index=False)
    summary, issues = cli_personas.persona_summary_from_csv(path)
    assert summary["customers"].sum() == len(frame)
    assert issues["unassigned"] == (~pd.to_numeric(frame["Year_Birth"]).between(1920, 2005)).sum() >= 10
    assert issues["missing_income"] == frame["Income"].eq("").sum() >= 24 + 5 - 1
    unassigned = summary[summary["persona"] == "Unassigned"]
    assert unassigned["customers"].sum() == issues["unassigned"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--cohort", "Boomers", "--persona", "Champions"],
            "unknown cohort 'Boomers'; valid values: Young Professionals, Mid-Career, Established, Legacy",
        ),
        (
            ["--cohort", "Legacy", "--persona", "Whales"],
            "valid values: Champions, Premium-but-Quiet, Deal-Responsive, Hard-to-Convert",
        ),
        (
            ["--cohort", "Legacy", "--persona", "Champions", "--channel", "fax"],
            "channel 'fax' has no creative format: add it to channel_formats",
        ),
        (
            ["--cohort", "Legacy", "--persona", "Champions", "--style", "angry"],
            "unknown style 'angry'; valid values: warm, professional, playful, urgent",
        ),
        (["--cohort", "Legacy"], "--cohort and --persona go together"),
    ],
)
def test_unknown_values_exit_2_listing_the_valid_ones(argv, message, capsys):
    assert gtm("--csv", str(CSV), *argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_missing_file_or_column_exits_2_naming_it(tmp_path, capsys):
    assert gtm("--csv", str(tmp_path / "absent.csv")) == 2
    assert "absent.csv: file not found" in capsys.readouterr().err
    path = tmp_path / "no_income.csv"
    pd.read_csv(CSV, sep="\t").drop(columns=["Income"]).to_csv(path, sep="\t", index=False)
    assert gtm("--csv", str(path)) == 2
    assert "missing required column(s) Income" in capsys.readouterr().err
