"""Tests for sklearn_msfl.features._feature_table: features extracted once, found again by content."""

import os
import threading

import audiofile
import numpy as np
import pytest

import sklearn_msfl.features._extraction as extraction
from sklearn_msfl.features import _feature_table
from sklearn_msfl.features import AudioError, AudioWarning, OpenSmileTransformer, extract_table

RATE = 16000
SMALL_SET = "eGeMAPSv02"


def tone(frequency, seconds=0.5, seed=0):
    rng = np.random.default_rng(seed)
    time_axis = np.arange(int(seconds * RATE)) / RATE
    signal = 0.3 * np.sin(2 * np.pi * frequency * time_axis)
    return (signal + 0.05 * rng.standard_normal(time_axis.size)).astype(np.float32)


@pytest.fixture
def files(tmp_path):
    paths = []
    for index, frequency in enumerate([150, 300, 600, 900]):
        path = tmp_path / f"tone_{index}.wav"
        audiofile.write(str(path), tone(frequency, seed=index), RATE)
        paths.append(str(path))
    return paths


@pytest.fixture
def extracted(monkeypatch):
    """The items openSMILE is run on, in this process."""
    items = []
    original = extraction.extract_item

    def counting(item, settings):
        items.append(item.file or f"signal {item.index}")
        return original(item, settings)

    monkeypatch.setattr(extraction, "extract_item", counting)
    return items


def test_rows_are_found_by_content_in_any_order(files, extracted):
    smile = OpenSmileTransformer(feature_set=SMALL_SET)
    table = extract_table([smile], files, verbose=False)
    assert sorted(extracted) == sorted(files)
    expected = smile.fit_transform(files)
    extracted.clear()
    with _feature_table.active(table):
        found = clone_fit_transform(smile, files[::-1])
    assert extracted == []
    np.testing.assert_array_equal(found, expected[::-1])
    # Outside the context the table is not consulted.
    clone_fit_transform(smile, files[:1])
    assert extracted == files[:1]


def clone_fit_transform(smile, X):
    return OpenSmileTransformer(**smile.get_params()).fit_transform(X)


def test_equal_settings_share_one_extraction(files, extracted):
    steps = [OpenSmileTransformer(feature_set=SMALL_SET, n_jobs=1),
             OpenSmileTransformer(feature_set=SMALL_SET.lower(), verbose=False),
             OpenSmileTransformer(feature_set="IS09")]
    table = extract_table(steps, files, verbose=False)
    assert len(extracted) == 2 * len(files)  # eGeMAPSv02 once, IS09 once
    assert len(table.features) == 2


def test_altered_copies_are_extracted_with_their_own_content(files, extracted, tmp_path):
    smile = OpenSmileTransformer(feature_set=SMALL_SET)
    table = extract_table([smile], files, verbose=False)
    original = smile.fit_transform(files[:1])
    louder = 0.5 * audiofile.read(files[0])[0]  # an augmented copy, in memory
    extracted.clear()
    with _feature_table.active(table):
        from_signal = clone_fit_transform(smile, [louder])
        # The same file rewritten in place with other audio: hashed and extracted again.
        audiofile.write(files[0], tone(2000, seconds=0.7), RATE)
        rewritten = clone_fit_transform(smile, files[:1])
    assert extracted == ["signal 0", files[0]]
    assert not np.array_equal(from_signal, original)
    assert not np.array_equal(rewritten, original)
    np.testing.assert_array_equal(rewritten, smile.fit_transform(files[:1]))


def test_an_unchanged_file_is_hashed_once(files, monkeypatch):
    smile = OpenSmileTransformer(feature_set=SMALL_SET)
    table = extract_table([smile], files, verbose=False)
    hashed = []
    monkeypatch.setattr(_feature_table, "item_digest",
                        lambda item: hashed.append(item.path) or extraction.item_digest(item))
    with _feature_table.active(table):
        clone_fit_transform(smile, files)
    assert hashed == []
    os.utime(files[1], ns=(0, 0))  # touched: hashed again, same content, same row
    with _feature_table.active(table):
        clone_fit_transform(smile, files)
    assert hashed == [files[1]]


def test_bad_items_are_remembered_and_named_where_they_stand(files, tmp_path, extracted):
    short = str(tmp_path / "short.wav")
    audiofile.write(short, tone(200, seconds=0.01), RATE)
    smile = OpenSmileTransformer(feature_set=SMALL_SET, on_error="nan")
    with pytest.warns(AudioWarning, match="1 of 5"):
        table = extract_table([smile], files + [short], verbose=False)
    extracted.clear()
    with _feature_table.active(table):
        with pytest.warns(AudioWarning, match=r"item 0 '.*short.wav': audio too short"):
            features = clone_fit_transform(smile, [short, files[0]])
        with pytest.raises(AudioError, match=r"item 1 '.*short.wav': audio too short"):
            clone_fit_transform(smile.set_params(on_error="raise"), [files[0], short])
    assert extracted == []
    assert np.isnan(features[0]).all() and not np.isnan(features[1]).any()


def test_activation_counts_threads_that_share_a_table():
    table = _feature_table.FeatureTable()
    inside = threading.Event()
    release = threading.Event()

    def hold():
        with _feature_table.active(table):
            inside.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    inside.wait()
    with _feature_table.active(table):
        pass
    assert _feature_table.any_active()  # the thread still holds it
    release.set()
    thread.join()
    assert not _feature_table.any_active()
