"""Benchmark: wall time of a default MSFL fit under the library's torch thread rule.

``MultitaskSERClassifier(n_threads=None)`` trains and predicts on one torch thread (capped by
the caller's limit, the caller's setting restored afterwards; ``sklearn_msfl/msfl/_threads.py``).
This script checks that rule on the IS10 features of the five shared corpora (EmoDB, RAVDESS,
URDU, SAVEE, CASIA; the four shared emotions; y = emotion and language):

* (a) ``library``: a default ``MultitaskSERClassifier(random_state=0).fit`` with no thread
  setting by the caller (torch's own default thread count);
* (b) ``set_num_threads(1)``: the same fit inside ``torch.set_num_threads(1)``;
* ``forced n_threads=2`` (context): the library forced onto two threads, i.e. what the rule
  avoids; it is slow under load, so it trains ``--forced-epochs`` epochs and is compared per
  epoch (median of ``history_[:, "dur"]``);
* (c) ``cross_validate(est, X, y, cv=CorpusSpeakerKFold(2), groups=corpus/speaker, n_jobs=2)``
  against the same call with ``n_jobs=1`` (the same two fits and scorings one after the other
  in this process).

(a), (b) and the forced row run *quiet* (no load started by the script; other users of the
machine are not controlled, their load is recorded) and *busy* (the script starts
``--busy-processes`` CPU-bound ``python -c "while True: pass"`` processes, one per core by
default, and kills them afterwards). Every measurement is repeated ``--repeats`` times, (a) and
(b) interleaved so that a change of load hits both; the 1-minute load average is recorded
before and after each one. Goals (issue 12): (a) within 1.3x of (b) in both conditions; (c) no
slower than the sequential fits.

Usage::

    .venv/bin/python benchmarks/threads.py            # full run, ~50 min on 2 shared cores
    .venv/bin/python benchmarks/threads.py --quick    # smoke run: 150 files, 2 epochs, 1 rep

The features come from ``OpenSmileTransformer(feature_set="IS10", cache=benchmarks/.cache)``
(a cache load once extracted). Writes ``benchmarks/results/threads.md`` (``--quick``:
``benchmarks/.cache/quick/threads.md`` unless ``--output`` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.model_selection import cross_validate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402  (shared by the benchmark scripts)

from sklearn_msfl.corpora import DEFAULT_EMOTIONS, default_corpora_dir, load_corpora
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.model_selection import CorpusSpeakerKFold
from sklearn_msfl.msfl import MultitaskSERClassifier
from sklearn_msfl.msfl._threads import resolve_n_threads

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "threads.md"
QUICK_OUTPUT = REPO_ROOT / "benchmarks" / ".cache" / "quick" / "threads.md"
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / ".cache"

CORPORA = ("emodb", "ravdess", "urdu", "savee", "casia")
SEED = 0
GOAL_RATIO = 1.3
N_SPLITS = 2
CV_JOBS = 2
SPINNER = "while True: pass"
# Seconds the busy processes run before the first busy measurement.
SPIN_UP_SECONDS = 2.0
QUICK_FILES_PER_CORPUS = 30

# Scenario names, as in the report.
LIBRARY = "(a) library (no caller setting)"
ONE_THREAD = "(b) inside torch.set_num_threads(1)"
FORCED = "forced n_threads=2 (context)"
CV_SEQUENTIAL = "cross_validate n_jobs=1 (two fits in turn)"
CV_PARALLEL = "(c) cross_validate n_jobs=2"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def find_corpora(option: Path | None) -> Path:
    """``--corpora``, else ``$MSFL_CORPORA``, else ``../shared/corpora``."""
    if option is not None and Path(option).is_dir():
        return Path(option)
    root = default_corpora_dir(fallback=REPO_ROOT.parent / "shared" / "corpora")
    if root is None:
        sys.exit("corpora not found: pass --corpora or set MSFL_CORPORA")
    return root


def load_data(args):
    """Corpus frame, IS10 features, labels (emotion, language) and the (corpus, speaker) groups.

    ``--quick`` keeps ``QUICK_FILES_PER_CORPUS`` random files of every corpus.
    """
    root = find_corpora(args.corpora)
    frame = load_corpora({name: root / name for name in CORPORA}, emotions=DEFAULT_EMOTIONS)
    if args.quick:
        frame = (frame.groupby("corpus", sort=False)
                 .sample(n=QUICK_FILES_PER_CORPUS, random_state=SEED).reset_index(drop=True))
    smile = OpenSmileTransformer(feature_set="IS10", cache=args.cache)
    X = pd.DataFrame(smile.fit_transform(frame), columns=smile.get_feature_names_out(),
                     index=frame.index)
    y = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
    return frame, X, y, frame[["corpus", "speaker"]]


# --------------------------------------------------------------------------------------------
# Load and measurement
# --------------------------------------------------------------------------------------------
@contextmanager
def busy_cores(n_processes: int, spin_up: float = SPIN_UP_SECONDS):
    """Keep ``n_processes`` CPU-bound Python processes running for the duration of the block."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(n_processes)]
    try:
        time.sleep(spin_up)
        yield [spinner.pid for spinner in spinners]
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def measure(scenario: str, condition: str, repeat: int, call) -> dict:
    """Run ``call()`` once; its wall time, the load before and after and what it returned."""
    before = load1()
    start = time.perf_counter()
    details = call()
    seconds = time.perf_counter() - start
    row = {"scenario": scenario, "condition": condition, "repeat": repeat, "seconds": seconds,
           "load_before": before, "load_after": load1(), **details}
    extra = (f", {row['epochs']} epochs, {row['epoch_median']:.2f} s/epoch, "
             f"{row['threads']} thread(s) in fit" if "epochs" in row else "")
    print(f"{condition:5s} {scenario:45s} rep {repeat}: {seconds:7.1f} s (load "
          f"{before:.2f} -> {row['load_after']:.2f}{extra})", flush=True)
    return row


