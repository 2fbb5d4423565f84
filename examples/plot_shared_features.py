"""
Multilingual shared features: what does the attention share across languages?
==============================================================================

MSFL's attention pooling gives every openSMILE feature a weight per utterance.
Averaged over utterances and ranked, these weights are the *multilingual shared
features* (MSFs): the features a model trained on several languages relies on.
This example reproduces the explanation half of the MSFL paper:

1. train MSFL on emotion (main task) and language (auxiliary task) and rank the
   MSFs, also grouped into families a person can read (pitch, loudness, MFCC,
   spectral, voice quality, ... x mean, range, slope, ...);
2. train one monolingual model per language, rank its features, and count how
   many of each language's top-k features are among the top-k MSFs;
3. check the attention against a model-agnostic importance (permutation
   importance of whole feature families on the same model);
4. plot the top MSFs, the family weights per language and the top-k overlaps.

By default it runs on the synthetic corpus of
:func:`~sklearn_msfl.datasets.make_emotional_speech`, where the truth is known:
pitch encodes emotion in every language (the shared cue), loudness only in
``qaa``, spectral tilt only in ``qab`` and voice quality only in ``qac``. Real
corpora have no such ground truth; pass ``--corpora`` (or set
``MSFL_CORPORA``) to run the same analysis on the paper's three corpora, EmoDB
(de), CASIA (zh) and SAVEE (en).

Run from the project root::

    python examples/plot_shared_features.py                    # synthetic, ~2 min
    python examples/plot_shared_features.py --corpora ../shared/corpora --quick

Tables are printed and figures saved to ``--output`` (default
``shared_features_output/``).
"""

# %%
# Setup
# -----
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from sklearn_msfl.corpora import default_corpora_dir
from sklearn_msfl.datasets import make_emotional_speech
from sklearn_msfl.explain import (
    compare_rankings,
    compare_with_permutation,
    family_weights,
    monolingual_rankings,
    plot_family_weights,
    plot_shared_features,
    plot_topk_overlap,
    shared_features,
)
from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.msfl import MultitaskSERClassifier

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 12)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "--corpora",
        type=Path,
        # $MSFL_CORPORA only (no ../shared/corpora fallback): without it the gallery shows
        # the synthetic corpus, whose cues are known.
        default=default_corpora_dir(),
        help="folder with emodb/, casia/, savee/ (default: $MSFL_CORPORA; none: synthetic)",
    )
    parser.add_argument("--quick", action="store_true", help="real corpora: a speaker subset")
    parser.add_argument("--n-samples", type=int, default=360, help="synthetic utterances")
    parser.add_argument("--feature-set", default=None,
                        help="openSMILE set (default: eGeMAPSv02 synthetic, IS10 real)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--top", type=int, default=20, help="features in the top-k plot")
    parser.add_argument("--cache", type=Path, default=Path(".msfl_cache"),
                        help="feature cache folder (default: .msfl_cache)")
    parser.add_argument("--output", type=Path, default=Path("shared_features_output"),
                        help="folder for the figures (default: shared_features_output)")
    # parse_known_args: sphinx-gallery runs this file with sphinx-build's own argv.
    return parser.parse_known_args(argv)[0]


def make_model(args) -> MultitaskSERClassifier:
    """MSFL at its defaults: every feature gets its own attention weight."""
    params = {"random_state": args.seed}
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    return MultitaskSERClassifier(**params)


# %%
# Data
# ----
# Synthetic signals with known cues, or the real corpora's files. Either way the
# pipeline takes audio: the openSMILE step extracts (and caches) the features.


def synthetic_data(args):
    corpus = make_emotional_speech(
        args.n_samples,
        duration=(1.0, 1.5),
        # As in the ground-truth tests: within one language the specific cue carries
        # about as much as pitch, pooled over the languages pitch dominates.
        cue_strength={"pitch": 0.7, "tilt": 1.5},
        return_bunch=True,
        random_state=args.seed,
    )
    print("cues:", corpus.cues)
    return corpus.data, corpus.target, args.feature_set or "eGeMAPSv02"


