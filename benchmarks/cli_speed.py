"""Benchmark: how long ``msfl predict MODEL FILE.wav`` takes, before and after a change.

A fresh process per call, as a user runs it: ``python -m sklearn_msfl predict``
on one synthetic utterance (1-1.5 s) with a small model trained on the synthetic
corpus (IS10 features). Also timed in fresh processes: ``load_model`` alone
(with the imports it needs), ``import torch``, and the imports any prediction
needs (torch, scikit-learn, skorch, skops.io, pandas, opensmile): the floor.
The package is taken from this working tree, or the commit ``--after REF``
("after"), and, with ``--before REF``, from that commit ("before"; commits are
unpacked with ``git archive``); the runs alternate between the two, ``--repeats`` times, and each records the 1-minute
load average when it started. Every process runs in an empty folder, so that
the current folder cannot shadow the package on ``sys.path``.

Usage::

    .venv/bin/python benchmarks/cli_speed.py --before 733734f [--after REF] [--repeats 3]

Results are written to ``benchmarks/results/cli_speed.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402  (shared by the benchmark scripts)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "cli_speed.md"

LOAD_MODEL = "from sklearn_msfl.persistence import load_model; load_model({model!r})"
FLOOR = {
    "import torch": "import torch",
    "import torch, sklearn, skorch, skops.io, pandas, opensmile":
        "import torch, sklearn.pipeline, skorch, skops.io, pandas, opensmile",
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=None, metavar="REF",
                        help="git commit to compare with (default: time this tree only)")
    parser.add_argument("--after", default=None, metavar="REF",
                        help="git commit to time (default: this working tree)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def unpack(ref: str, folder: Path) -> Path:
    """The ``sklearn_msfl`` package of commit ``ref``, unpacked into ``folder``."""
    archive = subprocess.run(["git", "archive", ref, "sklearn_msfl"], cwd=REPO_ROOT,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def make_model(folder: Path) -> tuple[Path, Path]:
    """A small saved audio model and one utterance to predict."""
    from sklearn.pipeline import Pipeline

    from sklearn_msfl import MultitaskSERClassifier, OpenSmileTransformer, make_emotional_speech
    from sklearn_msfl.persistence import save_model

    files, y = make_emotional_speech(60, duration=(1.0, 1.5), output_dir=folder / "wavs",
                                     random_state=0)
    model = Pipeline([("smile", OpenSmileTransformer()),
                      ("msfl", MultitaskSERClassifier(max_epochs=5, random_state=0))])
    model.fit(files, y[["emotion", "language"]])
    return save_model(model, folder / "model.msfl"), Path(files[0])


def timed(command: list[str], package_root: Path, cwd: Path) -> dict[str, float]:
    """Wall and CPU seconds of one fresh process, and the load average when it started."""
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    load = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load": load}


def measure(trees: dict[str, Path], model: Path, wav: Path, repeats: int, cwd: Path) -> dict:
    """``{(variant, task): [run, ...]}``, the variants alternating in every repeat."""
    python = sys.executable
    tasks = {
        "predict": lambda: [python, "-m", "sklearn_msfl", "predict", str(model), str(wav)],
        "load_model": lambda: [python, "-c", LOAD_MODEL.format(model=str(model))],
    }
    runs: dict[tuple[str, str], list] = {}
    for repeat in range(repeats):
        for task, code in FLOOR.items():
            runs.setdefault(("-", task), []).append(timed([python, "-c", code], REPO_ROOT, cwd))
        for task, command in tasks.items():
            order = list(trees) if repeat % 2 == 0 else list(reversed(trees))
            for variant in order:
                runs.setdefault((variant, task), []).append(timed(command(), trees[variant], cwd))
        print(f"repeat {repeat + 1}/{repeats} done", flush=True)
    return runs


def report(runs: dict, args, command: str) -> str:
    lines = [
        "# `msfl predict` of one file: wall and CPU time",
        "",
        "Fresh processes, as a user runs them: `python -m sklearn_msfl predict MODEL FILE.wav` "
        "(one synthetic 1-1.5 s utterance, a small model trained on the synthetic corpus, "
        "IS10 features), `load_model` alone with the imports it needs, `import torch`, and "
        "the imports any prediction needs (the floor). "
        f"{args.repeats} repetitions, before and after alternating; the median and every "
        "run (wall s / CPU s, load average at its start). The machine has 2 cores shared "
        "with other jobs: at a load above 2, wall times are longer than on a quiet machine, "
        "and the CPU times (user + system) come closest to a quiet machine's wall time.",
        "",
        f"Command: `{command}`; CPU {cpu_model()}; load average "
        f"{min(run['load'] for rs in runs.values() for run in rs):.1f}-"
        f"{max(run['load'] for rs in runs.values() for run in rs):.1f}.",
        "",
        "| task | version | median wall s | median CPU s | runs (wall / CPU, load) |",
        "|---|---|---|---|---|",
    ]
    for (variant, task), task_runs in runs.items():
        cells = "; ".join(f"{r['wall']:.1f} / {r['cpu']:.1f} ({r['load']:.1f})"
                          for r in task_runs)
        lines.append(
            f"| {task} | {variant} | {statistics.median(r['wall'] for r in task_runs):.2f} | "
            f"{statistics.median(r['cpu'] for r in task_runs):.2f} | {cells} |"
        )
    if ("before", "predict") in runs:
        lines += ["", "Ratios after / before (median over the repetitions of the paired ratio):", ""]
        for task in ("predict", "load_model"):
            for key in ("wall", "cpu"):
                ratios = [a[key] / b[key] for a, b in
                          zip(runs["after", task], runs["before", task], strict=True)]
                lines.append(f"- {task}, {key}: {statistics.median(ratios):.2f}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    args = parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        model, wav = make_model(folder)
        trees = {"after": REPO_ROOT if args.after is None
                 else unpack(args.after, folder / "after")}
        if args.before is not None:
            trees = {"before": unpack(args.before, folder / "before"), **trees}
        empty = folder / "cwd"
        empty.mkdir()
        runs = measure(trees, model, wav, args.repeats, empty)
    text = report(runs, args, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
