"""Compare MSFL with an SVM baseline on real corpora, speaker independently.

Loads EmoDB (German), RAVDESS (English) and URDU (Urdu) with the four emotions they share,
extracts IS10 openSMILE functionals once (cached on disk), and cross-validates on the same
folds

* ``svm``: StandardScaler + SVC (RBF), the classic single-task baseline, and
* ``msfl``: MultitaskSERClassifier (which standardises the features itself), trained on
  emotion (main task) and language (auxiliary task) with GradNorm,

with folds that test unseen speakers of every corpus (CorpusSpeakerKFold). It prints UAR
(unweighted average recall) and WA (weighted accuracy) per language and overall, mean ± std
over folds, and a paired comparison of the two models over the folds.

Run from the project root::

    python examples/real_corpora.py --quick        # a few speakers per corpus, ~minutes
    python examples/real_corpora.py --folds 5      # all speakers

The corpora folder is ``--corpora``, else ``$MSFL_CORPORA``, else ``../shared/corpora`` next to
the repository (:func:`~sklearn_msfl.corpora.default_corpora_dir`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_msfl.corpora import (
    DEFAULT_EMOTIONS,
    default_corpora_dir,
    load_corpora,
    subset_speakers,
)
from sklearn_msfl.evaluation import evaluate
from sklearn_msfl.features import OpenSmileTransformer

CORPORA = ("emodb", "ravdess", "urdu")
# --quick: the largest speakers of each corpus; URDU speakers mostly speak a single emotion,
# so it needs more of them for all four emotions to occur.
QUICK_SPEAKERS = {"emodb": 3, "ravdess": 3, "urdu": 6}
QUICK_FILES_PER_SPEAKER_EMOTION = 8
# --quick: a smaller, faster MSFL (99 LSTM steps of 16 features instead of 396 of 4)
QUICK_MSFL = {"hidden_size": 16, "patch_size": 16, "max_epochs": 15}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Speaker-independent comparison of MSFL and an SVM baseline on EmoDB, "
        "RAVDESS and URDU (UAR/WA per language).",
    )
    parser.add_argument(
        "--corpora",
        type=Path,
        default=None,
        help="folder holding emodb/, ravdess/ and urdu/ (default: $MSFL_CORPORA, else "
        "../shared/corpora next to the repository)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small speaker subset and a smaller MSFL (fast)"
    )
    parser.add_argument("--folds", type=int, default=None, help="folds (default 5, quick 3)")
    parser.add_argument(
        "--cache", type=Path, default=Path(".msfl_cache"),
        help="feature cache folder (default: .msfl_cache)",
    )  # fmt: skip
    parser.add_argument(
        "--epochs", type=int, default=None, help="MSFL training epochs (default: the estimator's)"
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="feature extraction processes (default: 1)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of MSFL (default: 0)")
    parser.add_argument(
        "--plots", type=Path, default=None, help="save figures to this folder (needs matplotlib)"
    )
    return parser.parse_args(argv)


def corpora_folder(option: Path | None) -> Path | None:
    """``--corpora``, else the library's rule: ``$MSFL_CORPORA``, else ``../shared/corpora``."""
    if option is not None:
        return option
    return default_corpora_dir(fallback=Path(__file__).resolve().parents[1].parent / "shared"
                               / "corpora")


def load_frame(root: Path | None, quick: bool) -> pd.DataFrame:
    """The utterances of the shared emotions, or a small speaker subset with ``quick``."""
    if root is None or not root.is_dir():
        sys.exit(f"corpora folder not found: {root} (use --corpora or set MSFL_CORPORA)")
    frame = load_corpora({name: root / name for name in CORPORA}, emotions=DEFAULT_EMOTIONS)
    if not quick:
        return frame
    parts = [
        subset_speakers(frame[frame["corpus"] == name], n, largest=True)
        for name, n in QUICK_SPEAKERS.items()
    ]
    subset = pd.concat(parts, ignore_index=True)
    subset = subset.groupby(["speaker", "emotion_std"], sort=False)
    return subset.head(QUICK_FILES_PER_SPEAKER_EMOTION).reset_index(drop=True)


def build_estimators(args: argparse.Namespace) -> dict:
    from sklearn_msfl.msfl import MultitaskSERClassifier

    msfl_params = {"random_state": args.seed, **(QUICK_MSFL if args.quick else {})}
    if args.epochs is not None:
        msfl_params["max_epochs"] = args.epochs
    return {
        "svm": make_pipeline(StandardScaler(), SVC()),
        "msfl": MultitaskSERClassifier(**msfl_params),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    frame = load_frame(corpora_folder(args.corpora), args.quick)
    print(f"{len(frame)} utterances, {frame['speaker'].nunique()} speakers:")
    print(frame.groupby(["corpus", "emotion_std"]).size().unstack().to_string(), "\n")

    start = time.perf_counter()
    smile = OpenSmileTransformer(
        feature_set="IS10", cache=args.cache, n_jobs=args.n_jobs, verbose=True
    )
    X = smile.fit_transform(frame)
    print(f"IS10 features {X.shape} in {time.perf_counter() - start:.0f} s\n")

    y = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
    folds = args.folds or (3 if args.quick else 5)
    result = evaluate(
        build_estimators(args), X, y, groups=frame[["corpus", "speaker"]], cv=folds
    )
    print("\nUAR and WA (%), mean ± std over speaker-independent folds\n")
    print(result.to_markdown())
    times = result.summary().xs("all", level="language")[["fit_time", "predict_time"]]
    print("\nmean seconds per fold\n", times.round(2).to_string(), sep="")
    print()
    print(result.compare("msfl", "svm"))
    if args.plots is not None:
        save_plots(result, args.plots)
    return 0


def save_plots(result, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result.plot_confusion_matrices().savefig(folder / "confusion_matrices.png", dpi=120)
    result.plot_languages().figure.savefig(folder / "uar_per_language.png", dpi=120)
    print(f"figures saved in {folder}")


if __name__ == "__main__":
    raise SystemExit(main())
