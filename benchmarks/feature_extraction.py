"""Benchmark: openSMILE extraction speed of OpenSmileTransformer vs a plain loop.

For each feature set, a fixed subset of the shared corpora (files evenly spaced
through each corpus, equally many per corpus) is extracted

* by a plain loop over ``opensmile.Smile.process_file`` (the reference),
* by ``OpenSmileTransformer(n_jobs=1)``,
* by ``OpenSmileTransformer(n_jobs=2)``, once with a fresh worker pool ("cold",
  includes starting the loky workers) and once with the pool joblib keeps
  between calls ("warm", as in a grid search or a second feature set),

all with the cache off. Speed is seconds of audio per second of wall time.
Every timing is repeated ``--repeats`` times, interleaved so that a burst of
load from other processes hits all variants alike; the table reports the
fastest run of each (the least disturbed one). The transformer's features are
checked to be identical to the plain loop's.

Goals: n_jobs=1 within 5% of the plain loop; n_jobs=2 at least 1.8x faster.

Usage::

    .venv/bin/python benchmarks/feature_extraction.py [--corpora DIR] [--n-files 200]

The corpora folder is ``--corpora``, else ``$MSFL_CORPORA``, else
``../shared/corpora`` relative to the repository. Results are written to
``benchmarks/results/feature_extraction.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import opensmile
import soundfile
from joblib.externals.loky import get_reusable_executor

import sklearn_msfl
from sklearn_msfl.features import OpenSmileTransformer

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "feature_extraction.md"
FEATURE_SETS = ("IS10", "ComParE_2016", "eGeMAPSv02")
CORPUS_GLOBS = {"emodb": "emodb/wav/*.flac", "ravdess": "ravdess/*/*.flac", "urdu": "urdu/*/*.flac"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None, help="shared corpora folder")
    parser.add_argument("--n-files", type=int, default=200, help="files in the subset")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant (best kept)")
    parser.add_argument("--feature-sets", nargs="+", default=list(FEATURE_SETS))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def find_corpora(option: Path | None) -> Path:
    for candidate in (option, os.environ.get("MSFL_CORPORA"), REPO_ROOT.parent / "shared" / "corpora"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    sys.exit("corpora not found: pass --corpora or set MSFL_CORPORA")


def select_files(corpora: Path, n_files: int) -> list[str]:
    """Equally many files per corpus, evenly spaced through each sorted listing."""
    per_corpus = np.array_split(np.arange(n_files), len(CORPUS_GLOBS))
    files = []
    for pattern, share in zip(CORPUS_GLOBS.values(), per_corpus):
        listing = sorted(corpora.glob(pattern))
        positions = np.linspace(0, len(listing) - 1, len(share)).round().astype(int)
        files += [str(listing[position]) for position in positions]
    return files


def total_duration(files: list[str]) -> float:
    return sum(soundfile.info(file).duration for file in files)


def warm_page_cache(files: list[str]) -> None:
    """Read every file once so that no variant pays for the first disk read."""
    for file in files:
        Path(file).read_bytes()


def plain_loop(files: list[str], feature_set: str) -> np.ndarray:
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set],
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    return np.vstack([smile.process_file(file).to_numpy() for file in files])


def transformer(files: list[str], feature_set: str, n_jobs: int) -> np.ndarray:
    return OpenSmileTransformer(feature_set=feature_set, n_jobs=n_jobs).fit_transform(files)


def shut_down_worker_pool() -> None:
    """Stop joblib's reusable loky workers, so the next n_jobs=2 run starts cold."""
    get_reusable_executor().shutdown(wait=True)


def children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's live children (the loky workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may contain spaces: split after its ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == os.getpid():  # ppid
            total += int(fields[11]) + int(fields[12])  # utime + stime, in ticks
    return total / os.sysconf("SC_CLK_TCK")


def timed(function, *args) -> tuple[float, float, float, np.ndarray]:
    """Return (wall s, this process's CPU s, its workers' CPU s, result)."""
    workers_start = children_cpu_seconds()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    result = function(*args)
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    return wall, cpu, children_cpu_seconds() - workers_start, result


