"""Measurement: how short can speech be for openSMILE functionals to mean something?

openSMILE computes its functionals over frames (10 ms apart, windows of 25-60 ms).
On a very short signal several functionals have too few frames and come out as
exactly 0.0, the same for every input, yet openSMILE returns them without a
warning. This script crops real speech from the shared corpora (files evenly
spaced through EmoDB, CASIA and SAVEE) to durations from 0.05 s to 1 s, once
around the middle of each utterance and once from its start, extracts the
functionals of each feature set with plain ``opensmile.Smile`` (no minimum
duration applied), and reports per duration:

* ``zero %``: the share of feature values exactly 0.0, mean over crops;
* ``extra zero %``: the share of features exactly 0.0 in the crop but not in
  the whole utterance, i.e. zeros caused by the crop being short;
* ``constant %``: the share of features equal across all crops of that
  duration (they carry no information about the input);
* ``failed %``: the share of crops for which openSMILE gave no numbers at all.

:data:`sklearn_msfl.features.MIN_DURATION_SECONDS` is the shortest duration at
which, on the middle crops (speech) of every feature set, no more features are
constant than in whole utterances (+0.1 percentage points) and fewer than 10% of
the values are zeros caused by the crop; the report computes that duration.

Usage::

    .venv/bin/python benchmarks/short_audio.py [--corpora DIR] [--n-files 30]

Results are written to ``benchmarks/results/short_audio.md``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import warnings
from pathlib import Path

import audiofile
import numpy as np
import opensmile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402  (shared by the benchmark scripts)

from sklearn_msfl.corpora import default_corpora_dir
from sklearn_msfl.features import MIN_DURATION_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "short_audio.md"
FEATURE_SETS = ("IS10", "eGeMAPSv02", "ComParE_2016")
CORPUS_GLOBS = {"emodb": "emodb/wav/*.flac", "casia": "casia/*/*/*.flac", "savee": "savee/*.flac"}
DURATIONS = (0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)
POSITIONS = ("middle", "start")
# The criterion for meaningful functionals, on speech (middle crops).
MAX_EXTRA_CONSTANT = 0.1  # percentage points above whole utterances
MAX_EXTRA_ZERO = 10.0  # percent of the values


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None, help="shared corpora folder")
    parser.add_argument("--n-files", type=int, default=30, help="utterances (split over corpora)")
    parser.add_argument("--feature-sets", nargs="+", default=list(FEATURE_SETS))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def select_files(corpora: Path, n_files: int) -> list[Path]:
    """Equally many files per corpus, evenly spaced through each sorted listing."""
    files = []
    for pattern, share in zip(
        CORPUS_GLOBS.values(), np.array_split(np.arange(n_files), len(CORPUS_GLOBS)), strict=True
    ):
        listing = sorted(corpora.glob(pattern))
        positions = np.linspace(0, len(listing) - 1, len(share)).round().astype(int)
        files += [listing[position] for position in positions]
    return files


def crop(signal: np.ndarray, n_samples: int, position: str) -> np.ndarray:
    start = 0 if position == "start" else max((signal.shape[-1] - n_samples) // 2, 0)
    return signal[:, start : start + n_samples]


def functionals(smile: opensmile.Smile, signal: np.ndarray, rate: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Segment too short": we count the NaN rows
        return smile(signal, rate)[0, :, 0]


def measure(smile, signals, rate) -> dict[tuple[str, float], dict[str, float]]:
    """The four shares (in %) per (position, duration), plus the whole utterances'."""
    whole = np.array([functionals(smile, signal, rate) for signal in signals])
    rows = {("whole", 0.0): _shares(whole, whole)}
    for position in POSITIONS:
        for duration in DURATIONS:
            n_samples = round(duration * rate)
            crops = np.array(
                [functionals(smile, crop(signal, n_samples, position), rate) for signal in signals]
            )
            rows[position, duration] = _shares(crops, whole)
    return rows


