"""`surveyapp estimate --data` against R's survey package on a district-sized CSV file.

Generates (seeded, cached in the temporary directory) 1,000,000 responses from 13 streets
(strata) and about 130 communities (PSUs) with weights and a 6-point answer, then times one
command that estimates the share of answer 1 by street and overall:

    surveyapp estimate --data FILE --by street --strata street --cluster community \
        --weight w --var y --positive 1 --format json

against base R doing the same (read.csv, svydesign, svyciprop, svyby(svyciprop)). Prints wall
time and peak memory (maximum resident set size of the child process, from wait4) of both,
the two ratios, and checks that the estimates agree.

Usage: .venv/bin/python bench/bench_estimate_csv.py [--rows N] [--repeat K] [--no-r]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STREETS = ["宁海路", "华侨路", "湖南路", "中央门", "挹江门", "江东", "凤凰", "阅江楼",
           "热河南路", "幕府山", "建宁路", "宝塔桥", "小市"]  # fmt: skip
TARGET_SPEEDUP = 15.0
TARGET_MEMORY_RATIO = 1 / 3

R_SCRIPT = r"""
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], fileEncoding = "UTF-8", stringsAsFactors = FALSE)
d$yy <- ifelse(is.na(d$y), NA, as.numeric(d$y %in% 1))
des <- svydesign(ids = ~community, strata = ~street, weights = ~w, data = d, nest = TRUE)
des <- subset(des, !is.na(yy))
by <- svyby(~yy, ~street, des, svyciprop, vartype = c("se", "ci"))
all <- svyciprop(~yy, des)
out <- rbind(data.frame(domain = by$street, estimate = by$yy, se = by[[3]], ci_low = by$ci_l,
                        ci_high = by$ci_u),
             data.frame(domain = "ALL", estimate = as.vector(all), se = sqrt(vcov(all))[1],
                        ci_low = confint(all)[1], ci_high = confint(all)[2]))
