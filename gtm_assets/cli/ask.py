"""`gtm ask`: questions in plain English, answered from the latest materialized tables.

    gtm ask "What is the ROI of TV vs Search?"
    gtm ask "What happens if we cut Social by 20%?" --json
    gtm ask                      # interactive: a prompt; `help` lists what it answers, `quit` leaves

Reads the DuckDB file read-only. Rule-based by default; with GTM_LLM_MODE=openai the LLM reads the
question (validated against the same schema) and the rules take over when it fails.
"""

from __future__ import annotations

import argparse

from gtm_assets.schemas.strict_json import dumps

QUIT = {"quit", "exit", "q", ":q"}
HELP = {"help", "?", "h"}


def register(subparsers) -> None:
    """Add `ask` to the `gtm` command line."""
    parser = subparsers.add_parser("ask", help="ask the graph a question in plain English (no question: interactive)")
    parser.add_argument("question", nargs="*", help='e.g. "Which channels are saturated?"')
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (intent, entities, answer, numbers, chart, materialization)"
    )
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.add_argument("--no-llm", action="store_true", help="read the question with the rules even when an LLM is configured")
    parser.set_defaults(handler=ask_command)


def answer_one(question: str, args: argparse.Namespace, console) -> int:
    """Answer one question on the console (or as JSON); 0 when answered, 2 when it cannot be."""
    from gtm_assets.ask.engine import ask
    from gtm_assets.ask.render import show
    from gtm_assets.ask.source import AskError, NotMaterialized, Warehouse

    try:
        with Warehouse(args.db) as wh:
            answer = ask(question, wh, use_llm=False if args.no_llm else None)
    except AskError as error:
        if args.json:
            asset = error.asset if isinstance(error, NotMaterialized) else None
            print(dumps({"question": question, "error": str(error), "asset_to_materialize": asset}))
        else:
            from rich.markup import escape

            console.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)  # one line, however narrow the terminal
        return 2
    if args.json:
        print(dumps(answer.to_json(), default=str, indent=2))
    else:
        show(answer, console)
    return 0 if answer.intent != "unknown" else 1


def ask_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    if args.question:
        return answer_one(" ".join(args.question), args, console)
    from gtm_assets.ask.engine import capabilities

    if not args.json:
        console.print("Ask about ROI, saturation, drivers, scenarios, the forecast, personas, the allocation or the "
                      "executive summary. [bold]help[/bold] lists them, [bold]quit[/bold] leaves.")  # fmt: skip
    while True:
        try:
            question = console.input("[bold cyan]ask>[/bold cyan] ") if not args.json else input()
        except (EOFError, KeyboardInterrupt):
            return 0
        question = question.strip()
        if not question:
            continue
        if question.lower() in QUIT:
            return 0
        if question.lower() in HELP:
            console.print(capabilities())
            continue
        answer_one(question, args, console)
