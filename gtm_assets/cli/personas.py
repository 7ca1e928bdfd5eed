"""`gtm personas`: the cohort x persona table, or one segment's creative brief and generated copy,
straight from a customer CSV (marketing_campaign.csv format) in an in-memory DuckDB.

It runs the same SQL as the graph: the dbt model customer_features.sql (rendered with the project's
DuckDB macros, its source the in-memory raw table) and the persona rules of gtm_assets/models/personas.py; briefs come
from gtm_assets/models/briefs.py. Copy is written by the offline copywriter,
or by the LLM when GTM_LLM_MODE=openai (with GTM_LLM_BASE_URL and GTM_LLM_MODEL) is set and --no-llm
is not given (gtm_assets/outbound/llm.py; offline copywriter as the fallback, reason shown). Copy is checked by
the same compliance rules as the creative library."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from gtm_assets import settings
from gtm_assets.models.creative.copywriter import TONES

TABLE_COLUMNS = ["cohort", "persona", "customers", "share", "response_rate", "mean_spend", "mean_engagement", "mean_income"]


class UsageError(ValueError):
    """Bad user input: reported on stderr with exit code 2."""


def persona_summary_from_csv(path: Path):
    """persona_summary (a DataFrame) for the customer CSV at ``path``, plus its data-issue counts."""
    import duckdb

    from gtm_assets.landing import CUSTOMER_COLUMNS, LandingFileError, replace_file_rows
    from gtm_assets.models.personas import CUSTOMER_PERSONAS_SQL, summary_sql
    from gtm_assets.transform.render import render_model
    from gtm_assets.warehouse.resource import prepare_connection

    conn = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    try:
        prepare_connection(conn)
        try:
            replace_file_rows(
                conn, table="raw_customers", path=path, source_file=path.name, columns=CUSTOMER_COLUMNS, delimiter="\t"
            )
        except LandingFileError as error:
            raise UsageError(str(error)) from error
        conn.execute(f"CREATE TABLE main.customer_features AS {render_model('features/customer_features.sql')}")
        conn.execute(f"CREATE TABLE main.customer_personas AS {CUSTOMER_PERSONAS_SQL}")
        summary = conn.execute(summary_sql("main.customer_personas")).fetchdf()
        issues = conn.execute(
            "SELECT count(*) FILTER (unassigned_reason IS NOT NULL), count(*) FILTER (income_missing) FROM main.customer_personas"
        ).fetchall()[0]
    finally:
        conn.close()
    return summary, {"unassigned": int(issues[0]), "missing_income": int(issues[1])}


def _check(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise UsageError(f"unknown {name} {value!r}; valid values: {', '.join(valid)}")


def _print_brief(brief: dict) -> None:
    print(f"# {brief['segment_name']}")
    for label, key in (
        ("Who they are", "who_they_are"),
        ("Responds to", "responds_to"),
        ("Tone", "tone"),
        ("Offer", "offer_type"),
    ):
        print(f"{label}: {brief[key]}")
    print(f"Channels: {', '.join(brief['channels'])}")
    print(f"Do: {'; '.join(brief['do_list'])}")
    print(f"Don't: {'; '.join(brief['dont_list'])}")


def run(args: argparse.Namespace) -> int:
    """Handler of `gtm personas`; returns the exit code (2 for bad input)."""
    from gtm_assets.models.briefs import copy_brief, persona_briefs
    from gtm_assets.models.creative import BrandGuideError, format_for_channel, load_brand_guide
    from gtm_assets.models.personas import COHORTS, PERSONAS
    from gtm_assets.outbound.copywriting import write_ad_set_copy
    from gtm_assets.outbound.llm import LLMError, llm_from_settings

    try:
        if (args.cohort is None) != (args.persona is None):
            raise UsageError("--cohort and --persona go together (one segment's brief and copy)")
        if args.cohort is not None:
            _check("cohort", args.cohort, COHORTS)
            _check("persona", args.persona, PERSONAS)
        if args.style is not None:
            _check("style", args.style, TONES)
        try:
            guide = load_brand_guide(settings.brand_guide_path())
            fmt = format_for_channel(args.channel, guide.channel_formats)
        except (BrandGuideError, ValueError) as error:
            raise UsageError(str(error)) from error
        llm = llm_from_settings(inside_dagster=False)
        if args.no_llm:
            llm = llm.model_copy(update={"mode": "offline"})
        try:
            if llm.enabled:
                print(f"gtm personas: copy by {llm.label}", file=sys.stderr)
        except LLMError as error:
            raise UsageError(f"{error}; or pass --no-llm") from error
        summary, issues = persona_summary_from_csv(Path(args.csv))
        if args.cohort is None:
            print(summary[TABLE_COLUMNS].to_markdown(index=False))
            print(
                f"\n{issues['unassigned']} customers unassigned (birth year outside 1920-2005 or unparseable "
                f"spend); {issues['missing_income']} with missing income (kept; mean income skips them)."
            )
            return 0
        brief = next((b for b in persona_briefs(summary) if (b["cohort"], b["persona"]) == (args.cohort, args.persona)), None)
        if brief is None:
            raise UsageError(f"no customers in segment {args.cohort} / {args.persona} in {args.csv}")
        request = copy_brief(brief)
        if args.style:
            request = dataclasses.replace(request, tone=args.style)
        labels = tuple(sorted({*COHORTS, *PERSONAS, brief["segment_name"]}))
        written = write_ad_set_copy(llm, request, fmt, guide, n_variants=args.variants, seed=args.seed, internal_labels=labels)
    except UsageError as error:
        print(f"gtm personas: {error}", file=sys.stderr)
        return 2
    _print_brief(brief)
    reasons = {v.fallback_reason for v in written.variants if v.fallback_reason}
    for reason in sorted(reasons):
        print(f"gtm personas: LLM copy not used ({reason}); offline copywriter instead", file=sys.stderr)
    print(f"\nCopy ({args.channel}: {fmt.description}; tone {request.tone}):")
    for number, variant in enumerate(written.variants, start=1):
        result = variant.compliance
        print(f"\n[{number}] {variant.generator} generator, compliance {result.light} ({result.score:.2f})")
        for name, value in variant.copy.items():
            shown = "\n      ".join(value) if isinstance(value, list) else value
            print(f"  {name}: {shown}")
        for reason in result.reasons:
            print(f"  ! {reason}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `personas` to the `gtm` command line."""
    parser = subparsers.add_parser("personas", help="cohort x persona table, or one segment's brief and copy")
    parser.add_argument(
        "--csv", default=str(settings.customers_csv()), help="customer CSV (tab-separated, marketing_campaign.csv columns)"
    )
    parser.add_argument(
        "--no-llm", action="store_true", help="template copy generator even when an LLM is configured (GTM_LLM_MODE=openai)"
    )
    parser.add_argument("--cohort", help="life-stage cohort, e.g. 'Mid-Career'")
    parser.add_argument("--persona", help="behavioural persona, e.g. 'Champions'")
    parser.add_argument(
        "--channel",
        default="Email",
        help="media channel whose format to write (Search, Social, Display, Email, TV, CTV, Radio, Print; default Email)",
    )
    parser.add_argument("--style", help=f"tone, one of {', '.join(TONES)} (default: the brief's tone)")
    parser.add_argument("--variants", type=int, default=2, help="copy variants to write (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)
