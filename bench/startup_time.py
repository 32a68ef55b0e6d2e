"""How long `import sprig` and `sprig --help` take, against a bare interpreter in the same run.

Each case is a fresh ``python`` process from this checkout (what a user's shell starts):

- ``python -c pass``: the interpreter alone, the baseline;
- ``import sprig``: the package (the SDK loads on first use of one of its names);
- ``from sprig import Client``: the SDK (httpx, pydantic, the typed models);
- ``sprig --help``: the command line's help (``python -m sprig.cli.main --help``).

The cases take turns, ``--runs`` rounds, so background load hits them alike; reported per
case: the p50 and best wall time, and the p50 minus the baseline's p50 (what Sprig adds).
Goals (issue 15): ``sprig --help`` <= 0.3 s and ``import sprig`` <= 0.2 s.

    python bench/startup_time.py [--runs 15]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass": ["-c", "pass"],
    "import sprig": ["-c", "import sprig"],
    "from sprig import Client": ["-c", "from sprig import Client"],
    "sprig --help": ["-m", "sprig.cli.main", "--help"],
}
GOALS = {"import sprig": 0.2, "sprig --help": 0.3}


def once(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for argv in CASES.values():  # warm the file cache
        once(argv)
    for _ in range(args.runs):
        for name, argv in CASES.items():
            times[name].append(once(argv))
    base = statistics.median(times["python -c pass"])
    rows = {
        name: {
            "p50_s": statistics.median(t),
            "best_s": min(t),
            "over_python_s": statistics.median(t) - base,
            "goal_s": GOALS.get(name),
        }
        for name, t in times.items()
    }
    print(f"{'case':<26}{'p50':>8}{'best':>8}{'- python':>10}{'goal':>7}")
    for name, r in rows.items():
        goal = f"{r['goal_s']:.1f}" if r["goal_s"] else ""
        print(
            f"{name:<26}{r['p50_s']:>7.3f}s{r['best_s']:>7.3f}s{r['over_python_s']:>9.3f}s{goal:>7}"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(json.dumps({"runs": args.runs, "cases": rows, "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
