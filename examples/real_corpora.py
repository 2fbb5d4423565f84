"""Compare MSFL with the tuned SVM on the paper's three corpora, speaker independently.

The README's "Real corpora" example as a command-line script: loads EmoDB (German), CASIA
(Chinese) and SAVEE (English) with the four emotions they share, and cross-validates on the
same folds, with the openSMILE IS10 step inside both pipelines,

* ``SVM``: :func:`~sklearn_msfl.baselines.make_svm_baseline`, StandardScaler + RBF SVC with
  ``C`` and ``gamma`` tuned on inner speaker folds, trained on the emotion only, and
* ``MSFL``: :class:`~sklearn_msfl.msfl.MultitaskSERClassifier` (which standardises the
  features itself), trained on emotion (main task) and language (auxiliary task) with
  GradNorm,

with folds that test unseen speakers of every corpus (``CorpusSpeakerKFold(5)``).
:func:`~sklearn_msfl.evaluation.evaluate` extracts every file once, before the folds, with a
progress bar, and caches the features in ``--cache``. It prints UAR (unweighted average
recall) and WA (weighted accuracy) per language, pooled over the folds (± the spread over
folds), and a paired comparison of the two models over the folds.

Run from the project root::

    python examples/real_corpora.py                # the README's run, 1439 utterances
    python examples/real_corpora.py --quick        # 3 speakers per corpus, a smaller MSFL

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

from sklearn_msfl.baselines import make_svm_baseline
from sklearn_msfl.corpora import default_corpora_dir, load_corpora, subset_speakers
from sklearn_msfl.evaluation import evaluate
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.model_selection import CorpusSpeakerKFold

CORPORA = ("emodb", "casia", "savee")
# --quick: the largest speakers of each corpus, a few files per speaker and emotion
QUICK_SPEAKERS = 3
QUICK_FILES_PER_SPEAKER_EMOTION = 8
# --quick: a smaller, faster MSFL
QUICK_MSFL = {"hidden_size": 16, "patch_size": 64, "max_epochs": 15}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Speaker-independent comparison of MSFL and the tuned SVM on EmoDB, CASIA "
        "and SAVEE (UAR/WA per language), as in the README.",
    )
    parser.add_argument(
        "--corpora", type=Path, default=None,
        help="folder holding emodb/, casia/ and savee/ (default: $MSFL_CORPORA, else "
        "../shared/corpora next to the repository)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_SPEAKERS} speakers per corpus, 3 folds and a smaller MSFL (fast)",
    )  # fmt: skip
    parser.add_argument("--folds", type=int, default=None, help="folds (default 5, quick 3)")
    parser.add_argument(
        "--cache", type=Path, default=Path("feature-cache"),
        help="feature cache folder (default: feature-cache)",
    )  # fmt: skip
    parser.add_argument(
        "--epochs", type=int, default=None, help="MSFL training epochs (default: the estimator's)"
    )
    parser.add_argument(
        "--n-jobs", type=int, default=2,
        help="processes for the extraction and the folds (default: 2)",
    )  # fmt: skip
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
    frame = load_corpora({name: root / name for name in CORPORA})
    if not quick:
        return frame
    parts = [subset_speakers(frame[frame["corpus"] == name], QUICK_SPEAKERS, largest=True)
             for name in CORPORA]
    subset = pd.concat(parts, ignore_index=True)
    subset = subset.groupby(["speaker", "emotion_std"], sort=False)
    return subset.head(QUICK_FILES_PER_SPEAKER_EMOTION).reset_index(drop=True)


def build_estimators(args: argparse.Namespace, frame: pd.DataFrame) -> dict:
    """The README's two models, sharing one feature step (extracted once by evaluate)."""
    from sklearn_msfl.msfl import MultitaskSERClassifier

    msfl_params = {"random_state": args.seed, **(QUICK_MSFL if args.quick else {})}
    if args.epochs is not None:
        msfl_params["max_epochs"] = args.epochs
    smile = OpenSmileTransformer(cache=args.cache, n_jobs=args.n_jobs)
    return {
        "SVM": make_svm_baseline(frame[["corpus", "speaker"]], preprocessing=[smile]),
        "MSFL": make_pipeline(smile, MultitaskSERClassifier(**msfl_params)),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    frame = load_frame(corpora_folder(args.corpora), args.quick)
    print(f"{len(frame)} utterances, {frame['speaker'].nunique()} speakers:")
    print(frame.groupby(["corpus", "emotion_std"]).size().unstack().to_string(), "\n")

    start = time.perf_counter()
    folds = args.folds or (3 if args.quick else 5)
    # Emotion is the main task; the SVM gets that column only, MSFL both.
    result = evaluate(build_estimators(args, frame), frame, frame[["emotion_std", "language"]],
                      cv=CorpusSpeakerKFold(folds), n_jobs=args.n_jobs)
    print(f"\n{time.perf_counter() - start:.0f} s. UAR and WA (%) per language, pooled over "
          "the speaker-independent folds (± std over folds)\n")
    print(result.to_markdown())
    times = result.summary().xs("all", level="language")[["fit_time", "predict_time"]]
    print("\nmean seconds per fold\n", times.round(2).to_string(), sep="")
    print()
    print(result.compare("MSFL", "SVM"))
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
