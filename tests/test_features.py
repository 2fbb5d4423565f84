"""Tests for sklearn_msfl.features.OpenSmileTransformer."""

import pickle
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import audiofile
import audresample
import joblib
import numpy as np
import opensmile
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import sklearn_msfl.features._extraction as extraction
import sklearn_msfl.features._progress as progress
from sklearn_msfl.features import (
    MIN_DURATION_SECONDS,
    AudioError,
    AudioWarning,
    OpenSmileTransformer,
)

RATE = 16000
# A cheap set (88 features) for the tests that are not about a specific set.
SMALL_SET = "eGeMAPSv02"


def make_signal(frequency, seconds=0.5, rate=RATE, seed=0):
    """A noisy tone in [-1, 1], float32."""
    rng = np.random.default_rng(seed)
    time_axis = np.arange(int(seconds * rate)) / rate
    signal = 0.3 * np.sin(2 * np.pi * frequency * time_axis) + 0.05 * rng.standard_normal(
        time_axis.size
    )
    return signal.astype(np.float32)


def smile_reference(feature_set, **kwargs):
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set],
        feature_level=opensmile.FeatureLevel.Functionals,
        **kwargs,
    )


def relative_errors(values, reference):
    """Element-wise relative error, robust to features that are (near) zero."""
    scale = np.abs(reference) + 1e-3 * np.abs(reference).max()
    return np.abs(values - reference) / scale


@pytest.fixture(scope="module")
def corpus_files(corpora_dir):
    """One real 16 kHz mono FLAC file from each corpus."""
    files = [
        corpora_dir / "emodb" / "wav" / "03a01Fa.flac",
        sorted((corpora_dir / "ravdess" / "Actor_01").glob("*.flac"))[5],
        sorted((corpora_dir / "urdu" / "Sad").glob("*.flac"))[3],
    ]
    for file in files:
        assert file.is_file(), file
    return [str(file) for file in files]


