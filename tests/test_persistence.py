"""Tests for sklearn_msfl.persistence: safe save/load of estimators and pipelines."""

import importlib
import io
import json
import pickle
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_msfl.features import OpenSmileTransformer
from sklearn_msfl.msfl import MultitaskSERClassifier

pytest.importorskip("skops")
import skops.io  # noqa: E402

from sklearn_msfl.persistence import (  # noqa: E402
    TRUSTED_TYPES,
    ModelFileError,
    UntrustedModelError,
    load_model,
    save_model,
)

FAST = dict(hidden_size=4, shared_size=4, embedding_dim=4, patch_size=2, max_epochs=2,
            device="cpu", random_state=0)



def rewrite_member(path, target, member, change):
    """Copy the model file ``path`` to ``target``, ``member``'s bytes replaced by ``change(bytes)``."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as archive:
        for name in source.namelist():
            data = source.read(name)
            archive.writestr(name, change(data) if name == member else data)
    return target


def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def make_features(n=40, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(n, n_features)), columns=[f"f{i}" for i in range(n_features)])
    y = pd.DataFrame({"emotion": rng.choice(["anger", "joy", "sad"], n),
                      "language": rng.choice(["de", "en"], n)})
    return X, y


@pytest.fixture(scope="module")
def fitted_estimator():
    X, y = make_features()
    return MultitaskSERClassifier(**FAST, class_weight="balanced").fit(X, y), X


@pytest.fixture(scope="module")
def fitted_pipeline():
    rng = np.random.default_rng(0)
    signals = [(0.1 * rng.standard_normal(4800)).astype(np.float32) for _ in range(12)]
    y = pd.DataFrame({"emotion": ["anger", "sad"] * 6, "language": ["de"] * 6 + ["en"] * 6})
    pipeline = Pipeline([
        ("smile", OpenSmileTransformer(feature_set="eGeMAPSv02")),
        ("msfl", MultitaskSERClassifier(**FAST)),
    ]).fit(signals, y)
    return pipeline, signals


def test_estimator_round_trip_predicts_identically(fitted_estimator, tmp_path):
    clf, X = fitted_estimator
    path = save_model(clf, tmp_path / "sub" / "model.msfl")
    restored = load_model(path)

    assert restored is not clf
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_array_equal(restored.attention_weights(X), clf.attention_weights(X))
    pd.testing.assert_frame_equal(restored.predict_tasks(X), clf.predict_tasks(X))
    assert restored.get_params() == clf.get_params()
    for name in ("task_names_", "main_task_", "n_features_in_", "n_iter_", "device_"):
        assert getattr(restored, name) == getattr(clf, name)
    np.testing.assert_array_equal(restored.feature_names_in_, clf.feature_names_in_)
    # Training record, class weights and GradNorm's task weights come back too.
    assert restored.history_[:, "train_loss"] == clf.history_[:, "train_loss"]
    assert restored.history_ is restored.net_.history
    torch.testing.assert_close(restored.net_.criterion_.class_weight_0,
                               clf.net_.criterion_.class_weight_0)
    assert restored.net_.loss_weighting.get_weights() == clf.net_.loss_weighting.get_weights()
    # A loaded model is an ordinary estimator: it pickles, and refits.
    repickled = pickle.loads(pickle.dumps(restored))
    np.testing.assert_array_equal(repickled.predict_proba(X), clf.predict_proba(X))


def test_a_model_loaded_to_predict_has_no_optimizer_and_refits(fitted_estimator, tmp_path):
    # Creating a torch optimizer imports torch._dynamo: over a second of `msfl predict`.
    clf, X = fitted_estimator
    path = save_model(clf, tmp_path / "model.msfl")
    np.save(tmp_path / "X.npy", X.to_numpy())
    script = f"""
import sys
import numpy as np
from sklearn_msfl.persistence import load_model
model = load_model({str(path)!r})
model.predict(np.load({str(tmp_path / "X.npy")!r}))
assert model.net_.optimizer_ is None
assert getattr(model.net_.loss_weighting, "optimizer_", None) is None
assert "torch._dynamo" not in sys.modules, "loading and predicting imported torch._dynamo"
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0, completed.stderr

    restored = load_model(path)
    _, y = make_features()
    refitted = restored.fit(X, y)  # builds new nets, with their optimizers
    assert refitted.net_.optimizer_ is not None
    np.testing.assert_array_equal(refitted.predict_proba(X), clf.predict_proba(X))