def benchmark_feature_set(files, feature_set, repeats) -> dict[str, dict[str, float]]:
    # name -> (untimed setup, timed run)
    variants = {
        "plain loop": (None, lambda: plain_loop(files, feature_set)),
        "n_jobs=1": (None, lambda: transformer(files, feature_set, 1)),
        "n_jobs=2 cold": (shut_down_worker_pool, lambda: transformer(files, feature_set, 2)),
        "n_jobs=2 warm": (None, lambda: transformer(files, feature_set, 2)),
    }
    best = {name: {"wall": np.inf} for name in variants}
    reference = None
    for _ in range(repeats):
        for name, (setup, run) in variants.items():
            if setup is not None:
                setup()
            load_before = os.getloadavg()[0]
            wall, cpu, workers_cpu, features = timed(run)
            if reference is None:
                reference = features
            elif not np.array_equal(features, reference):
                raise AssertionError(f"{feature_set} {name}: features differ from the plain loop")
            print(
                f"  {feature_set:13s} {name:14s} {wall:7.2f} s  cpu {cpu:6.2f} s  "
                f"workers cpu {workers_cpu:6.2f} s  load {load_before:.2f}"
            )
            if wall < best[name]["wall"]:
                best[name] = {"wall": wall, "cpu": cpu + workers_cpu, "load": load_before}
    if np.isnan(reference).any():
        raise AssertionError(f"{feature_set}: NaN features in the benchmark subset")
    return best


def cpu_model() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def render_report(results, files, audio_seconds, args, loads, command) -> str:
    lines = [
        "# Feature extraction speed: OpenSmileTransformer vs plain opensmile loop",
        "",
        f"Subset: {len(files)} files ({len(files) // 3}-{-(-len(files) // 3)} evenly spaced "
        f"per corpus from EmoDB, RAVDESS, URDU; 16 kHz mono FLAC), "
        f"{audio_seconds:.1f} s of audio. Cache off. Speed = seconds of audio per "
        f"second of wall time (x real time); best of {args.repeats} interleaved runs.",
        "",
        "| feature set | plain loop | n_jobs=1 | n_jobs=1 / plain | n_jobs=2 warm | "
        "speed-up warm | n_jobs=2 cold | speed-up cold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for feature_set, best in results.items():
        plain = best["plain loop"]["wall"]

        def cell(name):
            wall = best[name]["wall"]
            return f"{audio_seconds / wall:.1f}x ({wall:.2f} s)"

        lines.append(
            f"| {feature_set} | {cell('plain loop')} | {cell('n_jobs=1')} | "
            f"{best['n_jobs=1']['wall'] / plain:.3f} | {cell('n_jobs=2 warm')} | "
            f"{plain / best['n_jobs=2 warm']['wall']:.2f}x | {cell('n_jobs=2 cold')} | "
            f"{plain / best['n_jobs=2 cold']['wall']:.2f}x |"
        )
    names = ("plain loop", "n_jobs=1", "n_jobs=2 warm", "n_jobs=2 cold")
    lines += [
        "",
        "CPU seconds (parent + workers) and cores kept busy (CPU s / wall s) in the "
        "same best runs. Fewer busy cores than processes means other processes took "
        "the cores; cold minus warm CPU is the workers' start-up cost:",
        "",
        "| feature set | " + " | ".join(names) + " |",
        "|---|---|---|---|---|",
    ]
    for feature_set, best in results.items():
        cells = [
            f"{best[name]['cpu']:.1f} s ({best[name]['cpu'] / best[name]['wall']:.2f})"
            for name in names
        ]
        lines.append(f"| {feature_set} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Machine and versions",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} available to this process)",
        f"- Load average (1 min) before / after the run: {loads[0]:.2f} / {loads[1]:.2f} "
        "(the machine is shared with other engineers' processes)",
        f"- Python {platform.python_version()}, opensmile {opensmile.__version__}, "
        f"numpy {np.__version__}, joblib {joblib.__version__}, "
        f"sklearn-msfl {sklearn_msfl.__version__}",
        f"- Command: `{command}`",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    corpora = find_corpora(args.corpora)
    files = select_files(corpora, args.n_files)
    audio_seconds = total_duration(files)
    warm_page_cache(files)
    print(f"{len(files)} files, {audio_seconds:.1f} s of audio from {corpora}")
    loads = [os.getloadavg()[0]]
    results = {
        feature_set: benchmark_feature_set(files, feature_set, args.repeats)
        for feature_set in args.feature_sets
    }
    loads.append(os.getloadavg()[0])
    shut_down_worker_pool()
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    report = render_report(results, files, audio_seconds, args, loads, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
