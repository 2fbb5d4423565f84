"""Benchmark: MSFL training speed (seconds per epoch) and single-file prediction latency.

Training: for every feature dimension ``d`` (88 = eGeMAPS, 1582 = IS10, 6373 = ComParE) and
patch size (1, 4, 16 and the estimator's ``"auto"``), three variants train the same
MSFLNetwork (the estimator's default architecture) on the same random standardised data with
the same AdamW settings and batch size:

* ``plain``: a hand-written PyTorch loop summing the two task losses;
* ``skorch``: MultitaskSERClassifier with ``loss_weighting="equal"``;
* ``+GradNorm``: MultitaskSERClassifier with its default GradNorm weighting.

The difference is the overhead of skorch (datasets, callbacks, history) and of GradNorm (one
gradient norm per task on the last shared layer and the weight update); the goal is less than
25% over the plain loop. The variants are interleaved (so that a change of load on a shared
machine hits all of them), the first epoch of every run is dropped (warm-up) and the median
over the remaining epochs is reported. A combination whose estimated time exceeds
``--max-seconds`` runs once on fewer samples (seconds per epoch scaled up) or, if that is
still too slow, is skipped; the table says which.

Latency: the wall time of ``Pipeline([OpenSmileTransformer("IS10"), fitted estimator]).predict``
on one 3-second WAV file (synthetic speech), median of ``--latency-repeats`` calls after a
warm-up, split into extraction and model.

Usage::

    .venv/bin/python benchmarks/training_speed.py                  # the full CPU table
    .venv/bin/python benchmarks/training_speed.py --quick          # smoke run, < 1 minute
    .venv/bin/python benchmarks/training_speed.py --device cuda    # GPU figures

Writes ``benchmarks/results/training_speed.md`` (``--quick``: ``benchmarks/.cache/quick/``
unless ``--output`` says otherwise).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402  (shared by the benchmark scripts)

from sklearn_msfl.datasets import make_emotional_speech
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.msfl import MSFLNetwork, MultitaskSERClassifier

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "training_speed.md"
QUICK_OUTPUT = REPO_ROOT / "benchmarks" / ".cache" / "quick" / "training_speed.md"

DIMENSIONS = (88, 1582, 6373)
PATCH_SIZES = (1, 4, 16, "auto")
N_CLASSES = {"emotion": 4, "language": 3}
BATCH_SIZE = 64
OVERHEAD_GOAL = 0.25
VARIANTS = ("plain", "skorch", "+GradNorm")
ARCHITECTURE = ("hidden_size", "num_layers", "bidirectional", "embedding", "embedding_dim",
                "pooling", "attention_values", "shared_size", "dropout", "lr", "lr_schedule", "weight_decay")
LATENCY_SECONDS = 3.0
# A variant's per-epoch time over the plain loop's, for the estimate that decides skips.
ESTIMATE_FACTOR = 1.3
# Slow combinations are tried on fewer samples, down to this many (two batches).
MIN_REDUCED_SAMPLES = 2 * BATCH_SIZE


def estimator_defaults(**overrides) -> dict:
    """The estimator's default parameters with ``overrides``."""
    return {**MultitaskSERClassifier().get_params(), **overrides}


def make_data(n_samples: int, n_features: int, seed: int = 0):
    """Standard normal features and random labels of both tasks."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(np.float32)
    y = np.column_stack([rng.randint(n, size=n_samples) for n in N_CLASSES.values()])
    return X, y


def network_params(n_features: int, patch_size) -> dict:
    """The network's arguments as the estimator resolves them at its defaults and ``patch_size``."""
    classes = [range(n) for n in N_CLASSES.values()]
    return MultitaskSERClassifier(patch_size=patch_size)._network_params(
        n_features, list(N_CLASSES), classes)


def resolve_patch_size(patch_size, n_features: int) -> int:
    """Features per LSTM step, as the estimator resolves ``patch_size`` (an int or "auto")."""
    return network_params(n_features, patch_size)["patch_size"]


def patch_size_arg(text: str):
    return text if text == "auto" else int(text)


def build_network(n_features: int, patch_size) -> MSFLNetwork:
    """The network the estimator builds with its default parameters."""
    return MSFLNetwork(**network_params(n_features, patch_size))


def synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def plain_epoch_seconds(X, y, patch_size, epochs, device, max_batches=None) -> list[float]:
    """Per-epoch seconds of a hand-written loop (equal task weights).

    With ``max_batches``, every epoch stops after that many batches (for the estimate).
    """
    torch.manual_seed(0)
    params = estimator_defaults()
    net = build_network(X.shape[1], patch_size).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=params["lr"],
                                  weight_decay=params["weight_decay"])
    X_t = torch.from_numpy(X).to(device)
    y_t = torch.from_numpy(y).long().to(device)
    durations = []
    for _ in range(epochs):
        synchronize(device)
        start = time.perf_counter()
        net.train()
        batches = torch.randperm(len(X_t), device=device).split(BATCH_SIZE)
        for batch in batches[:max_batches]:
            logits = net(X_t[batch])
            loss = sum(torch.nn.functional.cross_entropy(out, y_t[batch, i])
                       for i, out in enumerate(logits))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        synchronize(device)
        durations.append(time.perf_counter() - start)
    return durations


def estimator_epoch_seconds(X, y, patch_size, epochs, loss_weighting, device) -> list[float]:
    """Per-epoch seconds from the estimator's history (skorch's EpochTimer)."""
    clf = MultitaskSERClassifier(**estimator_defaults(
        patch_size=patch_size, batch_size=BATCH_SIZE, max_epochs=epochs,
        loss_weighting=loss_weighting, device=device, random_state=0,
    )).fit(X, y)
    return list(clf.history_[:, "dur"])


def batch_seconds(X, y, patch_size, device) -> float:
    """Seconds of one training batch of the plain loop (the faster of two)."""
    return min(plain_epoch_seconds(X, y, patch_size, 2, device, max_batches=1))


def plans(args) -> list[tuple[int, int]]:
    """(samples, runs) to try in turn: the requested ones, then fewer down to two batches."""
    options = [(args.n_samples, args.repeats)]
    n_samples = args.n_samples
    while n_samples // 2 >= MIN_REDUCED_SAMPLES:
        n_samples //= 2
        options.append((n_samples, 1))
    if args.repeats > 1:
        options.insert(1, (args.n_samples, 1))
    return options


def benchmark_combination(n_features, patch_size, args) -> dict:
    """Median seconds per epoch of every variant, or a skip with the estimated time.

    When the requested samples and runs would take longer than ``args.max_seconds``, a
    single run on fewer samples is tried; its seconds per epoch are scaled up to the
    requested sample count (an epoch's time is proportional to its number of batches).
    """
    X, y = make_data(args.n_samples, n_features)
    resolved = resolve_patch_size(patch_size, n_features)
    row = {"d": n_features, "patch": patch_size if patch_size != "auto" else f"auto ({resolved})",
           "steps": math.ceil(n_features / resolved)}
    per_batch = batch_seconds(X, y, patch_size, args.device)

    def estimate(n_samples, repeats):
        n_epochs = args.epochs * repeats * len(VARIANTS)
        return per_batch * math.ceil(n_samples / BATCH_SIZE) * n_epochs * ESTIMATE_FACTOR

    row["estimate"] = estimate(args.n_samples, args.repeats)
    feasible = [plan for plan in plans(args) if estimate(*plan) <= args.max_seconds]
    if not feasible:
        print(f"d={n_features:5d} patch={row['patch']}: skipped (estimated "
              f"{row['estimate']:.0f} s)", flush=True)
        return row
    n_samples, repeats = feasible[0]
    if (n_samples, repeats) != (args.n_samples, args.repeats):
        row["reduced"] = (n_samples, repeats)
    X, y = X[:n_samples], y[:n_samples]
    start = time.perf_counter()
    seconds = {variant: [] for variant in VARIANTS}
    for _ in range(repeats):
        # first epoch dropped: it pays for allocations and lazy initialisation
        seconds["plain"] += plain_epoch_seconds(X, y, patch_size, args.epochs, args.device)[1:]
        seconds["skorch"] += estimator_epoch_seconds(
            X, y, patch_size, args.epochs, "equal", args.device)[1:]
        seconds["+GradNorm"] += estimator_epoch_seconds(
            X, y, patch_size, args.epochs, "gradnorm", args.device)[1:]
    scale = math.ceil(args.n_samples / BATCH_SIZE) / math.ceil(n_samples / BATCH_SIZE)
    row.update({variant: scale * statistics.median(values) for variant, values in seconds.items()})
    row["wall"] = time.perf_counter() - start
    row["overhead"] = row["+GradNorm"] / row["plain"] - 1
    print(f"d={n_features:5d} patch={row['patch']}: plain {row['plain']:.3f} s, skorch "
          f"{row['skorch']:.3f} s, +GradNorm {row['+GradNorm']:.3f} s per epoch "
          f"({row['overhead']:+.1%}; {row['wall']:.0f} s"
          f"{'; reduced to %d samples, %d run' % row['reduced'] if 'reduced' in row else ''})",
          flush=True)
    return row