def test_ensemble_round_trip_restores_every_network(tmp_path):
    X, y = make_features()
    clf = MultitaskSERClassifier(**dict(FAST, n_ensemble=2)).fit(X, y)
    restored = load_model(save_model(clf, tmp_path / "ensemble.msfl"))
    assert len(restored.nets_) == 2 and restored.net_ is restored.nets_[0]
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.attention_weights(X), clf.attention_weights(X))


def test_candidate_network_round_trip(tmp_path):
    X, y = make_features()
    params = dict(FAST, attention_values="both", feature_attention_scale="learned", wide=True,
                  n_members=2, feature_dropout=0.1, input_noise=0.1, weight_averaging="ema",
                  balance="auxiliary", label_smoothing=0.1)
    clf = MultitaskSERClassifier(**params).fit(X, y)
    restored = load_model(save_model(clf, tmp_path / "candidates.msfl"))
    assert restored.get_params() == clf.get_params()
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.attention_weights(X), clf.attention_weights(X))


def test_saving_leaves_the_model_untouched(fitted_estimator, tmp_path):
    clf, X = fitted_estimator
    net, history, before = clf.net_, clf.history_, clf.predict_proba(X)
    save_model(clf, tmp_path / "model.msfl")
    assert clf.net_ is net and clf.history_ is history
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_pipeline_round_trip_on_signals(fitted_pipeline, tmp_path):
    pipeline, signals = fitted_pipeline
    restored = load_model(save_model(pipeline, tmp_path / "pipeline.msfl"))
    assert isinstance(restored, Pipeline)
    assert restored[0].extraction_settings_ == pipeline[0].extraction_settings_
    np.testing.assert_array_equal(restored.predict_proba(signals), pipeline.predict_proba(signals))
    np.testing.assert_array_equal(restored.predict(signals), pipeline.predict(signals))


def test_nested_meta_estimator_round_trip(tmp_path):
    X, y = make_features(n=30)
    search = GridSearchCV(MultitaskSERClassifier(**FAST), {"hidden_size": [4]}, cv=2).fit(X, y)
    path = save_model(search, tmp_path / "search.msfl")
    # skops itself does not trust every scikit-learn type by default.
    extra = ["sklearn.metrics._scorer._PassthroughScorer", "sklearn.model_selection._split.KFold"]
    with pytest.raises(UntrustedModelError, match="KFold"):
        load_model(path)
    restored = load_model(path, trusted=extra)
    np.testing.assert_array_equal(restored.predict_proba(X), search.predict_proba(X))


def test_unfitted_estimator_round_trip(tmp_path):
    clf = MultitaskSERClassifier(hidden_size=7, loss_weighting={"language": 0.5},
                                 shared_size=(8, 4), random_state=np.random.RandomState(3))
    restored = load_model(save_model(clf, tmp_path / "unfitted.msfl"))
    params = restored.get_params()
    assert params.pop("random_state").randint(1000) == clf.random_state.randint(1000)
    assert params == {k: v for k, v in clf.get_params().items() if k != "random_state"}