@pytest.fixture(scope="module")
def wav_files(tmp_path_factory):
    """Six short 16 kHz mono wav files of two classes (low tone / high tone)."""
    folder = tmp_path_factory.mktemp("wav")
    files = []
    for index in range(6):
        path = folder / f"tone_{index}.wav"
        audiofile.write(str(path), make_signal(150 if index % 2 else 900, seed=index), RATE)
        files.append(str(path))
    return files


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Every kind of bad audio file, by name."""
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "missing": folder / "missing.wav",
        "zero_bytes": folder / "zero_bytes.wav",
        "corrupt": folder / "corrupt.flac",
        "no_samples": folder / "no_samples.wav",
        "too_short": folder / "too_short.wav",
    }
    files["zero_bytes"].write_bytes(b"")
    files["corrupt"].write_bytes(b"fLaC" + bytes(range(256)) * 4)
    audiofile.write(str(files["no_samples"]), np.zeros(0, np.float32), RATE)
    audiofile.write(str(files["too_short"]), make_signal(200, seconds=0.01), RATE)
    return {name: str(path) for name, path in files.items()}


# --------------------------------------------------------------------------- #
# Equality with opensmile
# --------------------------------------------------------------------------- #


@pytest.mark.corpora
def test_matches_opensmile_process_file_on_real_flac(corpus_files):
    smile = smile_reference("IS10")
    expected = np.vstack([smile.process_file(file).to_numpy() for file in corpus_files])

    result = OpenSmileTransformer().fit_transform(corpus_files)

    assert result.shape == (3, 1582)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, expected)


@pytest.mark.corpora
@pytest.mark.parametrize("rate", [44100, 48000])
def test_stereo_high_rate_wav_matches_16k_mono_original(corpus_files, tmp_path, rate):
    original, _ = audiofile.read(corpus_files[0])  # EmoDB, peak-normalised speech
    upsampled = audresample.resample(original[np.newaxis], RATE, rate)[0]
    path = str(tmp_path / f"stereo_{rate}.wav")
    audiofile.write(path, np.stack([upsampled, upsampled]), rate, bit_depth=16)

    result = OpenSmileTransformer().fit_transform([path])[0]

    # Same downmix + resample path inside opensmile: identical.
    same_path = smile_reference(
        "IS10", sampling_rate=RATE, resample=True, channels=[0, 1], mixdown=True
    )
    np.testing.assert_array_equal(result, same_path.process_file(path).to_numpy()[0])
    # Against the 16 kHz mono original: only resampling/requantisation noise.
    # (Half the amplitude, or a 6% rate error, gives a 90th percentile > 0.09.)
    errors = relative_errors(
        result, smile_reference("IS10").process_file(corpus_files[0]).to_numpy()[0]
    )
    assert np.median(errors) < 1e-3
    assert np.quantile(errors, 0.9) < 2e-2


def test_stereo_is_averaged_and_resampled_like_opensmile(tmp_path):
    left, right = make_signal(300, rate=44100, seed=1), make_signal(700, rate=44100, seed=2)
    path = str(tmp_path / "stereo.wav")
    audiofile.write(path, np.stack([left, right]), 44100)

    result = OpenSmileTransformer(feature_set=SMALL_SET).fit_transform([path])

    reference = smile_reference(
        SMALL_SET, sampling_rate=RATE, resample=True, channels=[0, 1], mixdown=True
    ).process_file(path)
    np.testing.assert_array_equal(result, reference.to_numpy())
    left_only = smile_reference(SMALL_SET, sampling_rate=RATE, resample=True).process_file(path)
    assert not np.allclose(result, left_only.to_numpy())


def test_signals_match_opensmile_process_signal():
    signals = [make_signal(200, seed=0), make_signal(400, seconds=0.7, seed=1)]
    smile = smile_reference(SMALL_SET)
    expected = np.vstack([smile.process_signal(s, RATE).to_numpy() for s in signals])

    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(signals)

    np.testing.assert_array_equal(transformer.transform(signals), expected)
    equal_length = np.stack([signals[0], make_signal(400, seed=1)])
    np.testing.assert_array_equal(transformer.transform(equal_length)[0], expected[0])
    # float64 input is taken as float32, like a sound file reader gives it.
    np.testing.assert_array_equal(
        transformer.transform([signals[0].astype(np.float64)])[0], expected[0]
    )
    # Integer PCM is scaled to [-1, 1).
    pcm = np.round(signals[0] * 32768).astype(np.int16)
    np.testing.assert_array_equal(
        transformer.transform([pcm]), transformer.transform([pcm / np.float32(32768)])
    )


def test_signal_frame_with_various_rates_is_resampled():
    signal_8k = make_signal(300, rate=8000)
    signal_16k = make_signal(500, seed=3)
    frame = pd.DataFrame(
        {"signal": [signal_8k, signal_16k], "sampling_rate": [8000, RATE], "speaker": ["a", "b"]}
    )
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(frame)

    result = transformer.transform(frame)

    upsampled = audresample.resample(signal_8k[np.newaxis], 8000, RATE)
    expected = transformer.transform([upsampled[0], signal_16k])
    np.testing.assert_array_equal(result, expected)
    # A (channels, samples) signal is averaged to mono.
    stereo = np.stack([signal_16k, make_signal(900, seed=4)])
    np.testing.assert_array_equal(
        transformer.transform([stereo]), transformer.transform([stereo.mean(axis=0)])
    )


# --------------------------------------------------------------------------- #
# Feature sets, names, parameters
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "feature_set, n_features",
    [("IS10", 1582), ("is09", 384), ("ComParE_2016", 6373), ("eGeMAPSv02", 88), ("emobase", 988)],
)
def test_feature_set_names_and_feature_names(feature_set, n_features):
    transformer = OpenSmileTransformer(feature_set=feature_set).fit(["any.wav"])

    names = transformer.get_feature_names_out()
    assert transformer.n_features_out_ == n_features == len(names)
    canonical = {name.lower(): name for name in opensmile.FeatureSet.__members__}[
        feature_set.lower()
    ]
    assert names.tolist() == smile_reference(canonical).feature_names


def test_unknown_feature_set_lists_valid_names():
    with pytest.raises(
        ValueError, match="Unknown feature_set 'IS99'.*ComParE_2016.*eGeMAPSv02.*IS10"
    ):
        OpenSmileTransformer(feature_set="IS99").fit(["a.wav"])


def test_custom_config_file_equals_named_set(tmp_path):
    config = Path(smile_reference(SMALL_SET).config_path)
    signal = [make_signal(250)]

    from_path = OpenSmileTransformer(feature_set=str(config)).fit(signal)

    named = OpenSmileTransformer(feature_set=SMALL_SET).fit(signal)
    np.testing.assert_array_equal(from_path.transform(signal), named.transform(signal))
    assert from_path.get_feature_names_out().tolist() == named.get_feature_names_out().tolist()
    # The cache key of a custom config depends on its content, not its name.
    assert from_path.extraction_settings_.digest() != named.extraction_settings_.digest()


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"on_error": "ignore"}, ValueError, "on_error must be one of"),
        ({"feature_level": "lld"}, ValueError, "one vector per item"),
        ({"feature_level": "frames"}, ValueError, "Unknown feature_level"),
        ({"sampling_rate": 0}, ValueError, "sampling_rate must be a positive integer"),
        ({"sampling_rate": 16000.0}, ValueError, "sampling_rate must be a positive integer"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be None or a non-zero integer"),
        ({"feature_set": 10}, TypeError, "feature_set must be"),
        ({"cache": 3}, TypeError, "cache must be None or a folder path"),
        ({"verbose": "always"}, ValueError, "verbose must be 'auto', True or False"),
    ],
)
def test_invalid_parameters_raise_at_fit(params, error, match):
    with pytest.raises(error, match=match):
        OpenSmileTransformer(**params).fit(["a.wav"])


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("a.wav", TypeError, "wrap a single path in a list"),
        ([], ValueError, "no audio items"),
        (np.zeros(16000), ValueError, "must be 2-D"),
        (pd.DataFrame({"path": ["a.wav"]}), ValueError, "'file' column"),
        ([3], TypeError, "Item 0 must be an audio file path or a signal"),
        (12, TypeError, "sequence of audio paths or signals"),
    ],
)
def test_invalid_input_formats(X, error, match):
    with pytest.raises(error, match=match):
        OpenSmileTransformer(feature_set=SMALL_SET).fit(X)


def test_path_containers_are_equivalent(wav_files):
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(wav_files)
    expected = transformer.transform(wav_files[:2])

    containers = [
        np.array(wav_files[:2]),
        pd.Series(wav_files[:2]),
        [Path(file) for file in wav_files[:2]],
        pd.DataFrame({"speaker": ["s1", "s2"], "file": wav_files[:2], "language": ["de", "en"]}),
    ]
    for container in containers:
        np.testing.assert_array_equal(transformer.transform(container), expected)


def test_transform_before_fit_raises(wav_files):
    with pytest.raises(NotFittedError):
        OpenSmileTransformer().transform(wav_files)
    with pytest.raises(NotFittedError):
        OpenSmileTransformer().get_feature_names_out()


def test_set_output_pandas_keeps_names_and_index(wav_files):
    frame = pd.DataFrame({"file": wav_files[:3], "speaker": ["a", "b", "c"]}, index=["x", "y", "z"])
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).set_output(transform="pandas")

    result = transformer.fit_transform(frame)

    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == transformer.get_feature_names_out().tolist()
    assert list(result.index) == ["x", "y", "z"]
    np.testing.assert_array_equal(
        result.to_numpy(), OpenSmileTransformer(feature_set=SMALL_SET).fit_transform(wav_files[:3])
    )


def test_verbose_shows_progress_bar(wav_files, capsys):
    OpenSmileTransformer(feature_set=SMALL_SET, verbose=True).fit_transform(wav_files[:2])

    assert "openSMILE eGeMAPSv02" in capsys.readouterr().err


def test_verbose_default_is_auto():
    assert OpenSmileTransformer().verbose == "auto"


@pytest.fixture
def one_second_threshold(monkeypatch):
    """``verbose="auto"`` shows a bar above 1 s of pending audio instead of 30 s."""
    monkeypatch.setattr(progress, "AUTO_PROGRESS_SECONDS", 1.0)


@pytest.mark.parametrize(
    "n_signals, verbose, shown",
    [
        (3, "auto", True),  # 1.5 s pending
        (1, "auto", False),  # 0.5 s pending
        (3, False, False),
        (1, True, True),
        (1, 1, True),
    ],
)
def test_auto_progress_bar_follows_pending_audio(one_second_threshold, capsys, n_signals,
                                                 verbose, shown):
    signals = [make_signal(200, seconds=0.5, seed=seed) for seed in range(n_signals)]

    OpenSmileTransformer(feature_set=SMALL_SET, verbose=verbose).fit_transform(signals)

    assert ("openSMILE eGeMAPSv02" in capsys.readouterr().err) == shown


def test_auto_progress_bar_measures_files_from_their_headers(wav_files, monkeypatch, capsys):
    smile = OpenSmileTransformer(feature_set=SMALL_SET).fit(wav_files)
    monkeypatch.setattr(progress, "AUTO_PROGRESS_SECONDS", 2.9)  # the six files hold 3.0 s
    smile.transform(wav_files)
    assert f"{len(wav_files)}/{len(wav_files)}" in capsys.readouterr().err

    monkeypatch.setattr(progress, "AUTO_PROGRESS_SECONDS", 3.1)
    smile.transform(wav_files)
    assert capsys.readouterr().err == ""


def test_auto_progress_bar_counts_only_items_not_in_the_cache(
    wav_files, tmp_path, one_second_threshold, capsys
):
    smile = OpenSmileTransformer(feature_set=SMALL_SET, cache=tmp_path)
    smile.fit_transform(wav_files[:4])  # 2.0 s pending: a bar
    assert "4/4" in capsys.readouterr().err

    smile.fit_transform(wav_files[:4])  # all cached
    assert capsys.readouterr().err == ""
    smile.fit_transform(wav_files[:5])  # one 0.5 s file pending
    assert capsys.readouterr().err == ""


def test_item_seconds_estimates_without_decoding(wav_files, tmp_path):
    assert progress.item_seconds(features_item(wav_files[0])) == pytest.approx(0.5)
    stereo = extraction.AudioItem(index=0, signal=np.zeros((2, 4000)), sampling_rate=8000)
    assert progress.item_seconds(stereo) == 0.5
    unknown = tmp_path / "clip.m4a"  # libsndfile cannot read it: size at 128 kbit/s
    unknown.write_bytes(b"\0" * 32000)
    assert progress.item_seconds(features_item(unknown)) == pytest.approx(2.0)
    assert progress.item_seconds(features_item(tmp_path / "missing.wav")) == 0.0


def features_item(path):
    return extraction.AudioItem(index=0, file=str(path), path=str(path))


# --------------------------------------------------------------------------- #
# Cloning, pickling, pipelines
# --------------------------------------------------------------------------- #


def test_clone_and_pickle(wav_files, tmp_path):
    transformer = OpenSmileTransformer(
        feature_set=SMALL_SET, n_jobs=1, cache=tmp_path, on_error="nan"
    ).fit(wav_files)

    cloned = clone(transformer)
    assert cloned.get_params() == transformer.get_params()
    assert not hasattr(cloned, "n_features_out_")

    restored = pickle.loads(pickle.dumps(transformer))
    assert restored.get_params() == transformer.get_params()
    np.testing.assert_array_equal(
        restored.transform(wav_files[:2]), transformer.transform(wav_files[:2])
    )


def test_pipeline_grid_search_on_corpus_frame(wav_files, tmp_path):
    # A corpus table: the extra columns flow through and are ignored.
    frame = pd.DataFrame(
        {
            "file": wav_files * 2,
            "speaker": [f"s{i}" for i in range(12)],
            "language": ["de", "en"] * 6,
        }
    )
    y = np.array([0, 1] * 6)  # tone_0, tone_2, ... are high tones
    pipeline = Pipeline(
        [
            ("smile", OpenSmileTransformer(feature_set=SMALL_SET, cache=tmp_path)),
            ("scale", StandardScaler()),
            ("svc", SVC()),
        ]
    )
    search = GridSearchCV(
        pipeline, {"svc__C": [0.1, 10.0]}, cv=StratifiedKFold(3), error_score="raise"
    )

    search.fit(frame, y)

    assert search.best_score_ == 1.0  # low vs high tones are trivially separable
    np.testing.assert_array_equal(search.predict(frame), y)
    # The cache holds one entry per distinct file content, all extracted once.
    assert len(list(tmp_path.rglob("*.npy"))) == len(wav_files)


# --------------------------------------------------------------------------- #
# Cache
# --------------------------------------------------------------------------- #


def forbid_extraction(monkeypatch):
    def fail(item, settings):
        raise AssertionError(f"{item.label} was extracted instead of read from the cache")

    monkeypatch.setattr(extraction, "extract_item", fail)


def test_cache_is_fast_and_keyed_by_content(wav_files, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    transformer = OpenSmileTransformer(feature_set="IS10", cache=cache).fit(wav_files)
    start = time.perf_counter()
    first = transformer.transform(wav_files)
    extraction_time = time.perf_counter() - start
    cached_times = []
    for _ in range(3):  # best of 3: a busy machine may pause any single run
        start = time.perf_counter()
        second = transformer.transform(wav_files)
        cached_times.append(time.perf_counter() - start)
    cached_time = min(cached_times)

    np.testing.assert_array_equal(second, first)
    assert cached_time * 10 <= extraction_time, (cached_time, extraction_time)
    assert not list(cache.rglob("*.tmp"))

    copy = tmp_path / "renamed copy.wav"
    copy.write_bytes(Path(wav_files[0]).read_bytes())
    with monkeypatch.context() as patch:
        forbid_extraction(patch)
        np.testing.assert_array_equal(transformer.transform([str(copy)]), first[:1])

    # Same path, new content: extracted again.
    copy.write_bytes(Path(wav_files[1]).read_bytes())
    np.testing.assert_array_equal(transformer.transform([str(copy)]), first[1:2])
    # Other settings: another key.
    with monkeypatch.context() as patch:
        forbid_extraction(patch)
        with pytest.raises(AssertionError, match="extracted instead of read"):
            OpenSmileTransformer(feature_set=SMALL_SET, cache=cache).fit_transform(wav_files[:1])


def test_cache_for_signals(tmp_path, monkeypatch):
    signals = [make_signal(300), make_signal(600, seed=5)]
    transformer = OpenSmileTransformer(feature_set=SMALL_SET, cache=tmp_path).fit(signals)
    first = transformer.transform(signals)

    with monkeypatch.context() as patch:
        forbid_extraction(patch)
        np.testing.assert_array_equal(transformer.transform([s.copy() for s in signals]), first)
        with pytest.raises(AssertionError, match="signal at index 0 was extracted"):
            transformer.transform([signals[0] * 0.5])


def test_cache_survives_a_new_process(wav_files, tmp_path):
    cache = tmp_path / "cache"
    expected = OpenSmileTransformer(feature_set=SMALL_SET, cache=cache).fit_transform(wav_files[:2])
    np.save(tmp_path / "expected.npy", expected)
    script = f"""