def real_data(args):
    from sklearn_msfl.corpora import DEFAULT_EMOTIONS, load_corpora, subset_speakers

    names = ("emodb", "casia", "savee")  # the paper's three corpora
    frame = load_corpora({name: Path(args.corpora) / name for name in names},
                         emotions=DEFAULT_EMOTIONS)
    if args.quick:
        frame = pd.concat(
            [subset_speakers(frame[frame["corpus"] == name], 4, largest=True) for name in names],
            ignore_index=True,
        )
    y = frame[["emotion_std", "language"]].rename(columns={"emotion_std": "emotion"})
    return frame[["file"]], y, args.feature_set or "IS10"


# %%
# Rankings, comparisons and figures
# ---------------------------------


def analyse(X, y, feature_set, args) -> None:
    args.output.mkdir(parents=True, exist_ok=True)
    targets = y[["emotion", "language"]]
    languages = y["language"].to_numpy()
    pipeline = Pipeline([
        ("smile", OpenSmileTransformer(feature_set=feature_set, cache=args.cache)),
        ("msfl", make_model(args)),
    ])

    start = time.perf_counter()
    pipeline.fit(X, targets)
    print(f"\nmultilingual model fitted in {time.perf_counter() - start:.0f} s")

    # The MSFs: attention averaged over all utterances, names from the openSMILE step.
    msf = shared_features(pipeline, X)
    print(f"\nTop {args.top} multilingual shared features\n")
    print(msf.head(args.top)[["rank", "feature", "weight", "lld_family",
                              "functional_family"]].to_string(index=False))
    print("\nAttention per LLD family (relative: mean weight / uniform weight)\n")
    print(family_weights(msf).round(4).to_string(index=False))

    # The paper's analysis: one monolingual model per language.
    start = time.perf_counter()
    per_language = monolingual_rankings(pipeline, X, targets, languages)
    print(f"\nmonolingual models fitted in {time.perf_counter() - start:.0f} s")
    print("\nOverlap of each language's top-k features with the top-k MSFs\n")
    print(compare_rankings(msf, per_language).round(3).to_string(index=False))
    table = family_weights(per_language).pivot(index="group", columns="lld_family",
                                               values="relative")
    print("\nRelative attention per LLD family in the monolingual models\n")
    print(table.round(2).to_string())

    # Does attention agree with a model-agnostic importance on the same model?
    comparison = compare_with_permutation(pipeline, X, targets, n_repeats=5,
                                          random_state=args.seed)
    print("\nAttention vs permutation importance (balanced accuracy drop) per LLD family\n")
    print(comparison.round(4).to_string(index=False))
    print(f"Spearman {comparison.attrs['spearman']:.2f}, "
          f"Kendall {comparison.attrs['kendall']:.2f}")

    save_figures(msf, per_language, args)


def save_figures(msf, per_language, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rankings = {"MSF": msf}
    rankings.update({group: frame for group, frame in per_language.groupby("group")})
    figures = {
        "top_shared_features.png": plot_shared_features(msf, k=args.top).figure,
        "family_weights.png": plot_family_weights(rankings).figure,
        "functional_weights.png": plot_family_weights(rankings, level="functional").figure,
        "topk_overlap.png": plot_topk_overlap(rankings, k=10).figure,
    }
    for name, figure in figures.items():
        figure.savefig(args.output / name, dpi=120)
        plt.close(figure)
    print(f"\nfigures saved in {args.output}/: {', '.join(figures)}")


def main(argv=None) -> int:
    args = parse_args(argv)
    X, y, feature_set = real_data(args) if args.corpora else synthetic_data(args)
    print(f"{len(y)} utterances; languages: {sorted(y['language'].unique())}; "
          f"features: {feature_set}")
    analyse(X, y, feature_set, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
