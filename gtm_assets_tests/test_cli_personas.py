"""`gtm personas` on CSV files: the same figures as the graph's persona_summary, one segment's brief
and copy, and exit code 2 with a clear message for every kind of bad input."""

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


def test_cli_summary_is_the_graphs_persona_summary(conn):
    from_csv, issues = cli_personas.persona_summary_from_csv(CSV)
    in_graph = conn.execute("SELECT * FROM main.persona_summary").fetchdf()
    pd.testing.assert_frame_equal(from_csv, in_graph)
    assert issues == {"unassigned": 3, "missing_income": 24}


def test_table_lists_every_cohort_and_persona_with_its_counts(capsys):
    assert gtm("--csv", str(CSV), "--no-llm") == 0
    out = capsys.readouterr().out
    summary, _ = cli_personas.persona_summary_from_csv(CSV)
    lines = [line for line in out.splitlines() if line.startswith("| ") and "cohort" not in line]
    assert len(lines) == len(summary) == 17
    for line, row in zip(lines, summary.itertuples()):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[:3] == [row.cohort, row.persona, str(row.customers)]
    assert "3 customers unassigned" in out and "24 with missing income" in out


def test_segment_prints_its_brief_and_copy_in_the_asked_channel_and_style(capsys):
    assert gtm("--csv", str(CSV), "--cohort", "Mid-Career", "--persona", "Champions",
               "--channel", "email", "--style", "playful", "--no-llm") == 0
    out = capsys.readouterr().out
    summary, _ = cli_personas.persona_summary_from_csv(CSV)
    row = summary[(summary["cohort"] == "Mid-Career") & (summary["persona"] == "Champions")].iloc[0]
    assert out.startswith("# Mid-Career Champions\n")
    assert f"{row['customers']} Mid-Career customers" in out
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
        (["--cohort", "Boomers", "--persona", "Champions"], "unknown cohort 'Boomers'; valid values: Young Professionals, Mid-Career, Established, Legacy"),
        (["--cohort", "Legacy", "--persona", "Whales"], "valid values: Champions, Premium-but-Quiet, Deal-Responsive, Hard-to-Convert"),
        (["--cohort", "Legacy", "--persona", "Champions", "--channel", "fax"], "channel 'fax' has no creative format: add it to channel_formats"),
        (["--cohort", "Legacy", "--persona", "Champions", "--style", "angry"], "unknown style 'angry'; valid values: warm, professional, playful, urgent"),
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