def _shares(features: np.ndarray, whole: np.ndarray) -> dict[str, float]:
    failed = np.isnan(features).all(axis=1)
    ok, ok_whole = features[~failed], whole[~failed]
    if not len(ok):
        return {"zero": np.nan, "extra": np.nan, "constant": np.nan, "failed": 100.0}
    return {
        "zero": 100 * (ok == 0).mean(),
        "extra": 100 * ((ok == 0) & (ok_whole != 0)).mean(),
        "constant": 100 * (np.ptp(ok, axis=0) == 0).mean(),
        "failed": 100 * failed.mean(),
    }


def shortest_meaningful(rows) -> float:
    """The shortest middle-crop duration from which on every longer one meets the criterion."""
    whole_constant = rows["whole", 0.0]["constant"]
    shortest = np.inf
    for duration in sorted(DURATIONS, reverse=True):
        shares = rows["middle", duration]
        if not (
            shares["failed"] == 0
            and shares["constant"] <= whole_constant + MAX_EXTRA_CONSTANT
            and shares["extra"] < MAX_EXTRA_ZERO
        ):
            break
        shortest = duration
    return shortest


def table(name: str, n_features: int, rows) -> list[str]:
    lines = [
        f"### {name} ({n_features} features)",
        "",
        "| duration | crop | zero % | extra zero % | constant % | failed % |",
        "|---|---|---|---|---|---|",
    ]
    for (position, duration), shares in rows.items():
        label = "whole utterance" if position == "whole" else f"{duration:g} s"
        cells = " | ".join(
            "-" if np.isnan(shares[key]) else f"{shares[key]:.1f}"
            for key in ("zero", "extra", "constant", "failed")
        )
        lines.append(f"| {label} | {position if position != 'whole' else ''} | {cells} |")
    return lines


def main(argv=None) -> None:
    args = parse_args(argv)
    corpora = args.corpora or default_corpora_dir(fallback=REPO_ROOT.parent / "shared" / "corpora")
    if corpora is None or not Path(corpora).is_dir():
        sys.exit("corpora not found: pass --corpora or set MSFL_CORPORA")
    files = select_files(Path(corpora), args.n_files)
    loaded = [audiofile.read(str(file), always_2d=True) for file in files]
    rate = loaded[0][1]
    if any(file_rate != rate for _, file_rate in loaded):
        sys.exit("the selected files have different sampling rates")
    signals = [signal for signal, _ in loaded]
    lines = [
        "# Shortest audio for meaningful openSMILE functionals",
        "",
        f"{len(files)} utterances, evenly spaced through the sorted listings of "
        f"{', '.join(CORPUS_GLOBS)} ({rate} Hz mono), cropped to each duration around "
        "the middle of the utterance (speech) and from its start (often leading "
        "silence). Plain `opensmile.Smile` functionals, no minimum duration. zero %: "
        "feature values exactly 0.0 (mean over crops); extra zero %: exactly 0.0 in "
        "the crop but not in the whole utterance; constant %: features equal across "
        "all crops of a duration; failed %: crops for which openSMILE returned only "
        "NaN. Shares of the crops openSMILE did not fail on.",
        "",
        f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`; "
        f"opensmile {opensmile.__version__}; CPU {cpu_model()}; "
        f"load average at the start {os.getloadavg()[0]:.1f}.",
        "",
    ]
    shortest = {}
    for name in args.feature_sets:
        smile = opensmile.Smile(opensmile.FeatureSet[name], opensmile.FeatureLevel.Functionals)
        rows = measure(smile, signals, rate)
        shortest[name] = shortest_meaningful(rows)
        lines += [*table(name, len(smile.feature_names), rows), ""]
        print("\n".join(lines[-len(rows) - 5 :]), flush=True)
    lines += [
        "## Threshold",
        "",
        f"Criterion, on the middle crops (speech): at most {MAX_EXTRA_CONSTANT} percentage "
        "points more constant features than in whole utterances, and extra zero % below "
        f"{MAX_EXTRA_ZERO:g}, at that duration and every longer one. Shortest such duration: "
        + ", ".join(f"{name} {value:g} s" for name, value in shortest.items())
        + f"; all sets: {max(shortest.values()):g} s. "
        f"`sklearn_msfl.features.MIN_DURATION_SECONDS` = {MIN_DURATION_SECONDS} s: "
        "`OpenSmileTransformer` refuses shorter audio (AudioError, or a NaN row and an "
        'AudioWarning with `on_error="nan"`).',
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
