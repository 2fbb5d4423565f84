"""Robustness: bad features, bad labels, bad audio, large and interrupted extractions, divergence.

Every case ends either in a clear error that says what is wrong and where, or in
documented handling; none may crash deep inside torch or openSMILE.
"""

import os
import re
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile
from sklearn.model_selection import GroupKFold, cross_validate

from sklearn_msfl.features import AudioError, AudioWarning, OpenSmileTransformer, _extraction
from sklearn_msfl.metrics import uar_scorer
from sklearn_msfl.msfl import MultitaskSERClassifier

FAST = dict(hidden_size=4, shared_size=4, embedding_dim=4, patch_size=2, max_epochs=2,
            device="cpu", random_state=0)
RATE = 16000



def make_features(n=40, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(n, n_features)), columns=[f"f{i}" for i in range(n_features)])
    y = pd.DataFrame({"emotion": rng.choice(["anger", "joy", "sad"], n),
                      "language": rng.choice(["de", "en"], n)})
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = make_features()
    return MultitaskSERClassifier(**FAST).fit(X, y), X, y


# --------------------------------------------------------------------------- #
# Features and labels
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_features_are_located_in_fit_and_predict(fitted, value, kind):
    clf, X, y = fitted
    bad = X.copy()
    bad.iloc[[3, 7], 2] = value
    message = rf"X contains {kind} in 2 of 40 rows \(rows \[3, 7\]; features \['f2'\]\)"
    with pytest.raises(ValueError, match=message):
        MultitaskSERClassifier(**FAST).fit(bad, y)
    with pytest.raises(ValueError, match=message):
        clf.predict(bad)


def test_nan_rows_from_failed_extraction_point_to_on_error(fitted):
    clf, X, _ = fitted
    bad = X.copy()
    bad.iloc[5] = np.nan  # what OpenSmileTransformer(on_error="nan") gives a bad file
    with pytest.raises(ValueError, match=r"rows \[5\].*on_error='nan'.*drop or impute"):
        clf.predict_proba(bad)


def test_constant_feature_is_harmless():
    X, y = make_features()
    X["f3"] = 7.5
    clf = MultitaskSERClassifier(**FAST).fit(X, y)
    probabilities = clf.predict_proba(X)
    assert np.isfinite(probabilities).all()
    assert np.isfinite(clf.attention_weights(X)).all()
    assert clf.scaler_.scale_[3] == 1.0  # zero variance is not divided by


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_class_absent_from_a_training_fold_in_cross_validate():
    X, y = make_features(n=48)
    speakers = np.arange(48) % 4
    # "fear" is spoken by speaker 0 only: the fold that tests speaker 0 never trains on it.
    y.loc[speakers == 0, "emotion"] = "fear"
    scores = cross_validate(
        MultitaskSERClassifier(**FAST), X, y, groups=speakers, cv=GroupKFold(n_splits=4),
        scoring=uar_scorer, error_score="raise", return_estimator=True,
    )
    assert np.isfinite(scores["test_score"]).all()
    trained_classes = [set(model.classes_) for model in scores["estimator"]]
    assert {"anger", "joy", "sad"} in trained_classes  # one fold without "fear"
    assert {"anger", "fear", "joy", "sad"} in trained_classes


def test_auxiliary_task_left_with_one_class_in_a_fold_is_a_clear_error():
    X, y = make_features(n=40)
    speakers = np.arange(40) % 2
    y["language"] = np.where(speakers == 0, "de", "en")  # each fold trains on one language
    with pytest.raises(ValueError, match="task 'language' needs at least 2 classes"):
        cross_validate(MultitaskSERClassifier(**FAST), X, y, groups=speakers,
                       cv=GroupKFold(n_splits=2), error_score="raise")


def test_labels_unseen_at_fit_count_as_errors_in_score(fitted):
    clf, X, y = fitted
    predicted = clf.predict(X)
    y_test = y["emotion"].to_numpy().copy()
    y_test[:10] = "surprise"  # never seen in fit
    expected = np.mean(predicted[10:] == y_test[10:]) * 30 / 40
    assert clf.score(X, y_test) == pytest.approx(expected)
    assert clf.score(X, y.assign(emotion=y_test)) == pytest.approx(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
        assert 0 <= uar_scorer(clf, X, y_test) <= 1
    with pytest.raises(ValueError, match="Mix of label input types"):
        clf.score(X, np.arange(40))


def test_last_batch_of_one_sample_and_predict_on_one_sample():
    X, y = make_features(n=33)
    clf = MultitaskSERClassifier(**{**FAST, "batch_size": 32}).fit(X, y)
    assert [batch["train_batch_size"] for batch in clf.history_[-1, "batches"]] == [32, 1]
    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    one = clf.predict_proba(X.iloc[:1])
    assert one.shape == (1, 3)
    np.testing.assert_allclose(one, clf.predict_proba(X)[:1], rtol=1e-12)
    assert clf.predict(X.iloc[[5]]).shape == (1,)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_wrong_feature_count_and_shape_at_predict(fitted):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match="X has 5 features, but MultitaskSERClassifier is "
                                         "expecting 6 features"):
        clf.predict(X.to_numpy()[:, :5])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        clf.predict(X.to_numpy()[0])
    with pytest.raises(ValueError, match="0 sample"):
        clf.predict(X.to_numpy()[:0])


