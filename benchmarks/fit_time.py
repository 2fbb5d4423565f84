"""Benchmark: wall time of whole default MSFL fits, this code against an older commit's.

Times ``MultitaskSERClassifier(random_state=0).fit(X, y)`` on the IS10 features of the five
shared corpora (2511 utterances x 1582 features; y = emotion and language), as whole fits on
one torch thread (the estimator's default):

* ``<commit> default``: the code of ``--old`` (733734f, the default network before the speed
  work of issue 23), checked out with ``git worktree add`` into a temporary folder;
* ``default``: this checkout's default fit;
* ``default + ensembles``: this checkout with the one-fit ensembles of issue 23 switched on
  (:data:`ENSEMBLES`: 32 BatchEnsemble members and SWA weight averaging);
* one row per candidate parameter of issue 23 (:data:`CANDIDATES`), each timed against this
  checkout's default.

Each code version runs in a worker process of its own (``python fit_time.py --worker``, with
``PYTHONPATH`` at that version's root: both packages are called ``sklearn_msfl``), which loads
the features once, makes one warm-up fit (1 epoch on 64 vectors, so that no timed fit pays for
lazy imports) and then fits on request. Fits run one at a time, interleaved round by round
(old, default, ensembles, then the candidates), ``--repeats`` rounds for the first three rows and
``--candidate-repeats`` for the candidates; the 1-minute load average is recorded around every
fit. Ratios are of medians over the same rounds (the load changes from round to round). The
goal (issue 23, item 5): the whole default fit at most 1.5x the old default (the one-fit
ensembles did not become defaults; ``default + ensembles`` shows what switching them on costs).

Usage::

    .venv/bin/python benchmarks/fit_time.py            # full run, ~1-2 h on 2 shared cores
    .venv/bin/python benchmarks/fit_time.py --quick    # smoke run: ~220 vectors, 2 epochs, 1 round

Writes ``benchmarks/results/fit_time.md`` after every round (``--quick``:
``benchmarks/.cache/quick/fit_time.md`` unless ``--output`` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "fit_time.md"
QUICK_OUTPUT = REPO_ROOT / "benchmarks" / ".cache" / "quick" / "fit_time.md"
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / ".cache"
OLD_COMMIT = "733734f"
SEED = 0
GOAL_RATIO = 1.5
QUICK_EPOCHS = 2
WARM_UP_ROWS = 64

#: The one-fit ensembles of issue 23 at their most expensive candidate setting.
ENSEMBLES = {"n_members": 32, "weight_averaging": "swa"}
#: One setting of every parameter issue 23 added (timed against this checkout's default).
CANDIDATES = {
    "attention_values='both'": {"attention_values": "both"},
    "feature_attention_scale='learned'": {"feature_attention_scale": "learned"},
    "wide=True": {"wide": True},
    "n_members=8": {"n_members": 8},
    "weight_averaging='swa'": {"weight_averaging": "swa"},
    "weight_averaging='ema'": {"weight_averaging": "ema"},
    "balance='auxiliary'": {"balance": "auxiliary"},
    "label_smoothing=0.1": {"label_smoothing": 0.1},
    "feature_dropout=0.1": {"feature_dropout": 0.1},
    "input_noise=0.1": {"input_noise": 0.1},
}
OLD, NEW = "old", "new"
DEFAULT, WITH_ENSEMBLES = "default", "default + ensembles"


# --------------------------------------------------------------------------------------------
# Worker: one code version, fits on request
# --------------------------------------------------------------------------------------------
def worker(data_path: Path) -> None:
    """Serve fit requests (JSON lines on stdin) with the ``sklearn_msfl`` on ``PYTHONPATH``."""
    import sklearn_msfl
    import torch
    from sklearn_msfl import MultitaskSERClassifier

    data = np.load(data_path)
    X, y = data["X"], np.column_stack([data["emotion"], data["language"]])
    warm = np.linspace(0, len(X) - 1, WARM_UP_ROWS).astype(int)  # every corpus, both tasks
    MultitaskSERClassifier(max_epochs=1, random_state=SEED).fit(X[warm], y[warm])
    reply({"module": sklearn_msfl.__file__, "torch": torch.__version__})
    for line in sys.stdin:
        params = json.loads(line)
        before = os.getloadavg()[0]
        start = time.perf_counter()
        clf = MultitaskSERClassifier(random_state=SEED, **params).fit(X, y)
        seconds = time.perf_counter() - start
        reply({"seconds": seconds, "epochs": clf.n_iter_, "load_before": before,
               "load_after": os.getloadavg()[0]})


def reply(message: dict) -> None:
    print(json.dumps(message), flush=True)


class Worker:
    """A worker process for the code at ``root``."""

    def __init__(self, root: Path, data_path: Path):
        env = dict(os.environ, PYTHONPATH=str(root))
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(data_path)],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.info = self._read()
        if not Path(self.info["module"]).resolve().is_relative_to(root.resolve()):
            raise RuntimeError(f"the worker for {root} imported {self.info['module']}")

    def fit(self, params: dict) -> dict:
        self.process.stdin.write(json.dumps(params) + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited with code {self.process.wait()}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


# --------------------------------------------------------------------------------------------
# Data, checkout, schedule
# --------------------------------------------------------------------------------------------
def save_features(args, path: Path) -> tuple[int, int]:
    """The five corpora's IS10 features and labels (``--quick``: multilingual_ser's subset)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from multilingual_ser import LANGUAGES, find_corpora, load_frame

    from sklearn_msfl.features import OpenSmileTransformer

    frame = load_frame(find_corpora(args.corpora), quick=args.quick)
    X = OpenSmileTransformer(feature_set="IS10", cache=args.cache, verbose=False).fit_transform(
        frame)
    np.savez(path, X=np.asarray(X), emotion=frame["emotion_std"].to_numpy(str),
             language=frame["corpus"].map(LANGUAGES).to_numpy(str))
    return X.shape