import sys
import numpy as np
import sklearn_msfl.features._extraction as extraction
# Fresh loky workers only import this module: keeping scikit-learn out of it
# saves about 2 s of start-up per worker.
assert "sklearn" not in sys.modules
from sklearn_msfl.features import OpenSmileTransformer

def fail(item, settings):
    raise AssertionError("extracted " + item.label)

extraction.extract_item = fail
transformer = OpenSmileTransformer(feature_set={SMALL_SET!r}, cache={str(cache)!r})
result = transformer.fit_transform({wav_files[:2]!r})
np.testing.assert_array_equal(result, np.load({str(tmp_path / "expected.npy")!r}))
print("cache hit")
"""
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )

    assert completed.returncode == 0, completed.stderr
    assert "cache hit" in completed.stdout


def test_corrupt_cache_entry_is_recomputed(wav_files, tmp_path):
    transformer = OpenSmileTransformer(feature_set=SMALL_SET, cache=tmp_path).fit(wav_files)
    expected = transformer.transform(wav_files[:1])
    (entry,) = tmp_path.rglob("*.npy")
    entry.write_bytes(b"not a numpy file")

    np.testing.assert_array_equal(transformer.transform(wav_files[:1]), expected)


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #

BAD_FILE_MESSAGES = {
    "missing": "file not found",
    "zero_bytes": "cannot read audio",
    "corrupt": "cannot read audio",
    "no_samples": r"audio is empty \(0 samples\)",
    "too_short": "audio too short for openSMILE",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILE_MESSAGES))
def test_bad_file_raises_naming_it(kind, bad_files, wav_files):
    X = [wav_files[0], bad_files[kind]]
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(X)

    with pytest.raises(AudioError, match=f"item 1 '.*{kind}.*': {BAD_FILE_MESSAGES[kind]}"):
        transformer.transform(X)


@pytest.mark.parametrize(
    "signal, message",
    [
        (
            np.zeros(100, np.float32),
            r"audio too short for openSMILE functionals \(100 samples, 0.006 s",
        ),
        (np.zeros(0, np.float32), "audio is empty"),
        (np.full(RATE, np.nan, np.float32), "signal contains NaN or infinite samples"),
        (np.full(RATE, 300.0), "float samples must lie in"),
        (np.array(["a", "b"]), "signal has non-numeric dtype"),
    ],
)
def test_bad_signal_raises_naming_its_index(signal, message):
    X = [make_signal(200), signal]
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(X)

    with pytest.raises(AudioError, match=f"signal at index 1: {message}"):
        transformer.transform(X)


def test_on_error_nan_gives_nan_rows_and_one_warning(bad_files, wav_files, tmp_path):
    X = [wav_files[0], *bad_files.values(), np.zeros(50, np.float32), wav_files[1]]
    transformer = OpenSmileTransformer(feature_set=SMALL_SET, on_error="nan", cache=tmp_path)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = transformer.fit_transform(X)

    audio_warnings = [w for w in caught if issubclass(w.category, AudioWarning)]
    assert len(audio_warnings) == 1
    assert not [w for w in caught if "Segment too short" in str(w.message)]
    message = str(audio_warnings[0].message)
    assert "6 of 8 audio items" in message
    for kind in bad_files:
        assert kind in message
    assert "signal at index 6" in message
    bad_rows = np.isnan(result).all(axis=1)
    assert bad_rows.tolist() == [False] + [True] * 6 + [False]
    assert np.isfinite(result[~bad_rows]).all()
    np.testing.assert_array_equal(
        result[[0, 7]], OpenSmileTransformer(feature_set=SMALL_SET).fit_transform([X[0], X[7]])
    )
    # Failures are not cached: only the two good files are.
    assert len(list(tmp_path.rglob("*.npy"))) == 2


# A 0.1 s signal gave 1250 of IS10's 1582 features exactly 0.0, silently.
@pytest.mark.parametrize("seconds", [0.1, MIN_DURATION_SECONDS - 0.01])
def test_audio_shorter_than_the_minimum_raises_naming_the_file(tmp_path, seconds):
    path = tmp_path / "short_clip.wav"
    audiofile.write(str(path), make_signal(200, seconds=seconds), RATE)

    with pytest.raises(AudioError, match=r"item 0 '.*short_clip.wav': audio too short for "
                       rf"openSMILE functionals \(.*; at least {MIN_DURATION_SECONDS} s"):
        OpenSmileTransformer().fit_transform([str(path)])


def test_minimum_duration_is_measured_after_resampling(tmp_path):
    # 0.25 s of 44.1 kHz stereo has more samples than 0.3 s at 16 kHz.
    short = np.stack([make_signal(200, seconds=0.25, rate=44100)] * 2)
    audiofile.write(str(tmp_path / "short.wav"), short, 44100)
    long_enough = np.stack([make_signal(200, seconds=MIN_DURATION_SECONDS, rate=44100)] * 2)
    audiofile.write(str(tmp_path / "ok.wav"), long_enough, 44100)
    smile = OpenSmileTransformer(feature_set=SMALL_SET)

    with pytest.raises(AudioError, match="short.wav': audio too short"):
        smile.fit_transform([str(tmp_path / "short.wav")])
    assert np.isfinite(smile.fit_transform([str(tmp_path / "ok.wav")])).all()


def test_short_audio_gives_a_nan_row_and_a_warning_naming_it(tmp_path):
    path = tmp_path / "short_clip.wav"
    audiofile.write(str(path), make_signal(200, seconds=0.1), RATE)
    X = [make_signal(900), str(path)]

    with pytest.warns(AudioWarning, match=r"1 of 2 .*\n  item 1 '.*short_clip.wav': audio too"):
        result = OpenSmileTransformer(on_error="nan").fit_transform(X)

    assert np.isfinite(result[0]).all()
    assert np.isnan(result[1]).all()


@pytest.mark.corpora
def test_speech_at_the_minimum_duration_has_few_zero_features(corpus_files):
    # The crops of benchmarks/short_audio.py: the middle of an utterance (speech).
    crops = []
    for file in corpus_files:
        signal, rate = audiofile.read(file)
        n_samples = round(MIN_DURATION_SECONDS * rate)
        start = (len(signal) - n_samples) // 2
        crops.append(signal[start : start + n_samples])

    features = OpenSmileTransformer().fit_transform(crops)  # IS10

    assert ((features == 0).mean(axis=1) < 0.10).all()


def test_audio_error_is_a_value_error():
    assert issubclass(AudioError, ValueError)
    assert issubclass(AudioWarning, UserWarning)


# --------------------------------------------------------------------------- #
# Parallel extraction
# --------------------------------------------------------------------------- #


def test_n_jobs_2_gives_identical_results_and_errors(wav_files, bad_files, tmp_path):
    sequential = OpenSmileTransformer(feature_set=SMALL_SET).fit_transform(wav_files)
    parallel = OpenSmileTransformer(feature_set=SMALL_SET, n_jobs=2).fit(wav_files)

    np.testing.assert_array_equal(parallel.transform(wav_files), sequential)

    # Worker processes write the cache concurrently, even the same entry.
    cached = clone(parallel).set_params(cache=tmp_path, on_error="nan").fit(wav_files)
    with pytest.warns(AudioWarning, match="1 of 9"):
        result = cached.transform(wav_files + wav_files[:2] + [bad_files["corrupt"]])
    np.testing.assert_array_equal(result[:6], sequential)
    assert np.isnan(result[8]).all()
    assert len(list(tmp_path.rglob("*.npy"))) == len(wav_files)
    assert not list(tmp_path.rglob("*.tmp"))

    # Last, because joblib restarts its worker pool after an error.
    with pytest.raises(AudioError, match="too_short.wav': audio too short"):
        parallel.transform(wav_files[:3] + [bad_files["too_short"]])


def _loky_workers() -> dict:
    """``{pid: torch imported?}`` of both workers of joblib's reusable two-worker pool."""

    def worker_state():  # local: pickled by value, so it imports nothing itself
        import os
        import sys
        import time

        time.sleep(0.1)  # keeps this worker busy, so that the other task meets the other
        return os.getpid(), "torch" in sys.modules

    workers = {}
    for _ in range(50):
        workers.update(joblib.Parallel(n_jobs=2)(joblib.delayed(worker_state)() for _ in "ab"))
        if len(workers) == 2:
            return workers
    raise AssertionError(f"met only the loky workers {sorted(workers)}")


