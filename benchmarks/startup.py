"""Start-up benchmark: what a user waits for before any work, each timed as a whole fresh process (best of N).

    python benchmarks/startup.py            # best of 5
    python benchmarks/startup.py --runs 10

Measures `smarketing --help`, `smarketing playbook show` (on a migrated SQLite database in a temporary folder)
and the web server's start (`django.setup()`, the URL conf and the WSGI handler), next to the peer
`python -c "import typer, django"` (the bare frameworks) in the same run, and prints seconds and ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WEB_START = ("import django; django.setup(); import smarketing.urls; "
             "from django.core.handlers.wsgi import WSGIHandler; WSGIHandler()")


def best_of(argv: list[str], env: dict[str, str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="processes per command; the best is reported")
    args = parser.parse_args()

    cli = str(Path(sys.executable).with_name("smarketing"))
    with tempfile.TemporaryDirectory(prefix="smarketing-bench-startup-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        env["SMARKETING_DATA_DIR"] = data_dir
        subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
        web_env = {**env, "DJANGO_SETTINGS_MODULE": "smarketing.settings.base"}

        peer = best_of([sys.executable, "-c", "import typer, django"], env, args.runs)
        rows = [
            ("smarketing --help", best_of([cli, "--help"], env, args.runs)),
            ("smarketing playbook show", best_of([cli, "playbook", "show"], env, args.runs)),
            ("web start (setup, URL conf, WSGI)", best_of([sys.executable, "-c", WEB_START], web_env, args.runs)),
        ]

    print(f"best of {args.runs} whole processes; peer: python -c \"import typer, django\" {peer:.3f} s")
    print(f"{'command':<36} {'seconds':>8} {'x peer':>8} {'over peer':>10}")
    for name, seconds in rows:
        print(f"{name:<36} {seconds:>8.3f} {seconds / peer:>8.1f} {seconds - peer:>+9.3f}s")


if __name__ == "__main__":
    main()
