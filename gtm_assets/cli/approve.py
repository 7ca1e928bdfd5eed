"""`gtm approve CREATIVE_ID --by NAME [--note TEXT]`: record a human approval of an amber creative.

An approval binds to the creative's exact content (its sha256): amber copy then ships with the next
dsp_payload materialization; changed copy needs a new approval. Red creatives cannot be approved.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC


def approve_command(args: argparse.Namespace) -> int:
    from datetime import datetime

    from gtm_assets import settings
    from gtm_assets.defs.activation.creative_library import APPROVALS_DDL
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    if not args.by.strip():
        print("gtm approve: --by must name the approver", file=sys.stderr)
        return 2
    warehouse = DuckDBWarehouse(database=str(args.db or settings.duckdb_path()))
    with warehouse.get_connection() as conn:
        conn.execute(APPROVALS_DDL)
        found = conn.execute(
            "SELECT creative_id, content_sha256, traffic_light, compliance_reasons FROM main.creative_library "
            "WHERE creative_id LIKE ? || '%'",
            [args.creative_id],
        ).fetchall()
        if len(found) != 1:
            print(
                f"gtm approve: creative {args.creative_id!r}: {'not in creative_library' if not found else 'ambiguous prefix'}",
                file=sys.stderr,
            )
            return 2
        creative_id, sha, light, reasons = found[0]
        if light == "red":
            print(f"gtm approve: {creative_id} is red and cannot be approved ({'; '.join(reasons)})", file=sys.stderr)
            return 2
        if light == "green":
            print(f"gtm approve: {creative_id} is green and ships without an approval; nothing recorded")
            return 0
        conn.execute(
            "INSERT INTO main.creative_approvals VALUES (?, ?, ?, ?, ?)",
            [creative_id, sha, args.by.strip(), datetime.now(UTC).replace(tzinfo=None), args.note],
        )
    print(f"Approved {creative_id} (amber: {'; '.join(reasons)}) by {args.by.strip()}; it ships with the next dsp_payload.")
    return 0


def register(subparsers) -> None:
    """Add `approve` to the `gtm` command line."""
    parser = subparsers.add_parser(
        "approve",
        help="approve an amber creative so it can ship",
        description="Record a human approval of an amber creative (bound to its exact content).",
    )
    parser.add_argument("creative_id", help="creative id (or a unique prefix) from creative_library")
    parser.add_argument("--by", required=True, help="who approves (name or e-mail of the reviewer)")
    parser.add_argument("--note", default=None, help="substantiation or reason, kept with the approval")
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.set_defaults(handler=approve_command)
