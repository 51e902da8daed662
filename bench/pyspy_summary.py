"""Summarise py-spy's collapsed stacks (``bench_load.py --profile DIR``) of gunicorn workers.

Prints the share of the workers' busy samples spent in each library (a sample counts once for
every library on its stack: inclusive) and the functions with the largest inclusive and own
(self) shares. Idle workers (waiting in ``accept``) are not sampled (py-spy without --idle).

Usage: .venv/bin/python bench/pyspy_summary.py FILE [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")

#: Where a file belongs, first match wins (paths as py-spy prints them, shortened).
AREAS = [
    ("jinja2 (templates)", "jinja2/"),
    ("wtforms / flask_wtf (forms, CSRF)", "wtforms/|flask_wtf/"),
    ("babel / flask_babel (translations)", "babel/|flask_babel/"),
    ("flask_login", "flask_login/"),
    ("sqlalchemy", "sqlalchemy/"),
    ("psycopg / sqlite3 driver", "psycopg|sqlite3/"),
    ("json", "json/"),
    ("werkzeug", "werkzeug/"),
    ("itsdangerous (session cookie)", "itsdangerous/"),
    ("flask", "flask/"),
    ("surveyapp", "surveyapp/"),
    ("gunicorn", "gunicorn/"),
]


def area(path: str) -> str | None:
    for name, pattern in AREAS:
        if re.search(rf"(^|/)({pattern})", path):
            return name
    return None


def parse(path: str):
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a frame whose text held a line break (a lambda's source)
            continue
        frames = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            if match:
                frames.append((match["func"], match["file"]))
            # process and thread frames ("process 123:…", "thread (0x…)") carry no code
        yield frames, int(count)


def short(file: str) -> str:
    for marker in ("site-packages/", "surveyapp/", "lib/python3"):
        i = file.find(marker)
        if i >= 0:
            return file[i + (len(marker) if marker == "site-packages/" else 0) :]
    return file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="only stacks through a frame whose function matches")
    args = parser.parse_args()

    total = 0
    areas: Counter = Counter()
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for frames, count in parse(args.file):
        if args.match and not any(re.search(args.match, f) for f, _ in frames):
            continue
        if not frames:
            continue
        total += count
        seen_areas = {area(file) for _, file in frames} - {None}
        for name in seen_areas:
            areas[name] += count
        for key in {(f, short(file)) for f, file in frames}:
            inclusive[key] += count
        func, file = frames[-1]
        own[(func, short(file))] += count
    print(f"{total} samples")
    print("\nby library (inclusive):")
    for name, n in areas.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nfunctions, inclusive:")
    for (func, file), n in inclusive.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {func}  {file}")
    print("\nfunctions, own time:")
    for (func, file), n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {func}  {file}")


if __name__ == "__main__":
    main()
