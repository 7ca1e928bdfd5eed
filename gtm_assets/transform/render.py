"""Render a dbt model or macro of dbt_like_sql/ with plain Jinja and the project's DuckDB macros, so
`gtm personas` and tests run the real SQL on a small DuckDB in milliseconds instead of starting dbt.
ref() and source() name the schema the project writes to; var() reads dbt_project.yml unless the
caller overrides it."""

import jinja2
import yaml

from gtm_assets import settings

DBT = settings.DBT_PROJECT_DIR


class _Adapter:
    """What the project's macros ask of dbt's adapter: DuckDB's dispatch (the ``default__`` macros)
    and, with a connection, a relation's columns."""

    def __init__(self, conn):
        self.conn = conn
        self.macros = None  # the macros module, set once it is built

    def dispatch(self, name: str):
        return getattr(self.macros, f"default__{name}")

    def get_columns_in_relation(self, relation: str):
        return [type("Column", (), {"name": row[0]}) for row in self.conn.execute(f"DESCRIBE {relation}").fetchall()]


def _environment(conn=None, variables: dict | None = None) -> tuple[jinja2.Environment, dict]:
    project_vars = yaml.safe_load((DBT / "dbt_project.yml").read_text()).get("vars", {})
    merged = {**project_vars, **(variables or {})}
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    macros = "".join(p.read_text() for p in sorted((DBT / "macros").glob("*.sql")))
    context = {
        "ref": lambda name: f"main.{name}",
        "source": lambda source, table: f"{source}.{table}",
        "var": lambda name, default=None: merged.get(name, default),
        "config": lambda **_: "",
        "execute": conn is not None,
        "adapter": _Adapter(conn),
        "return": lambda value: value,  # dbt's return(): the macros here return their text
    }
    context["adapter"].macros = env.from_string(macros).make_module(context)
    return env, {**context, "_macros": macros}


def render_model(relative_path: str, conn=None, variables: dict | None = None) -> str:
    env, context = _environment(conn, variables)
    macros = context.pop("_macros")
    return env.from_string(macros + (DBT / "models" / relative_path).read_text()).render(**context)


def render_macro(call: str) -> str:
    """The SQL a macro call such as ``normalized_email('x', 'google_ads')`` expands to."""
    env, context = _environment()
    macros = context.pop("_macros")
    return env.from_string(macros + "{{ " + call + " }}").render(**context).strip()
