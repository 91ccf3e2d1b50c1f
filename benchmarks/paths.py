"""The `--paths` route: `smarketing attribution --paths FILE --model markov` on a generated paths file, as a whole
process, beside the line-by-line reader it replaced and ChannelAttribution's `markov_model` on the same file.

    python benchmarks/paths.py                       # 1.5M rows standing for about 10M journeys
    python benchmarks/paths.py --rows 200000 --runs 1
    python benchmarks/paths.py --peer-path DIR       # ChannelAttribution installed with pip install --target DIR

Each round runs every route once, in turn, so a change in the machine's load falls on all of them; a route's
figure is its best round. Wall-clock and CPU seconds (user + system of the whole process) are both printed, with
the load average: on a shared machine the CPU figures move less with the load than the wall-clock ones.
ChannelAttribution is a peer, not a dependency: when `import ChannelAttribution` fails (not installed, or no
wheel for this Python) the table says so and the old reader is the only peer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHANNELS = [f"channel_{i:02d}" for i in range(30)]

# The route before this change: the same command's work with the line-by-line reader.
OLD_ROUTE = """
import sys
from pathlib import Path
from smarketing.analytics.kernels import AttributionModel, parse_paths
from smarketing.analytics.queries.attribution import attribute_paths
path = Path(sys.argv[1])
with path.open(encoding="utf-8-sig") as fh:
    journeys = parse_paths(fh, source=path.name)
attribute_paths(journeys, model=AttributionModel.MARKOV, order=1, weights=None)
"""
CHANNEL_ATTRIBUTION = """
import sys
import pandas as pd
from ChannelAttribution import markov_model
frame = pd.read_csv(sys.argv[1], sep=";")
markov_model(frame, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null",
             order=1, verbose=0)
"""


def generate(path: Path, rows: int, seed: int = 12) -> int:
    """A paths file of `rows` distinct-ish paths; returns how many journeys it stands for."""
    rng = random.Random(seed)
    journeys = 0
    with path.open("w") as out:
        out.write("path;total_conversions;total_conversion_value;total_null\n")
        for _ in range(rows):
            length = min(1 + int(rng.expovariate(0.35)), 12)
            chain = " > ".join(rng.choice(CHANNELS) for _ in range(length))
            nulls = rng.randint(1, 10)
            conversions = rng.randint(0, 1) if rng.random() < 0.3 else 0
            journeys += nulls + conversions
            out.write(f"{chain};{conversions};{conversions * rng.randint(100, 5000)};{nulls}\n")
    return journeys


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str] | str:
    """(wall seconds, CPU seconds, stdout) of one whole process, or the last line of its error."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["failed"])[-1][:100]
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--runs", type=int, default=3, help="rounds (each runs every route once); the best counts")
    parser.add_argument("--peer-path", help="a folder ChannelAttribution was installed into (pip install --target "
                                            "DIR ChannelAttribution), put on the peer's PYTHONPATH only")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("smarketing"))
    ours = "smarketing attribution --paths"
    with tempfile.TemporaryDirectory(prefix="smarketing-bench-paths-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
        env.update(SMARKETING_DATA_DIR=tmp, DJANGO_SETTINGS_MODULE="smarketing.settings.base",
                   SMARKETING_COMMAND_SERVICE="off")
        subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
        file = Path(tmp) / "paths.csv"
        journeys = generate(file, args.rows)
        print(f"{args.rows:,} rows standing for {journeys:,} journeys ({file.stat().st_size / 1e6:.0f} MB); "
              f"best of {args.runs} rounds of whole processes, markov order 1", flush=True)
        routes = {
            ours: [cli, "attribution", "--paths", str(file), "--model", "markov", "--json"],
            "the line-by-line reader before it": [sys.executable, "-c", "import django; django.setup()\n"
                                                  + OLD_ROUTE, str(file)],
            "ChannelAttribution markov_model": [sys.executable, "-c", CHANNEL_ATTRIBUTION, str(file)],
        }
        peer_env = {**env, "PYTHONPATH": args.peer_path} if args.peer_path else env
        # One untimed run of ours first: the compiled loops' cache is written on a fresh install's first call.
        first = timed(routes[ours], env)
        if isinstance(first, str):
            raise SystemExit(f"{ours} failed: {first}")
        loads = [os.getloadavg()[0]]
        runs: dict[str, list[tuple[float, float, str] | str]] = {name: [] for name in routes}
        for _ in range(args.runs):
            for name, argv in routes.items():
                runs[name].append(timed(argv, peer_env if "ChannelAttribution" in name else env))
            loads.append(os.getloadavg()[0])
    best: dict[str, tuple[float, float] | str] = {}
    for name, results in runs.items():
        done = [r for r in results if not isinstance(r, str)]
        best[name] = (min(r[0] for r in done), min(r[1] for r in done)) if done else str(results[0])
    outputs = {r[2] for r in runs[ours] if not isinstance(r, str)}
    assert len(outputs) == 1 and json.loads(outputs.pop())["journeys"] == journeys, "ours answered differently"
    print(f"load average (1 min) {min(loads):.1f}-{max(loads):.1f} over the rounds (2 cores here)")
    wall_ours, cpu_ours = best[ours]  # type: ignore[misc]
    print(f"{'route':<40} {'wall':>8} {'x ours':>7} {'CPU':>8} {'x ours':>7}")
    for name, figures in best.items():
        if isinstance(figures, str):
            print(f"{name:<40} not run: {figures}")
        else:
            wall, cpu = figures
            print(f"{name:<40} {wall:7.2f}s {wall / wall_ours:6.1f}x {cpu:7.2f}s {cpu / cpu_ours:6.1f}x")


if __name__ == "__main__":
    main()