def test_diverging_training_stops_with_a_clear_message():
    X, y = make_features(n=40)
    start = time.perf_counter()
    with pytest.raises(FloatingPointError, match=r"Training diverged in epoch \d+.*smaller lr"):
        MultitaskSERClassifier(**{**FAST, "lr": 1e30, "max_epochs": 50}).fit(X, y)
    assert time.perf_counter() - start < 20  # stopped early, not after 50 epochs


# --------------------------------------------------------------------------- #
# Audio
# --------------------------------------------------------------------------- #


def tone(seconds=0.5, rate=RATE, seed=0):
    """A voiced-like test signal: a harmonic tone with a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (0.2 * np.sin(2 * np.pi * 150 * t) + 0.05 * np.sin(2 * np.pi * 300 * t)
            + 0.01 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio")
    soundfile.write(folder / "ok.wav", tone(), RATE)
    soundfile.write(folder / "silent.wav", np.zeros(RATE, np.float32), RATE)
    soundfile.write(folder / "short.wav", tone()[:100], RATE)
    soundfile.write(folder / "no_samples.wav", np.zeros(0, np.float32), RATE)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.wav").write_bytes(b"RIFF" + os.urandom(300))
    (folder / "notes.wav").write_text("not audio")
    with_nan = tone()
    with_nan[1000:1100] = np.nan
    soundfile.write(folder / "nan.wav", with_nan, RATE, subtype="FLOAT")
    (folder / "a_folder.wav").mkdir()
    return folder


BAD_FILES = {
    "corrupt.wav": "cannot read audio",
    "empty.wav": "cannot read audio",
    "notes.wav": "cannot read audio",
    "no_samples.wav": r"audio is empty \(0 samples\)",
    "short.wav": "audio too short for openSMILE",
    "nan.wav": "file contains NaN or infinite samples",
    "missing.wav": "file not found",
    "a_folder.wav": "is a folder, not an audio file",
}


@pytest.mark.parametrize("name, reason", BAD_FILES.items())
def test_bad_audio_raises_an_error_naming_the_file(audio_dir, name, reason):
    smile = OpenSmileTransformer(feature_set="eGeMAPSv02")
    files = [str(audio_dir / "ok.wav"), str(audio_dir / name)]
    with pytest.raises(AudioError, match=rf"item 1 '.*{re.escape(name)}': {reason}"):
        smile.fit_transform(files)


def test_bad_audio_becomes_nan_rows_with_one_warning(audio_dir):
    files = [str(audio_dir / "ok.wav")] + [str(audio_dir / name) for name in BAD_FILES]
    smile = OpenSmileTransformer(feature_set="eGeMAPSv02", on_error="nan")
    with pytest.warns(AudioWarning) as caught:
        features = smile.fit_transform(files)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"{len(BAD_FILES)} of {len(files)} audio items" in message
    assert all(name in message for name in BAD_FILES)
    assert np.isfinite(features[0]).all()
    assert np.isnan(features[1:]).all()


def test_silent_audio_gives_finite_features(audio_dir):
    features = OpenSmileTransformer(feature_set="eGeMAPSv02").fit_transform(
        [str(audio_dir / "silent.wav")])
    assert np.isfinite(features).all()


def test_very_long_audio(tmp_path):
    path = tmp_path / "long.wav"
    soundfile.write(path, np.tile(tone(1.0), 60), RATE)  # 60 s
    features = OpenSmileTransformer(feature_set="eGeMAPSv02").fit_transform([str(path)])
    assert features.shape == (1, 88) and np.isfinite(features).all()


def test_mixed_sampling_rates_and_channels_in_one_batch(tmp_path):
    mono = tone(1.0)
    files = {
        "mono16k.wav": (mono, RATE),
        "stereo16k.wav": (np.column_stack([mono, mono]), RATE),
        "stereo44k.wav": (np.column_stack([tone(1.0, 44100), tone(1.0, 44100, seed=1)]), 44100),
        "mono8k.wav": (tone(1.0, 8000), 8000),
        "mono48k.wav": (tone(1.0, 48000), 48000),
        "quad48k.wav": (np.tile(tone(1.0, 48000)[:, None], (1, 4)), 48000),
    }
    for name, (signal, rate) in files.items():
        soundfile.write(tmp_path / name, signal, rate)
    smile = OpenSmileTransformer(feature_set="eGeMAPSv02")
    features = smile.fit_transform([str(tmp_path / name) for name in files])
    assert features.shape == (6, 88) and np.isfinite(features).all()
    # Identical channels downmix to the mono signal exactly, at any rate.
    np.testing.assert_array_equal(features[0], features[1])
    np.testing.assert_array_equal(features[4], features[5])
    # Each row is the item's own: the same as extracting it alone.
    alone = smile.transform([str(tmp_path / "stereo44k.wav")])
    np.testing.assert_array_equal(features[2], alone[0])


def test_thousand_items_with_a_few_bad_finish_and_name_them(tmp_path):
    rng = np.random.default_rng(0)
    files = []
    for i in range(1000):
        path = tmp_path / f"utt{i:04d}.wav"
        # 0.3 s each: the shortest audio with meaningful functionals.
        soundfile.write(path, (0.1 * rng.standard_normal(4800)).astype(np.float32), RATE)
        files.append(str(path))
    bad = {17: "corrupt", 404: "missing", 777: "short", 999: "corrupt"}
    for index, kind in bad.items():
        if kind == "corrupt":
            (tmp_path / f"utt{index:04d}.wav").write_bytes(b"RIFFxxxxWAVE" + bytes(50))
        elif kind == "missing":
            (tmp_path / f"utt{index:04d}.wav").unlink()
        else:
            soundfile.write(tmp_path / f"utt{index:04d}.wav", np.zeros(50, np.float32), RATE)

    smile = OpenSmileTransformer(feature_set="IS09", on_error="nan")
    start = time.perf_counter()
    with pytest.warns(AudioWarning, match=r"4 of 1000 audio items") as caught:
        features = smile.fit_transform(files)
    seconds = time.perf_counter() - start
    message = str(caught[0].message)
    for index in bad:
        assert f"item {index} '{files[index]}'" in message
    assert sorted(np.flatnonzero(np.isnan(features).all(axis=1))) == sorted(bad)
    assert np.isfinite(np.delete(features, list(bad), axis=0)).all()
    assert seconds < 60


_EXTRACT_ITEM = _extraction.extract_item


class _CountingExtract:
    """Stands in for _extraction.extract_item: counts calls, optionally interrupts."""

    def __init__(self, interrupt_after=None):
        self.calls = 0
        self.interrupt_after = interrupt_after

    def __call__(self, item, settings):
        if self.interrupt_after is not None and self.calls == self.interrupt_after:
            raise KeyboardInterrupt
        self.calls += 1
        return _EXTRACT_ITEM(item, settings)


def _cache_files(folder):
    return sorted(folder.rglob("*.npy"))


@pytest.fixture(scope="module")
def twenty_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twenty")
    files = []
    for i in range(20):
        soundfile.write(folder / f"{i:02d}.wav", tone(0.3, seed=i), RATE)
        files.append(str(folder / f"{i:02d}.wav"))
    reference = OpenSmileTransformer(feature_set="IS09").fit_transform(files)
    return files, reference


def test_extraction_resumes_from_the_cache(twenty_files, tmp_path, monkeypatch):
    files, reference = twenty_files
    smile = OpenSmileTransformer(feature_set="IS09", cache=tmp_path / "cache")
    counter = _CountingExtract()
    monkeypatch.setattr(_extraction, "extract_item", counter)

    first = smile.fit_transform(files[:10])  # the first half, then "stopped"
    assert counter.calls == 10 and len(_cache_files(tmp_path / "cache")) == 10
    full = smile.fit_transform(files)
    assert counter.calls == 20  # only the other half was extracted
    assert len(_cache_files(tmp_path / "cache")) == 20
    np.testing.assert_array_equal(first, reference[:10])
    np.testing.assert_array_equal(full, reference)


def test_interrupted_extraction_keeps_what_it_finished(twenty_files, tmp_path, monkeypatch):
    files, reference = twenty_files
    smile = OpenSmileTransformer(feature_set="IS09", cache=tmp_path / "cache")
    monkeypatch.setattr(_extraction, "extract_item", _CountingExtract(interrupt_after=12))
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after 12 items
        smile.fit_transform(files)
    assert len(_cache_files(tmp_path / "cache")) == 12
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # no half-written entries

    counter = _CountingExtract()
    monkeypatch.setattr(_extraction, "extract_item", counter)
    np.testing.assert_array_equal(smile.fit_transform(files), reference)
    assert counter.calls == 8