def test_extraction_workers_warn_nothing_and_stay_free_of_torch(wav_files):
    smile = OpenSmileTransformer(feature_set=SMALL_SET, n_jobs=2).fit(wav_files)
    before = _loky_workers()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        smile.transform(wav_files)
    after = _loky_workers()

    assert [str(w.message) for w in caught] == []
    # The same two processes before and after: they are the ones that extracted.
    assert after.keys() == before.keys()
    assert not any(after.values())


def test_joblib_parallel_config_is_honoured(wav_files, monkeypatch):
    threads = set()
    original = extraction.extract_chunk

    def recording_extract_chunk(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(extraction, "extract_chunk", recording_extract_chunk)
    transformer = OpenSmileTransformer(feature_set=SMALL_SET).fit(wav_files)
    expected = transformer.transform(wav_files)
    assert threads == {threading.current_thread().name}  # n_jobs=None: in process

    threads.clear()
    with joblib.parallel_config(backend="threading", n_jobs=2):
        result = transformer.transform(wav_files)

    np.testing.assert_array_equal(result, expected)
    assert threading.current_thread().name not in threads
    assert len(threads) >= 1


def test_chunks_cover_every_item_once():
    for n_items, n_workers in [(1, 2), (7, 2), (200, 2), (1000, 4)]:
        chunks = progress.interleaved_chunks(n_items, n_workers)
        positions = sorted(position for chunk in chunks for position in chunk)
        assert positions == list(range(n_items))
        assert len(chunks) >= min(n_items, 2 * n_workers)
        assert max(len(chunk) for chunk in chunks) <= max(progress._MAX_CHUNK_SIZE, 1)


def test_parallel_bar_starts_at_once_and_takes_chunks_as_they_finish(
    wav_files, monkeypatch, one_second_threshold, capsys
):
    smile = OpenSmileTransformer(feature_set=SMALL_SET, n_jobs=2).fit(wav_files)
    expected = smile.transform(wav_files)  # loky workers; 3.0 s pending: a bar
    bar = capsys.readouterr().err
    assert "0/6" in bar and "6/6" in bar  # drawn before any chunk finished

    # The first of six one-item chunks waits until the bar has counted the
    # other five: that only ends if finished chunks are taken in any order.
    updates = []

    class RecordingBar(progress.tqdm):
        def update(self, n=1):
            super().update(n)
            updates.append(self.n)

    original = extraction.extract_chunk
    seen_by_first_chunk = []

    def first_chunk_waits(chunk, *args, **kwargs):
        if chunk[0][0].index == 0:
            deadline = time.monotonic() + 10
            while len(updates) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            seen_by_first_chunk.append(len(updates))
        return original(chunk, *args, **kwargs)

    monkeypatch.setattr(progress, "tqdm", RecordingBar)
    monkeypatch.setattr(extraction, "extract_chunk", first_chunk_waits)
    with joblib.parallel_config(backend="threading"):
        result = smile.transform(wav_files)

    np.testing.assert_array_equal(result, expected)  # rows back in input order
    assert seen_by_first_chunk == [5]
    assert updates == [1, 2, 3, 4, 5, 6]
