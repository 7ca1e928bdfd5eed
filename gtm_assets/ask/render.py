"""Terminal output of an answer with ``rich``: the answer, its tables, notes, chart path and the runs
it was read from."""

from __future__ import annotations

from gtm_assets.ask.answer import Answer


def show(answer: Answer, console) -> None:
    """Print ``answer`` on a rich ``console``."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    parser = answer.parser + (f" (LLM not used: {answer.parser_fallback_reason})" if answer.parser_fallback_reason else "")
    title = f"[bold]{answer.intent}[/bold] · read by {escape(parser)}"
    console.print(
        Panel(Text(answer.text), title=title, title_align="left", border_style="cyan" if answer.intent != "unknown" else "yellow")
    )
    for table in answer.tables:
        rich_table = Table(title=escape(table.title), title_justify="left", header_style="bold", show_lines=table.verbatim)
        for position, column in enumerate(table.columns):
            rich_table.add_column(escape(column), justify="left" if position == 0 or table.verbatim else "right",
                                  overflow="fold")  # fmt: skip
        for row in table.rows:
            rich_table.add_row(*(Text(cell) for cell in row))
        console.print(rich_table)
    for note in answer.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    if answer.chart_path:
        console.print(f"[green]Chart:[/green] {escape(answer.chart_path)}")
    for materialization in answer.materializations:
        console.print(f"[dim]Read from {escape(materialization.describe())}[/dim]", highlight=False)
