"""A/B runs of scripts/bench_e2e.py: two variants alternated in one session, so both meet the same
machine; prints each run and the medians per variant.

    .venv/bin/python scripts/bench_ab.py --runs 3 --b KIMHUB_GROUP_COMMIT_LINGER_MS=0 [-- --split]
    .venv/bin/python scripts/bench_ab.py --runs 3 --a-rev 22c92f4 [-- --split]   # another commit as A
    .venv/bin/python scripts/bench_ab.py --runs 6 --revs 13296a1 bb5cbb2 5d08253 [-- --split]   # commits in turn

A variant is either settings (NAME=value, passed to the hub as environment variables) or, with
--a-rev, the same benchmark run from a git worktree of that commit (the code before a change). With
--revs each named commit is a variant (run in turn, compared with the first: a bisection in one session).
Arguments after ``--`` go to bench_e2e.py.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(cwd: Path, env: dict[str, str], bench_args: list[str]) -> dict[str, float]:
    """One benchmark run; ``cwd`` only names the variant's code in errors."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        # the benchmark of this tree, whichever code the hub runs (BENCH_HUB_ROOT)
        command = [sys.executable, str(ROOT / "scripts" / "bench_e2e.py"), "--json", out.name, *bench_args]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"bench_e2e failed in {cwd}:\n{done.stderr[-3000:]}")
        return json.loads(Path(out.name).read_text())


def variant_env(settings: list[str], cwd: Path) -> dict[str, str]:
    env = {**os.environ, "BENCH_HUB_ROOT": str(cwd)}
    for item in settings:
        name, value = item.split("=", 1)
        env["BENCH_" + name if name.startswith("KIMHUB_") else name] = value
    return env


def worktree(rev: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="kimhub-ab-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per variant, alternating A, B, A, B, …")
    parser.add_argument("--a", nargs="*", default=[], metavar="NAME=VALUE", help="settings of variant A")
    parser.add_argument("--b", nargs="*", default=[], metavar="NAME=VALUE", help="settings of variant B")
    parser.add_argument("--a-rev", help="variant A runs the code of this commit (a git worktree)")
    parser.add_argument("--revs", nargs="+", metavar="REV", help="instead of A and B: one variant per commit")
    args, bench_args = parser.parse_known_args()
    bench_args = [a for a in bench_args if a != "--"]
    variants = make_variants(args)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    try:
        for i in range(args.runs):
            for name, (cwd, env) in variants.items():
                figures = run_once(cwd, env, bench_args)
                results[name].append(figures)
                print(f"run {i + 1} {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items()), flush=True)
    finally:
        for cwd, _ in variants.values():
            if cwd != ROOT:
                subprocess.run(["git", "worktree", "remove", "--force", str(cwd)], cwd=ROOT, capture_output=True)
    report(results, args)


def make_variants(args: argparse.Namespace) -> dict[str, tuple[Path, dict[str, str]]]:
    if args.revs:
        dirs = {rev: worktree(rev) for rev in args.revs}
        return {rev: (path, variant_env([], path)) for rev, path in dirs.items()}
    a_dir = worktree(args.a_rev) if args.a_rev else ROOT
    return {"A": (a_dir, variant_env(args.a, a_dir)), "B": (ROOT, variant_env(args.b, ROOT))}


def report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    names = list(results)
    keys = list(results[names[0]][0])
    medians = {n: {k: statistics.median(r[k] for r in runs) for k in keys} for n, runs in results.items()}
    if args.revs:
        print(f"\ncommits in turn, each compared with {names[0]}; medians of {args.runs} runs each\n")
    else:
        print(f"\nA: {args.a_rev or ' '.join(args.a) or 'defaults'}; B: {' '.join(args.b) or 'this tree, defaults'}; "
              f"medians of {args.runs} runs each\n")
    print("| variant | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{medians[name][k]:.3g}" for k in keys) + " |")
    first = medians[names[0]]
    for name in names[1:]:
        print(f"| {name} / {names[0]} | " + " | ".join(
            f"{medians[name][k] / first[k]:.2f}" if first[k] else "–" for k in keys) + " |")
        slower = sum(b["p50 ms"] > a["p50 ms"] for a, b in zip(results[names[0]], results[name]))
        print(f"\n{name}: p50 higher than {names[0]}'s in {slower} of {args.runs} runs of the same round\n")


if __name__ == "__main__":
    main()