def fit_details(n_threads, max_epochs) -> dict:
    """Fit a default estimator (except ``n_threads`` / ``max_epochs``) on the global data."""
    params = {"random_state": SEED, "n_threads": n_threads}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    threads = resolve_n_threads(n_threads)  # what the estimator will use, under this caller
    est = MultitaskSERClassifier(**params).fit(DATA["X"], DATA["y"])
    durations = list(est.history_[:, "dur"])
    return {"epochs": len(durations), "epoch_median": statistics.median(durations),
            "threads": threads}


def fit_library(max_epochs=None) -> dict:
    """(a): the library's own thread choice, nothing set by the caller."""
    return fit_details(None, max_epochs)


def fit_one_thread(max_epochs=None) -> dict:
    """(b): the same fit inside ``torch.set_num_threads(1)`` (the caller's value restored)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fit_details(None, max_epochs)
    finally:
        torch.set_num_threads(before)


def fit_forced(n_threads: int, max_epochs: int) -> dict:
    """The library forced onto ``n_threads`` threads, ``max_epochs`` epochs."""
    return fit_details(n_threads, max_epochs)


def cv_details(n_jobs: int, max_epochs=None) -> dict:
    """``cross_validate`` of a default estimator on speaker-independent folds."""
    params = {"random_state": SEED}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    scores = cross_validate(MultitaskSERClassifier(**params), DATA["X"], DATA["y"],
                            groups=DATA["groups"], cv=CorpusSpeakerKFold(N_SPLITS), n_jobs=n_jobs)
    return {"fit_times": list(scores["fit_time"]), "score": float(np.mean(scores["test_score"]))}


def warm_up() -> None:
    """One tiny fit, so that no measurement pays for lazy initialisation."""
    rows = np.linspace(0, len(DATA["X"]) - 1, 64).astype(int)  # every corpus, both tasks
    X, y = DATA["X"].iloc[rows], DATA["y"].iloc[rows]
    MultitaskSERClassifier(max_epochs=1, random_state=SEED).fit(X, y)


def run_fits(args, condition: str) -> list[dict]:
    """(a) and (b) interleaved, then the forced row, ``args.repeats`` times each."""
    rows = []
    for repeat in range(1, args.repeats + 1):
        rows.append(measure(LIBRARY, condition, repeat, lambda: fit_library(args.epochs)))
        rows.append(measure(ONE_THREAD, condition, repeat, lambda: fit_one_thread(args.epochs)))
    for repeat in range(1, args.repeats + 1):
        rows.append(measure(FORCED, condition, repeat,
                            lambda: fit_forced(args.forced_threads, args.forced_epochs)))
    return rows


def run_cv(args) -> list[dict]:
    """Sequential and parallel ``cross_validate``, interleaved, ``args.repeats`` times."""
    rows = []
    for repeat in range(1, args.repeats + 1):
        rows.append(measure(CV_SEQUENTIAL, "quiet", repeat, lambda: cv_details(1, args.epochs)))
        rows.append(measure(CV_PARALLEL, "quiet", repeat,
                            lambda: cv_details(CV_JOBS, args.epochs)))
    return rows


# Module-level data, so that the measured calls are plain closures over it.
DATA: dict = {}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def select(rows, scenario, condition) -> list[dict]:
    return [row for row in rows if row["scenario"] == scenario and row["condition"] == condition]


def median_of(rows, key="seconds") -> float:
    return statistics.median(row[key] for row in rows)


def fit_table(rows) -> list[str]:
    """Wall time per fit: median, every repetition, load, epochs and threads."""
    lines = ["| condition | scenario | torch threads in fit | epochs | median s | reps (s) | "
             "median s/epoch | load (1 min) before -> after |",
             "|---|---|---|---|---|---|---|---|"]
    for condition in ("quiet", "busy"):
        for scenario in (LIBRARY, ONE_THREAD, FORCED):
            selected = select(rows, scenario, condition)
            if not selected:
                continue
            reps = ", ".join(f"{row['seconds']:.1f}" for row in selected)
            loads = ", ".join(f"{row['load_before']:.1f} -> {row['load_after']:.1f}"
                              for row in selected)
            lines.append(
                f"| {condition} | {scenario} | {selected[0]['threads']} | "
                f"{selected[0]['epochs']} | {median_of(selected):.1f} | {reps} | "
                f"{median_of(selected, 'epoch_median'):.3f} | {loads} |")
    return lines


def ratio_lines(rows) -> tuple[list[str], dict]:
    """(a)/(b) per condition (fit wall time) and forced/(b) per epoch; the goal verdicts."""
    lines = ["| condition | (a) / (b), fit wall time | goal <= 1.3x | forced n_threads=2 / (b), "
             "s per epoch |", "|---|---|---|---|"]
    verdicts = {}
    for condition in ("quiet", "busy"):
        a, b = select(rows, LIBRARY, condition), select(rows, ONE_THREAD, condition)
        forced = select(rows, FORCED, condition)
        if not (a and b):
            continue
        ratio = median_of(a) / median_of(b)
        verdicts[condition] = ratio <= GOAL_RATIO
        per_epoch = (f"{median_of(forced, 'epoch_median') / median_of(b, 'epoch_median'):.1f}x"
                     if forced else "–")
        verdict = "met" if verdicts[condition] else "**missed**"
        lines.append(f"| {condition} | {ratio:.2f}x | {verdict} | {per_epoch} |")
    return lines, verdicts


def cv_table(rows) -> tuple[list[str], bool | None]:
    """Sequential vs parallel ``cross_validate``: wall time, fit times per fold, the ratio."""
    lines = ["| scenario | median s | reps (s) | fit s per fold (each rep) | mean test accuracy | "
             "load (1 min) before -> after |", "|---|---|---|---|---|---|"]
    for scenario in (CV_SEQUENTIAL, CV_PARALLEL):
        selected = select(rows, scenario, "quiet")
        if not selected:
            return [], None
        reps = ", ".join(f"{row['seconds']:.1f}" for row in selected)
        folds = "; ".join(" + ".join(f"{t:.1f}" for t in row["fit_times"]) for row in selected)
        loads = ", ".join(f"{row['load_before']:.1f} -> {row['load_after']:.1f}"
                          for row in selected)
        lines.append(f"| {scenario} | {median_of(selected):.1f} | {reps} | {folds} | "
                     f"{selected[0]['score']:.3f} | {loads} |")
    ratio = (median_of(select(rows, CV_PARALLEL, "quiet"))
             / median_of(select(rows, CV_SEQUENTIAL, "quiet")))
    lines += ["", f"(c) / sequential = {ratio:.2f}x (goal: <= 1.00x, "
              f"{'met' if ratio <= 1.0 else '**missed**'})."]
    return lines, ratio <= 1.0


def machine_lines(args, default_threads, loads, wall) -> list[str]:
    import joblib
    import skorch

    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available); torch's default thread count in this "
        f"process: {default_threads}; OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}",
        f"- Load average (1/5/15 min) at start: {' / '.join(f'{v:.2f}' for v in loads[0])}; "
        f"at end: {' / '.join(f'{v:.2f}' for v in loads[1])} (the machine is shared with "
        "other users, whose load the script does not control)",
        f"- Python {platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, joblib {joblib.__version__}, "
        f"numpy {np.__version__}",
        f"- Wall time of the whole run: {wall / 60:.1f} min",
        f"- Command: `{args.command}`",
    ]


def render_report(args, data_info, rows, default_threads, loads, wall) -> str:
    epochs = args.epochs or MultitaskSERClassifier().max_epochs
    ratios, verdicts = ratio_lines(rows)
    cv_lines, cv_met = cv_table(rows)
    lines = [
        "# Torch threads: a default MSFL fit as the library runs it",
        "",
        *(["**Quick smoke run** (file subset, few epochs): the numbers mean nothing.", ""]
          if args.quick else []),
        f"Run on {datetime.datetime.now().isoformat(timespec='minutes')} by "
        "`benchmarks/threads.py`.",
        "",
        "## Data and protocol",
        "",
        f"{data_info}. Every fit is `MultitaskSERClassifier(random_state={SEED})` with the "
        f"defaults ({epochs} epochs, no early stopping), y = emotion and language. "
        f"{args.repeats} repetitions of every measurement; (a) and (b) interleaved. *quiet*: no "
        "load started by the script (other users of the machine are not controlled: see the "
        f"load columns); *busy*: {args.busy_processes} `python -c \"{SPINNER}\"` processes "
        "started by the script run through all busy measurements and are killed afterwards. "
        "Load is the 1-minute load average before -> after each measurement. "
        "*torch threads in fit* is what the estimator resolves under the caller's setting "
        "(`sklearn_msfl.msfl._threads.resolve_n_threads`). The forced row trains "
        f"{args.forced_epochs} epochs only (it is slow under load) and is compared per epoch "
        "(median of `history_[:, 'dur']`). One warm-up fit (1 epoch, 64 vectors) precedes "
        "all measurements.",
        "",
        "## (a) and (b): one fit on all vectors",
        "",
        *fit_table(rows),
        "",
        *ratios,
        "",
    ]
    if cv_lines:
        lines += [
            f"## (c) cross_validate(cv={N_SPLITS}, n_jobs={CV_JOBS}) vs the same fits in turn",
            "",
            f"`cross_validate(est, X, y, groups=frame[['corpus', 'speaker']], "
            f"cv=CorpusSpeakerKFold({N_SPLITS}))` with `n_jobs=1` (the two fits and scorings one "
            f"after the other in this process) and `n_jobs={CV_JOBS}` (joblib's loky workers; "
            "the first parallel repetition also starts the workers, later ones reuse them). "
            "Quiet condition only.",
            "",
            *cv_lines,
            "",
        ]
    lines += [
        "## Goals (issue 12)",
        "",
        *(f"- (a) within {GOAL_RATIO}x of (b), {condition}: "
          f"{'met' if met else '**missed**'}" for condition, met in verdicts.items()),
        *([f"- (c) no slower than the sequential fits: {'met' if cv_met else '**missed**'}"]
          if cv_met is not None else []),
        "",
        "## Machine",
        "",
        *machine_lines(args, default_threads, loads, wall),
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_FILES_PER_CORPUS} files per corpus, 2 epochs, "
                        "1 repetition")
    parser.add_argument("--corpora", type=Path, default=None,
                        help="corpora folder (default $MSFL_CORPORA, else ../shared/corpora)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="IS10 feature cache folder (default benchmarks/.cache)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3, quick 1")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of (a), (b) and (c) (default: the estimator's; quick 2)")
    parser.add_argument("--forced-threads", type=int, default=2,
                        help="threads of the context row (default 2)")
    parser.add_argument("--forced-epochs", type=int, default=None,
                        help="epochs of the context row (default 3, quick 1)")
    parser.add_argument("--busy-processes", type=int, default=os.cpu_count(),
                        help="CPU-bound processes of the busy condition (default: one per core)")
    parser.add_argument("--no-cv", action="store_true", help="skip (c)")
    parser.add_argument("--output", type=Path, default=None,
                        help="report file (default benchmarks/results/threads.md; quick: "
                        "benchmarks/.cache/quick/threads.md)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/threads.py",
                               *(sys.argv[1:] if argv is None else argv)])
    defaults = {"repeats": (3, 1), "epochs": (None, 2), "forced_epochs": (3, 1)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.repeats < 1 or args.forced_epochs < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--repeats, --epochs and --forced-epochs must be positive")
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    if args.quick and args.output.resolve() == DEFAULT_OUTPUT.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    default_threads = torch.get_num_threads()  # nothing set by this script
    loads = [os.getloadavg()]
    start = time.perf_counter()
    frame, X, y, groups = load_data(args)
    DATA.update(X=X, y=y, groups=groups)
    counts = frame["corpus"].value_counts()
    per_corpus = ", ".join(f"{name} {counts.get(name, 0)}" for name in CORPORA)
    data_info = (f"{len(frame)} utterances ({per_corpus}), "
                 f"emotions {', '.join(DEFAULT_EMOTIONS)}, IS10 functionals ({X.shape[1]} "
                 "features)")
    print(f"{data_info}; torch default threads {default_threads}", flush=True)
    warm_up()
    rows = run_fits(args, "quiet")
    if not args.no_cv:
        rows += run_cv(args)
    with busy_cores(args.busy_processes):
        rows += run_fits(args, "busy")
    loads.append(os.getloadavg())
    report = render_report(args, data_info, rows, default_threads, loads,
                           time.perf_counter() - start)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"\nreport: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
