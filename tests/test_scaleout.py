"""Scale-out: extraction and grid search run unchanged on a dask.distributed cluster.

Nothing in the package knows about dask: ``joblib.parallel_config(backend="dask")``
sends the joblib tasks of :class:`~sklearn_msfl.OpenSmileTransformer` and of
scikit-learn's searches to the cluster's workers (separate processes here, on
loopback). See docs/scaling.md.
"""

import logging

import joblib
import numpy as np
import pytest
import soundfile
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_msfl.datasets import make_emotional_speech
from sklearn_msfl.features import OpenSmileTransformer, _extraction
from sklearn_msfl.metrics import uar_scorer
from sklearn_msfl.msfl import MultitaskSERClassifier

distributed = pytest.importorskip("dask.distributed")

RATE = 16000


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def wav_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    files = []
    for i in range(32):
        path = folder / f"{i:02d}.wav"
        # 0.3 s: the shortest audio with meaningful functionals.
        soundfile.write(path, (0.1 * rng.standard_normal(RATE * 3 // 10)).astype(np.float32), RATE)
        files.append(str(path))
    return files


def _workers_used(task_stream) -> set:
    return {task["worker"] for task in task_stream.data}


def test_extraction_on_dask_equals_local_and_fills_a_shared_cache(
        client, wav_files, tmp_path, monkeypatch):
    local = OpenSmileTransformer(feature_set="IS09").fit_transform(wav_files)
    smile = OpenSmileTransformer(feature_set="IS09", cache=tmp_path / "cache")
    with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as stream:
        on_dask = smile.fit_transform(wav_files)
    assert _workers_used(stream) <= set(client.scheduler_info()["workers"])
    assert len(_workers_used(stream)) >= 1 and len(stream.data) >= 2
    np.testing.assert_array_equal(on_dask, local)

    # The workers wrote the cache; a later local run finds every item there.
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == len(wav_files)
    calls = []
    monkeypatch.setattr(_extraction, "extract_item",
                        lambda *args: calls.append(args) or pytest.fail("extracted again"))
    np.testing.assert_array_equal(smile.transform(wav_files), local)
    assert calls == []


def test_grid_search_of_the_design_card_pipeline_on_dask(client):
    signals, labels = make_emotional_speech(16, n_speakers_per_language=2, duration=0.3,
                                            random_state=0)
    y = labels[["emotion", "language"]]
    pipeline = Pipeline([
        ("smile", OpenSmileTransformer(feature_set="eGeMAPSv02")),
        ("msfl", MultitaskSERClassifier(hidden_size=4, shared_size=4, embedding_dim=4,
                                        patch_size=8, max_epochs=2, device="cpu",
                                        random_state=0)),
    ])
    search = GridSearchCV(pipeline, {"msfl__hidden_size": [4, 8]}, scoring=uar_scorer,
                          cv=GroupKFold(n_splits=2), error_score="raise")
    groups = labels["speaker"]
    with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as stream:
        search.fit(signals, y, groups=groups)
    fit_tasks = [task for task in stream.data if "fit_and_score" in str(task["key"])]
    assert fit_tasks  # the 2 x 2 fits ran on the workers
    assert _workers_used(stream) <= set(client.scheduler_info()["workers"])
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert search.best_params_["msfl__hidden_size"] in (4, 8)
    assert search.predict(signals[:3]).shape == (3,)
