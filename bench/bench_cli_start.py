"""Start-up time of the ``surveyapp`` command line, against a bare Python start in the same run.

Times, as new processes (median of ``--repeat`` runs, wall clock, and the child's peak resident
memory from ``wait4``):

- ``python -c pass`` (the baseline: what any Python command costs on this machine);
- ``surveyapp --help``, ``surveyapp surveys --help``, ``surveyapp estimate --help`` (the console
  script of the virtual environment);
- building the web application (``create_app()``), which every command paid before the command
  group became lazy (Flask's group built the app to list or find a command).

Usage: .venv/bin/python bench/bench_cli_start.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "surveyapp"
TARGET_HELP = 0.3  # seconds, issue 20


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    proc.stderr.close() if proc.stderr else None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("SURVEYAPP_INSTANCE_PATH", tempfile.mkdtemp(prefix="surveyapp-cli-"))
    cases = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("surveyapp --help", [str(SCRIPT), "--help"]),
        ("surveyapp surveys --help", [str(SCRIPT), "surveys", "--help"]),
        ("surveyapp estimate --help", [str(SCRIPT), "estimate", "--help"]),
        (
            "create_app() (what every command paid before)",
            [sys.executable, "-c", "from surveyapp import create_app; create_app()"],
        ),
    ]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; "
          f"median of {args.repeat} runs")  # fmt: skip
    results = {}
    for label, cmd in cases:
        run(cmd, env)  # warm the file cache
        walls, cpus, rss = [], [], []
        for _ in range(args.repeat):
            wall, cpu, peak = run(cmd, env)
            walls.append(wall)
            cpus.append(cpu)
            rss.append(peak)
        results[label] = (statistics.median(walls), statistics.median(cpus), max(rss))
    base = results[cases[0][0]][0]
    print(f"{'':48} {'wall':>8} {'ratio':>7} {'CPU':>8} {'peak RSS':>9}")
    for label, (wall, cpu, peak) in results.items():
        print(
            f"{label:48} {wall * 1000:6.0f} ms {wall / base:6.1f}x {cpu * 1000:5.0f} ms "
            f"{peak:5.0f} MiB"
        )
    helped = results["surveyapp --help"][0]
    verdict = "met" if helped <= TARGET_HELP else "missed"
    print(f"surveyapp --help {helped:.3f} s: target <= {TARGET_HELP} s {verdict}; "
          f"{results[cases[-1][0]][0] / helped:.1f}x faster than building the app")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