def add_worktree(commit: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fit_time_old_"))
    subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", str(folder),
                    commit], check=True, capture_output=True)
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(folder)],
                   check=False, capture_output=True)


def schedule(old: str, repeats: int, candidate_repeats: int) -> list[list[tuple[str, str, dict]]]:
    """Rounds of ``(row name, worker, params)``: the base rows first in each, then candidates."""
    base = [(f"{old} default", OLD, {}), (DEFAULT, NEW, {}),
            (WITH_ENSEMBLES, NEW, ENSEMBLES)]
    candidates = [(name, NEW, params) for name, params in CANDIDATES.items()]
    return [(base if r < repeats else []) + (candidates if r < candidate_repeats else [])
            for r in range(max(repeats, candidate_repeats))]


def run(args, workers: dict, on_round) -> list[dict]:
    rows = []
    extra = {"max_epochs": QUICK_EPOCHS} if args.quick else {}
    rounds = schedule(args.old, args.repeats, args.candidate_repeats)
    for number, fits in enumerate(rounds, start=1):
        for name, version, params in fits:
            result = workers[version].fit({**params, **extra})
            rows.append({"row": name, "round": number, "params": params, **result})
            print(f"round {number} {name:36s} {result['seconds']:7.1f} s, "
                  f"{result['epochs']} epochs (load {result['load_before']:.2f} -> "
                  f"{result['load_after']:.2f})", flush=True)
        on_round(rows)
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def median_seconds(rows: list[dict], name: str, rounds=None) -> float | None:
    """The median time of row ``name``, over ``rounds`` only if given."""
    seconds = [row["seconds"] for row in rows
               if row["row"] == name and (rounds is None or row["round"] in rounds)]
    return statistics.median(seconds) if seconds else None


def table_row(rows: list[dict], name: str, reference: str, params: dict) -> str:
    mine = [row for row in rows if row["row"] == name]
    if not mine:
        return f"| {name} | `{params}` | – | – | – | – | – |"
    # The reference over the same rounds: the load changes from round to round.
    median = median_seconds(rows, name)
    base = median_seconds(rows, reference, {row["round"] for row in mine})
    reps = ", ".join(f"{row['seconds']:.1f}" for row in mine)
    loads = ", ".join(f"{row['load_before']:.1f} -> {row['load_after']:.1f}" for row in mine)
    ratio = f"{median / base:.2f}x" if base else "–"
    return (f"| {name} | `{params}` | {mine[0]['epochs']} | {reps} | {median:.1f} | {ratio} "
            f"| {loads} |")