def prediction_latency(args) -> dict:
    """Median seconds of predicting one 3-second WAV file with the IS10 pipeline."""
    with tempfile.TemporaryDirectory() as folder:
        files, _ = make_emotional_speech(1, duration=LATENCY_SECONDS, output_dir=folder,
                                         random_state=0)
        smile = OpenSmileTransformer(feature_set="IS10").fit(files)
        # The weights do not matter for latency: train briefly on random IS10-sized data.
        X, y = make_data(BATCH_SIZE, smile.n_features_out_)
        model = MultitaskSERClassifier(**estimator_defaults(
            max_epochs=1, device=args.device, random_state=0)).fit(X, y)
        pipeline = Pipeline([("smile", smile), ("msfl", model)])
        features = smile.transform(files)
        calls = {
            "pipeline": lambda: pipeline.predict(files),
            "extraction": lambda: smile.transform(files),
            "model": lambda: model.predict(features),
        }
        timings = {name: [] for name in calls}
        for repeat in range(args.latency_repeats + 1):
            for name, call in calls.items():  # interleaved, like the training variants
                start = time.perf_counter()
                call()
                if repeat > 0:  # the first round is the warm-up
                    timings[name].append(time.perf_counter() - start)
    latency = {name: statistics.median(values) for name, values in timings.items()}
    latency["patch_size"] = model.net_.module_.patch_size
    return latency


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def machine_lines(args, loads) -> list[str]:
    import opensmile
    import skorch

    lines = [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available), torch threads {torch.get_num_threads()}",
    ]
    if torch.device(args.device).type == "cuda":
        lines.append(f"- GPU: {torch.cuda.get_device_name(torch.device(args.device))}")
    lines += [
        f"- Load average (1 min) at start / end: {loads[0]:.2f} / {loads[1]:.2f} "
        "(the machine may be shared with other processes)",
        f"- Python {platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, opensmile {opensmile.__version__}, "
        f"numpy {np.__version__}",
        f"- Command: `{args.command}`",
    ]
    return lines


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def training_table(rows, args) -> list[str]:
    lines = [
        "| d | patch | LSTM steps | plain | skorch | skorch + GradNorm | overhead | "
        f"< {OVERHEAD_GOAL:.0%} | time taken |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        head = f"| {row['d']} | {row['patch']} | {row['steps']} |"
        if "plain" not in row:
            lines.append(f"{head} skipped: estimated {duration(row['estimate'])} > "
                         f"{duration(args.max_seconds)} | – | – | – | – | – |")
            continue
        cells = [f"{row[variant]:.3f}" for variant in VARIANTS]
        within = "yes" if row["overhead"] < OVERHEAD_GOAL else "**no**"
        taken = duration(row["wall"])
        if "reduced" in row:
            n_samples, repeats = row["reduced"]
            reduced = f"{repeats} run instead of {args.repeats}"
            if n_samples != args.n_samples:
                reduced += f", {n_samples} samples scaled to {args.n_samples}"
            taken += (f" ({reduced}; the full setting was estimated at "
                      f"{duration(row['estimate'])})")
        lines.append(f"{head} {' | '.join(cells)} | {row['overhead']:+.1%} | {within} | "
                     f"{taken} |")
    return lines


def render_report(args, rows, latency, loads, wall) -> str:
    params = estimator_defaults()
    measured = args.repeats * (args.epochs - 1)
    lines = [
        "# MSFL training speed and prediction latency",
        "",
        *(["**Quick smoke run** (few samples and epochs): not representative.", ""]
          if args.quick else []),
        f"Seconds per training epoch on `{args.device}` ({args.n_samples} random standardised "
        f"samples, batch {BATCH_SIZE}, 2 tasks with {list(N_CLASSES.values())} classes). "
        "The network and optimizer are the estimator's defaults ("
        + ", ".join(f"{name}={params[name]!r}" for name in ARCHITECTURE if name in params)
        + "); the plain loop has no learning-rate schedule. Median over "
        f"{args.repeats} run(s) x {args.epochs - 1} epoch(s) per variant (first epoch of each "
        f"run dropped), {measured} timed epochs per variant and row; the variants are "
        "interleaved. "
        "Overhead = (skorch + GradNorm) / plain - 1.",
        "",
        *training_table(rows, args),
        "",
        f"Seconds per epoch. A combination estimated (from two timed batches) to take more "
        f"than {duration(args.max_seconds)} runs once on fewer samples (its seconds per epoch "
        "scaled up to the full sample count, see *time taken*), or is skipped if even that "
        "is too slow. Where an epoch is short (few features or few LSTM steps, as with the "
        "default `patch_size='auto'`), the fixed cost per batch of skorch (callbacks, "
        "history, moving the batch) and of GradNorm (two autograd calls for the gradient "
        "norms and an Adam step on the task weights), 1-2 ms each, weighs more. "
        f"Wall time of the whole table: {duration(wall)}.",
        "",
    ]
    if latency is not None:
        lines += [
            "## Prediction latency",
            "",
            f"`Pipeline([OpenSmileTransformer('IS10'), MultitaskSERClassifier()]).predict` on "
            f"one {LATENCY_SECONDS:g}-second 16 kHz WAV file (default estimator: patch size "
            f"{params['patch_size']!r} = {latency['patch_size']} features per step, on "
            f"`{args.device}`), median of {args.latency_repeats} interleaved calls after a "
            "warm-up:",
            "",
            "| stage | ms |",
            "|---|---|",
            f"| IS10 extraction (`OpenSmileTransformer.transform`) | "
            f"{1000 * latency['extraction']:.0f} |",
            f"| model (`MultitaskSERClassifier.predict` on one row) | "
            f"{1000 * latency['model']:.1f} |",
            f"| **whole pipeline** (`Pipeline.predict`) | {1000 * latency['pipeline']:.0f} |",
            "",
        ]
    lines += ["## Machine", "", *machine_lines(args, loads), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 64 samples, 2 epochs, 1 run, combinations over 20 s "
                        "skipped")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--dims", type=int, nargs="+", default=list(DIMENSIONS))
    parser.add_argument("--patch-sizes", type=patch_size_arg, nargs="+", default=list(PATCH_SIZES),
                        help="ints or 'auto' (default 1 4 16 auto)")
    parser.add_argument("--n-samples", type=int, default=None, help="default 256, quick 64")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run, the first dropped (default 3, quick 2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved runs per variant (default 2, quick 1)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="skip combinations estimated to take longer (default 300, quick 20)")
    parser.add_argument("--latency-repeats", type=int, default=None, help="default 7, quick 3")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency part")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--output", type=Path, default=None,
                        help="report file (default benchmarks/results/training_speed.md; "
                        "quick: benchmarks/.cache/quick/training_speed.md)")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "benchmarks/training_speed.py",
                               *(sys.argv[1:] if argv is None else argv)])
    defaults = {"n_samples": (256, 64), "epochs": (3, 2), "repeats": (2, 1),
                "max_seconds": (300.0, 20.0), "latency_repeats": (7, 3)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is dropped)")
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    if args.quick and args.output.resolve() == DEFAULT_OUTPUT.resolve():
        parser.error("--quick must not overwrite the committed results: choose another --output")
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: CUDA is not available")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    loads = [os.getloadavg()[0]]
    start = time.perf_counter()
    rows = [benchmark_combination(d, patch, args) for d in args.dims for patch in args.patch_sizes]
    wall = time.perf_counter() - start
    latency = None if args.no_latency else prediction_latency(args)
    if latency is not None:
        print(f"latency of one {LATENCY_SECONDS:g} s file: "
              + ", ".join(f"{name} {1000 * latency[name]:.1f} ms"
                          for name in ("pipeline", "extraction", "model")))
    loads.append(os.getloadavg()[0])
    report = render_report(args, rows, latency, loads, wall)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"\nreport: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