class _Custom(TransformerMixin, BaseEstimator):
    """A user-defined step, which skops must not rebuild unless trusted."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_untrusted_type_is_refused_unless_named(fitted_estimator, tmp_path):
    clf, X = fitted_estimator
    pipeline = Pipeline([("custom", _Custom()), ("msfl", clf)])
    path = save_model(pipeline, tmp_path / "custom.msfl")
    name = f"{_Custom.__module__}._Custom"

    with pytest.raises(UntrustedModelError, match=name.replace(".", r"\.")):
        load_model(path)
    restored = load_model(path, trusted=[name])
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_trusted_types_are_an_explicit_short_list():
    assert "sklearn_msfl.msfl._estimator.MultitaskSERClassifier" in TRUSTED_TYPES
    assert not any(name.startswith(("torch", "skorch", "builtins")) for name in TRUSTED_TYPES)


def test_trusted_types_are_where_the_package_keeps_them(fitted_pipeline, tmp_path):
    # skops names a type by its module path: after a move the trusted names must follow.
    ours = {name for name in TRUSTED_TYPES if name.startswith("sklearn_msfl")}
    for name in ours:
        module, _, qualname = name.rpartition(".")
        cls = getattr(importlib.import_module(module), qualname)
        assert f"{cls.__module__}.{cls.__qualname__}" == name
    # ... and each of them is in a saved pipeline, which loads with the defaults.
    pipeline, signals = fitted_pipeline
    path = save_model(pipeline, tmp_path / "pipeline.msfl")
    with zipfile.ZipFile(path) as archive:
        saved = set(skops.io.get_untrusted_types(data=archive.read("model.skops")))
    # GroupStandardScaler is in corpus-normalised pipelines only (the test below).
    assert ours - saved <= {"sklearn_msfl.preprocessing.GroupStandardScaler"}
    np.testing.assert_array_equal(load_model(path).predict(signals), pipeline.predict(signals))


def test_corpus_normalised_pipeline_round_trip(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_msfl.preprocessing import GroupStandardScaler

    X, y = make_features()
    X["corpus"] = np.where(np.arange(len(X)) % 2, "a", "b")
    pipeline = make_pipeline(GroupStandardScaler(min_group_size=2), LogisticRegression())
    pipeline.fit(X, y["emotion"])
    restored = load_model(save_model(pipeline, tmp_path / "corpus.msfl"))
    np.testing.assert_array_equal(restored.predict(X), pipeline.predict(X))


def test_model_file_layout_and_weights_load_with_weights_only(fitted_estimator, tmp_path):
    clf, _ = fitted_estimator
    path = save_model(clf, tmp_path / "model.msfl")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "model.skops", "weights.pt"]
        manifest = json.loads(archive.read("manifest.json"))
        weights = torch.load(io.BytesIO(archive.read("weights.pt")), weights_only=True)
    assert manifest["format"] == "sklearn-msfl-model" and manifest["n_networks"] == 1
    assert manifest["versions"]["torch"] == torch.__version__
    module_state = weights["networks"][0]["module"]
    assert set(module_state) == set(clf.net_.module_.state_dict())
    assert all(isinstance(tensor, torch.Tensor) for tensor in module_state.values())


class _Payload:
    """Pickling this would run code on load; torch.load(weights_only=True) refuses it."""

    def __reduce__(self):
        return (print, ("code ran",))


def test_weights_with_code_are_refused(fitted_estimator, tmp_path):
    clf, _ = fitted_estimator
    path = save_model(clf, tmp_path / "model.msfl")
    tampered = rewrite_member(path, tmp_path / "tampered.msfl", "weights.pt",
                              lambda _: torch_bytes({"networks": [_Payload()]}))
    with pytest.raises(ModelFileError, match=r"tampered.msfl: member 'weights.pt' is not plain "
                       r"tensors \(or is corrupt\), so it was not loaded \(Unsupported global"):
        load_model(tampered)


def _flip_a_stored_byte(path, target, member):
    """A copy of the model file whose stored ``member`` has one byte changed (bad CRC)."""
    with zipfile.ZipFile(path) as archive:
        stored = archive.read(member)
    data = bytearray(path.read_bytes())
    position = data.find(stored[len(stored) // 2 : len(stored) // 2 + 64]) + 10
    data[position] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


CORRUPTIONS = {
    "skops garbage": ("model.skops", lambda data: b"garbage" + data[:100], "corrupt or truncated"),
    "skops truncated": ("model.skops", lambda data: data[: len(data) // 2],
                        r"corrupt or truncated \(File is not a zip file\)"),
    "weights truncated": ("weights.pt", lambda data: data[: len(data) // 2],
                          "corrupt or truncated"),
    "weights garbage": ("weights.pt", lambda data: b"not torch",
                        r"not plain tensors \(or is corrupt\)"),
    "weights without networks": ("weights.pt", lambda data: torch_bytes({"networks": []}),
                                 r"does not hold the 1 network state\(s\)"),
    "manifest truncated": ("manifest.json", lambda data: data[:20], "corrupt or truncated"),
    "manifest not an object": ("manifest.json", lambda data: b"[1, 2]", "not a JSON object"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_member_is_named(fitted_estimator, tmp_path, kind):
    clf, _ = fitted_estimator
    member, change, reason = CORRUPTIONS[kind]
    path = rewrite_member(save_model(clf, tmp_path / "model.msfl"), tmp_path / "bad.msfl",
                          member, change)

    with pytest.raises(ModelFileError, match=rf"bad.msfl: member '{member}' .*{reason}") as caught:
        load_model(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.parametrize("member", ["model.skops", "weights.pt"])
def test_damaged_archive_member_is_named(fitted_estimator, tmp_path, member):
    clf, _ = fitted_estimator
    path = _flip_a_stored_byte(save_model(clf, tmp_path / "model.msfl"),
                               tmp_path / "damaged.msfl", member)

    with pytest.raises(ModelFileError, match=rf"damaged.msfl: member '{member}' is corrupt .*CRC"):
        load_model(path)


def test_model_trained_for_cuda_loads_on_cpu(fitted_estimator, tmp_path, monkeypatch):
    """A GPU model loads on the CPU: the net is rebuilt there and tensors are mapped."""
    clf, X = fitted_estimator
    gpu_like = pickle.loads(pickle.dumps(clf))
    gpu_like.set_params(device="cuda")
    gpu_like.device_ = "cuda"
    path = save_model(gpu_like, tmp_path / "gpu.msfl")

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    restored = load_model(path, device="cpu")
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    assert restored.device_ == "cpu" and restored.get_params()["device"] == "cuda"
    assert next(restored.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_bad_files_and_arguments(fitted_estimator, tmp_path):
    clf, _ = fitted_estimator
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model(tmp_path / "missing.msfl")
    not_zip = tmp_path / "model.pkl"
    not_zip.write_bytes(pickle.dumps(clf))
    with pytest.raises(ModelFileError, match="not a zip archive"):
        load_model(not_zip)
    incomplete = tmp_path / "incomplete.msfl"
    with zipfile.ZipFile(incomplete, "w") as archive:
        archive.writestr("manifest.json", "{}")
    with pytest.raises(ModelFileError, match=r"missing \['model.skops', 'weights.pt'\]"):
        load_model(incomplete)
    with pytest.raises(ValueError, match="device must be"):
        load_model(tmp_path / "missing.msfl", device="tpu")


def test_newer_format_is_refused_and_other_versions_warn(fitted_estimator, tmp_path):
    clf, X = fitted_estimator
    path = save_model(clf, tmp_path / "model.msfl")

    def rewrite(target, change):
        def changed_manifest(data):
            manifest = json.loads(data)
            change(manifest)
            return json.dumps(manifest)

        return rewrite_member(path, target, "manifest.json", changed_manifest)

    newer = rewrite(tmp_path / "newer.msfl", lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="format version 99"):
        load_model(newer)
    older = rewrite(tmp_path / "older.msfl", lambda m: m["versions"].update(torch="1.0.0"))
    with pytest.warns(UserWarning, match=r"torch 1\.0\.0 ->"):
        restored = load_model(older)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)  # same versions: silent


def test_loss_weighting_instance_cannot_be_saved(tmp_path):
    from sklearn_msfl.msfl import GradNorm

    clf = MultitaskSERClassifier(loss_weighting=GradNorm(["emotion", "language"]))
    with pytest.raises(TypeError, match="loss_weighting='gradnorm'"):
        save_model(clf, tmp_path / "model.msfl")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_network_that_no_longer_fits_is_a_clear_error(fitted_estimator, tmp_path):
    clf, _ = fitted_estimator
    path = save_model(clf, tmp_path / "model.msfl")

    def without_a_head_bias(data):
        weights = torch.load(io.BytesIO(data), weights_only=True)
        weights["networks"][0]["module"].pop("heads.0.bias")
        return torch_bytes(weights)

    changed = rewrite_member(path, tmp_path / "changed.msfl", "weights.pt", without_a_head_bias)
    with pytest.raises(ValueError, match=r"saved network \(sklearn-msfl .*\) does not fit.*"
                                         r"heads\.0\.bias"):
        load_model(changed)