def report(args, rows: list[dict], info: dict) -> str:
    old_name = f"{args.old} default"
    header = ("| row | parameters | epochs | reps (s) | median s | ratio | "
              "load (1 min) before -> after |\n|---|---|---|---|---|---|---|")
    base = [table_row(rows, name, old_name, params) for name, params in
            ((old_name, {}), (DEFAULT, {}), (WITH_ENSEMBLES, ENSEMBLES))]
    candidates = [table_row(rows, name, DEFAULT, params) for name, params in CANDIDATES.items()]
    old, default = median_seconds(rows, old_name), median_seconds(rows, DEFAULT)
    ensembles = median_seconds(rows, WITH_ENSEMBLES)
    goal = "not measured yet"
    if old and default:
        verdict = "met" if default / old <= GOAL_RATIO else "not met"
        goal = f"{default / old:.2f}x (goal <= {GOAL_RATIO}x: {verdict})"
        if ensembles:
            goal += f"; default + ensembles / {args.old} default: {ensembles / old:.2f}x"
    done = max((row["round"] for row in rows), default=0)
    return "\n".join([
        "# Whole-fit wall time: this code against " + args.old,
        "",
        f"Run on {info['date']} by `benchmarks/fit_time.py` ({done} of "
        f"{max(args.repeats, args.candidate_repeats)} rounds done).",
        "",
        "## Data and protocol",
        "",
        f"{info['n_rows']} utterances of the five corpora (EmoDB, RAVDESS, URDU, SAVEE, CASIA; "
        f"anger, happiness, neutral, sadness), IS10 functionals ({info['n_features']} features), "
        "y = emotion and language. Every fit is `MultitaskSERClassifier(random_state=0, "
        "**parameters).fit(X, y)` on one torch thread (the estimator's default), timed whole "
        "(standardisation, network building, training). Each code version runs in a worker "
        "process of its own that loaded the features and made one warm-up fit (1 epoch, "
        f"{WARM_UP_ROWS} vectors) before the first timed fit. Fits run one at a time, "
        f"interleaved round by round: {args.repeats} rounds of the first three rows, "
        f"{args.candidate_repeats} of the candidates. Ratios are of medians over the same "
        f"rounds: the first three rows against {args.old}'s default, the candidates against "
        "this code's default. "
        "Load is the 1-minute load average before -> after each fit (the machine is shared; "
        "its other users are not controlled).",
        "",
        "## This code against " + args.old,
        "",
        header,
        *base,
        "",
        f"Default / {args.old} default: {goal}.",
        "",
        "## Every candidate parameter of issue 23 against this code's default",
        "",
        header,
        *candidates,
        "",
        "## Machine and command",
        "",
        f"- CPU: {info['cpu']} ({os.cpu_count()} cores), Python {platform.python_version()}, "
        f"torch {info['torch']}",
        f"- this code: {info['commit']}; old code: {args.old} (`git worktree add`)",
        f"- load (1 min) at the start: {info['load_start']:.2f}",
        f"- command: `{info['command']}`",
        "",
    ])


def git_commit() -> str:
    def git(*command):
        return subprocess.run(["git", "-C", str(REPO_ROOT), *command], capture_output=True,
                              text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (uncommitted changes)"
                                                   if git("status", "--porcelain") else "")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None,
                        help="corpora folder (default: $MSFL_CORPORA, else ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--old", default=OLD_COMMIT, help=f"old commit (default {OLD_COMMIT})")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of the old, default and ensembles rows (default 3)")
    parser.add_argument("--candidate-repeats", type=int, default=2,
                        help="rounds of every candidate row (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="multilingual_ser.py's quick subset of the corpora, "
                             f"{QUICK_EPOCHS} epochs, one round")
    parser.add_argument("--output", type=Path, default=None,
                        help="report file (default benchmarks/results/fit_time.md; --quick: "
                             "benchmarks/.cache/quick/fit_time.md)")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = args.candidate_repeats = 1
        if args.output is not None and args.output.resolve() == DEFAULT_OUTPUT.resolve():
            parser.error("--quick never writes the committed results")
    args.output = args.output or (QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        return worker(args.worker)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import cpu_model

    info = {"date": datetime.datetime.now().isoformat(timespec="minutes"),
            "load_start": os.getloadavg()[0], "cpu": cpu_model(), "commit": git_commit(),
            "command": shlex.join([Path(sys.executable).name, *sys.argv])}
    with tempfile.TemporaryDirectory() as scratch:
        data_path = Path(scratch) / "features.npz"
        info["n_rows"], info["n_features"] = save_features(args, data_path)
        old_root = add_worktree(args.old)
        workers = {}
        try:
            workers = {OLD: Worker(old_root, data_path), NEW: Worker(REPO_ROOT, data_path)}
            info["torch"] = workers[NEW].info["torch"]
            args.output.parent.mkdir(parents=True, exist_ok=True)
            run(args, workers, lambda rows: args.output.write_text(report(args, rows, info)))
        finally:
            for process in workers.values():
                process.close()
            remove_worktree(old_root)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
