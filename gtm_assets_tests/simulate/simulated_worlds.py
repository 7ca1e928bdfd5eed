"""Simulated worlds for tests that need the simulator's own command line (``python -m gtm_assets.simulate``)."""

import os
import subprocess
import sys
from pathlib import Path


def simulate_world(out: Path, *, layout: str, events: int = 6000, days: int = 40, seed: int = 5, extra: tuple = ()) -> None:
    """Write a world to ``out`` with the simulator's CLI; fail the test with its stderr when it fails."""
    command = [sys.executable, "-m", "gtm_assets.simulate", "--out", str(out), "--events", str(events),
               "--days", str(days), "--seed", str(seed), "--format", layout, *extra]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ}, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-2000:]