write.csv(out, args[2], row.names = FALSE, fileEncoding = "UTF-8")
"""


def generate(path: Path, rows: int, seed: int = 20240501) -> None:
    """Write a seeded survey extract: a few columns more than the command needs."""
    rng = np.random.default_rng(seed)
    n_comm = rng.integers(8, 13, size=len(STREETS))  # ~130 communities
    street_of_comm = np.repeat(np.arange(len(STREETS)), n_comm)
    comm_size = rng.uniform(0.5, 1.5, size=street_of_comm.size)
    comm = rng.choice(street_of_comm.size, size=rows, p=comm_size / comm_size.sum())
    comm.sort()
    street = street_of_comm[comm]
    first = np.concatenate([[0], np.cumsum(n_comm)[:-1]])
    comm_label = comm - first[street] + 1
    base = rng.uniform(20, 60, size=street_of_comm.size)
    w = np.round(base[comm] * rng.uniform(0.8, 1.25, size=rows), 4)
    rate = rng.uniform(0.80, 0.98, size=street_of_comm.size)[comm]
    u = rng.uniform(size=rows)
    y = np.where(u < rate, 1, 2 + (rng.uniform(size=rows) * 5).astype(int))
    y_text = y.astype(str).astype(object)
    y_text[rng.uniform(size=rows) < 0.02] = ""
    sex = np.where(rng.uniform(size=rows) < 0.5, "M", "F")
    age = rng.integers(1, 7, size=rows)
    q2 = rng.integers(1, 7, size=rows)
    street_names = np.array(STREETS, dtype=object)[street]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,street,community,sex,age_group,w,y,q2\n")
        step = 100_000
        for a in range(0, rows, step):
            b = min(a + step, rows)
            f.write(
                "".join(
                    f"{i},{s},{s}{c:02d}社区,{x},{g},{wi!r},{yi},{q}\n"
                    for i, s, c, x, g, wi, yi, q in zip(
                        range(a + 1, b + 1),
                        street_names[a:b],
                        comm_label[a:b].tolist(),
                        sex[a:b],
                        age[a:b].tolist(),
                        w[a:b].tolist(),
                        y_text[a:b],
                        q2[a:b].tolist(),
                        strict=True,
                    )
                )
            )


#: CPU seconds (user + system) of the last command run (from ``wait4``): on a loaded machine
#: the wall time includes waiting for a core, the CPU time does not.
LAST_CPU = [0.0]


def run(cmd: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak resident memory (MiB, the child's own ru_maxrss) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        LAST_CPU[0] = usage.ru_utime + usage.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode("utf-8", "replace"))
            raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; best time kept")
    parser.add_argument("--no-r", action="store_true", help="time surveyapp only")
    args = parser.parse_args()

    data = Path(tempfile.gettempdir()) / f"surveyapp_bench_{args.rows}.csv"
    if not data.exists():
        t = time.perf_counter()
        generate(data, args.rows)
        print(f"generated {data} ({data.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t:.1f} s")  # fmt: skip
    command = [
        "estimate", "--data", str(data), "--by", "street", "--strata", "street",
        "--cluster", "community", "--weight", "w", "--var", "y", "--positive", "1",
        "--format", "json",
    ]  # fmt: skip
    script = shutil.which("surveyapp", path=str(Path(sys.executable).parent))
    ours_cmd = [script, *command] if script else [sys.executable, "-m", "surveyapp.cli", *command]

    ours = []
    cpu_ours = float("inf")
    for _ in range(args.repeat):
        ours.append(run(ours_cmd))
        cpu_ours = min(cpu_ours, LAST_CPU[0])
    t_ours = min(r[0] for r in ours)
    m_ours = max(r[1] for r in ours)
    rows = json.loads(ours[0][2])
    print(
        f"surveyapp: {t_ours:6.2f} s  peak {m_ours:7.0f} MiB  CPU {cpu_ours:6.2f} s   "
        f"({' '.join(ours_cmd[:2])} ...)"
    )
    module_cmd = [sys.executable, "-m", "surveyapp.estimate_command", *command[1:]]
    t_module = min(run(module_cmd)[0] for _ in range(args.repeat))
    print(
        f"           {t_module:6.2f} s  as python -m surveyapp.estimate_command (no Flask import)"
    )
    if args.no_r or not shutil.which("Rscript"):
        print("R not run")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        r_file = Path(tmp) / "bench.R"
        r_file.write_text(R_SCRIPT, encoding="utf-8")
        r_out = Path(tmp) / "r.csv"
        r_runs = [run(["Rscript", str(r_file), str(data), str(r_out)]) for _ in range(1)]
        cpu_r = LAST_CPU[0]
        r_rows = r_out.read_text(encoding="utf-8").splitlines()
    t_r = min(r[0] for r in r_runs)
    m_r = max(r[1] for r in r_runs)
    print(f"R survey:  {t_r:6.2f} s  peak {m_r:7.0f} MiB  CPU {cpu_r:6.2f} s")
    print(
        f"CPU time ratio {cpu_r / cpu_ours:5.1f}x (load average {os.getloadavg()[0]:.1f}; "
        "the wall-time ratio below includes waiting for a core)"
    )
    speedup, memory = t_r / t_ours, m_ours / m_r
    print(f"speed-up  {speedup:5.1f}x  (target >= {TARGET_SPEEDUP:.0f}x)  "
          f"{'ok' if speedup >= TARGET_SPEEDUP else 'MISSED'}")  # fmt: skip
    print(f"memory    {memory:5.2f} of R's peak  (target <= {TARGET_MEMORY_RATIO:.2f})  "
          f"{'ok' if memory <= TARGET_MEMORY_RATIO else 'MISSED'}")  # fmt: skip

    import csv

    ours_by_domain = {r["domain"]: r for r in rows}
    worst = 0.0
    for rec in csv.DictReader(r_rows):
        mine = ours_by_domain[rec["domain"]]
        for key in ("estimate", "se", "ci_low", "ci_high"):
            a, b = float(mine[key]), float(rec[key])
            worst = max(worst, abs(a - b) / abs(b))
    print(f"largest relative difference from R (estimate, se, ci): {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
