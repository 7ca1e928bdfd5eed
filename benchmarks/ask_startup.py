"""Start-up cost of `gtm --help` and a rules-only `gtm ask`, against the bare interpreter start
measured in the same run (whole processes, median of --runs after one warm-up).

    python benchmarks/ask_startup.py [--runs 7]

Needs a materialized warehouse (`gtm run`) for the `gtm ask` rows. Prints wall seconds, the overhead
over `python -c pass` and the ratio to it. "read the question" is the start-up the 1 s target is
about: the `gtm` entry point imported and the question parsed by the rules, before any table is read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
QUESTIONS = {
    "roi": "What is the ROI of TV vs Search?",
    "saturation": "Which channels are saturated?",
    "contribution": "Which channels drive revenue?",
    "drivers": "What drove Q4?",
    "forecast": "What will revenue be over the next two weeks?",
    "persona": "Which persona responds best to email?",
    "allocation": "What allocation do you recommend?",
    "scenario": "What happens if we cut Social by 20%?",
    "summary": "Give me the executive summary",
}
READ_QUESTION = (
    "from gtm_assets.cli import build_parser; from gtm_assets.ask.engine import understand; "
    "from gtm_assets.ask.vocabulary import Vocabulary; build_parser(); "
    "understand('What happens if we cut Social by 20%?', Vocabulary(), use_llm=False)"
)


def wall(command: list[str], runs: int) -> float:
    """Median wall seconds of ``command`` over ``runs`` runs after one warm-up."""
    env = {**os.environ, "GTM_LLM_MODE": "offline"}
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        if attempt:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    gtm = str(BIN / "gtm")
    rows = [("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("gtm --help", [gtm, "--help"]),
            ("read the question (entry point + rules)", [sys.executable, "-c", READ_QUESTION])]  # fmt: skip
    rows += [(f"gtm ask ({intent}), answer + chart", [gtm, "ask", question]) for intent, question in QUESTIONS.items()]
    baseline = None
    print(f"{'command':<44} {'wall s':>7} {'overhead s':>11} {'x baseline':>11}")
    for label, command in rows:
        seconds = wall(command, args.runs)
        baseline = baseline if baseline is not None else seconds
        print(f"{label:<44} {seconds:>7.2f} {seconds - baseline:>11.2f} {seconds / baseline:>11.1f}")


if __name__ == "__main__":
    main()
