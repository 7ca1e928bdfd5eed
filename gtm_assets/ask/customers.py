"""Answers about what customers are worth, from the customer_ltv asset (main.customer_ltv): the
predicted lifetime value per customer over its horizon, the most valuable customers, and the
high-value audience built from them."""

from __future__ import annotations

from gtm_assets.ask.answer import Answer, Chart, Table
from gtm_assets.ask.source import TABLES, AskError, Warehouse

SHOWN = 5


def customer_value(wh: Warehouse, answer: Answer) -> None:
    """What a customer is worth on average over the horizon, how concentrated value is, and the most
    valuable customers (by keyed user id) with their intervals."""
    table = TABLES["customer_ltv"][0]
    totals = wh.rows(
        "customer_ltv",
        "SELECT count(*) AS customers, avg(predicted_ltv) AS mean_ltv, sum(predicted_ltv) AS total_ltv, "
        "sum(predicted_ltv) FILTER (WHERE value_decile = 10) AS top_decile_ltv, avg(probability_alive) AS mean_alive, "
        "any_value(horizon_days) AS horizon_days FROM {table}",
    )[0]
    if not totals["customers"]:
        raise AskError(f"{table} is empty: materialize `customer_ltv`")
    answer.materializations.append(wh.materialization("customer_ltv"))
    f = answer.facts
    everyone = {}
    mean = f.aggregate(
        "mean predicted_ltv", totals["mean_ltv"], "money", table=table, column="predicted_ltv", rows=everyone, how="mean"
    )
    total = f.aggregate(
        "total predicted_ltv", totals["total_ltv"], "money", table=table, column="predicted_ltv", rows=everyone, how="sum"
    )
    top = f.aggregate("top decile predicted_ltv", totals["top_decile_ltv"], "money", table=table, column="predicted_ltv",
                      rows={"value_decile": 10}, how="sum")  # fmt: skip
    share = f.computed("top decile share of predicted value", totals["top_decile_ltv"] / totals["total_ltv"], "share",
                       by="top decile predicted_ltv / total predicted_ltv", column="predicted_ltv", row={"value_decile": 10})  # fmt: skip
    alive = f.aggregate("mean probability_alive", totals["mean_alive"], "share", table=table, column="probability_alive",
                        rows=everyone, how="mean")  # fmt: skip
    customers = f.aggregate(
        "customers", totals["customers"], "count", table=table, column="lineage_id", rows=everyone, how="count"
    )
    best = wh.rows(
        "customer_ltv",
        "SELECT lineage_id, user_key, predicted_ltv, ltv_low, ltv_high, probability_alive, purchase_days, observed_revenue "
        f"FROM {{table}} ORDER BY predicted_ltv DESC, user_key LIMIT {SHOWN}",
    )
    rows = []
    for row in best:
        where = {"user_key": row["user_key"]}

        def cell(column: str, kind: str, row=row, where=where) -> str:
            return f.cell(f"{column} {row['user_key'][:12]}", row[column], kind, table=table, column=column, row=where,
                          lineage_id=row["lineage_id"])  # fmt: skip

        rows.append([row["user_key"][:12], cell("predicted_ltv", "money"), f"{cell('ltv_low', 'money')} to {cell('ltv_high', 'money')}",
                     cell("probability_alive", "share"), cell("purchase_days", "count"), cell("observed_revenue", "money")])  # fmt: skip
    columns = ["customer", "predicted value", "90% interval", "still buying", "purchase days", "bought so far"]
    answer.tables.append(Table(f"The {len(rows)} most valuable customers (keyed user ids)", columns, rows))
    answer.chart = Chart(
        "interval_bars",
        {"labels": [r["user_key"][:12] for r in best], "values": [r["predicted_ltv"] for r in best],
         "lo": [min(r["ltv_low"], r["predicted_ltv"]) for r in best], "hi": [max(r["ltv_high"], r["predicted_ltv"]) for r in best],
         "xlabel": f"predicted revenue over {totals['horizon_days']} days, 90% predictive interval", "reference": None},
        "The most valuable customers",
    )  # fmt: skip
    answer.text = (
        f"A customer is worth {mean} on average over the next {totals['horizon_days']} days (predicted lifetime value, "
        f"BG/NBD + Gamma-Gamma on {customers} customers with a purchase; the mean probability that one is still buying: {alive}). "
        f"Together {total}; the most valuable tenth is predicted to bring {top}, {share} of it, and is the high_value "
        "audience (consented to ads only). Each customer's 90% interval is predictive: what they will actually spend."
    )
    answer.notes.append(
        "Customers who never bought have no predicted value; see the customer_ltv asset's metadata for the counts."
    )
