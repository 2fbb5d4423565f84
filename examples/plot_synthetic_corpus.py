"""
The synthetic multilingual emotional speech corpus
==================================================

:func:`~sklearn_msfl.datasets.make_emotional_speech` synthesises a small corpus
with a source-filter model, so that examples, tests and this documentation run
offline and in seconds. Three made-up languages (``qaa``, ``qab``, ``qac``)
differ in their sounds, rhythm and intonation; each has its own speakers. Emotion
changes the prosody through *cues*: by default pitch encodes the emotion in every
language (the shared cue), while loudness does so only in ``qaa``, spectral tilt
only in ``qab`` and voice quality (jitter, shimmer) only in ``qac``.

This example looks at the signals and at two openSMILE features that the model
will see: the mean F0 (pitch) and the mean loudness of every utterance.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.signal import spectrogram

from sklearn_msfl import OpenSmileTransformer, make_emotional_speech

# %%
# Generate the corpus
# -------------------
# ``return_bunch=True`` also returns the cue assignment and the prosodic
# parameters each utterance was synthesised with.
corpus = make_emotional_speech(
    96, n_speakers_per_language=2, duration=(1.0, 1.5), return_bunch=True, random_state=0
)
signals, labels = corpus.data, corpus.target
print(labels.head())
print("cues:", corpus.cues)

# %%
# One speaker, four emotions
# --------------------------
# Waveforms and spectrograms of one utterance per emotion by the same speaker.
# Anger and happiness are higher and louder, sadness is lower, softer and slower.
speaker = labels["speaker"].iloc[0]
emotions = list(corpus.emotions)
fig, axes = plt.subplots(2, len(emotions), figsize=(12, 5), sharey="row")
for column, emotion in enumerate(emotions):
    index = labels.index[(labels["speaker"] == speaker) & (labels["emotion"] == emotion)][0]
    signal = signals[index]
    time = np.arange(len(signal)) / corpus.sampling_rate
    axes[0, column].plot(time, signal, linewidth=0.4)
    axes[0, column].set_title(emotion)
    frequencies, times, power = spectrogram(signal, fs=corpus.sampling_rate, nperseg=512,
                                            noverlap=384)
    axes[1, column].pcolormesh(times, frequencies / 1000, 10 * np.log10(power + 1e-12),
                               shading="auto", vmin=-110, vmax=-40)
    axes[1, column].set_ylim(0, 5)
    axes[1, column].set_xlabel("time (s)")
axes[0, 0].set_ylabel("amplitude")
axes[1, 0].set_ylabel("frequency (kHz)")
fig.suptitle(f"Speaker {speaker}")
fig.tight_layout()

# %%
# Pitch is shared, loudness is specific
# -------------------------------------
# The eGeMAPS feature set (88 functionals) is quick to extract. Mean F0 moves
# with the emotion in all three languages; mean loudness only in ``qaa``, where
# it is that language's own cue (elsewhere it varies as much, but at random).
smile = OpenSmileTransformer(feature_set="eGeMAPSv02")
features = pd.DataFrame(smile.fit_transform(signals), columns=smile.get_feature_names_out())
columns = {"mean F0 (semitones)": "F0semitoneFrom27.5Hz_sma3nz_amean",
           "mean loudness (sone)": "loudness_sma3_amean"}
languages = list(corpus.languages)

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
width = 0.8 / len(languages)
for ax, (title, column) in zip(axes, columns.items()):
    for k, language in enumerate(languages):
        in_language = labels["language"] == language
        values = [features.loc[in_language & (labels["emotion"] == e), column] for e in emotions]
        positions = np.arange(len(emotions)) + (k - (len(languages) - 1) / 2) * width
        parts = ax.boxplot(values, positions=positions, widths=width * 0.9, patch_artist=True,
                           showfliers=False)
        for patch in parts["boxes"]:
            patch.set_facecolor(f"C{k}")
            patch.set_alpha(0.6)
        ax.plot([], [], "s", color=f"C{k}", alpha=0.6, label=language)
    ax.set_xticks(range(len(emotions)), emotions)
    ax.set_title(title)
axes[0].legend(title="language")
fig.tight_layout()
plt.show()
