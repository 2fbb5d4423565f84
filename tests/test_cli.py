"""Tests for the ``msfl`` command line.

Real invocations (the console script and ``python -m sklearn_msfl``) check the
entry points, ``--help``/``--version``, exit codes and stderr, and prediction in
a fresh process from a model saved by another. The other
commands run in-process through :func:`sklearn_msfl.cli.main`, the same code
behind the same argument parser: a fresh process pays several seconds of torch
imports on the shared test machine, which the time budget cannot afford for
every command.
"""

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from sklearn_msfl import __version__
from sklearn_msfl.cli import main
from sklearn_msfl.datasets import make_emotional_speech

pytest.importorskip("skops")

COMMANDS = ("extract", "train", "evaluate", "predict", "explain")
FAST = ["--param", "max_epochs=2", "--param", "patch_size=64", "--param", "hidden_size=8",
        "--param", "random_state=0"]
CONSOLE_SCRIPT = Path(sys.executable).with_name("msfl")



def run(*args, timeout=180):
    """Run ``python -m sklearn_msfl ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "sklearn_msfl", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def run_main(capsys, *args):
    """Run the command line in this process; return (status, stdout, stderr)."""
    status = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """24 synthetic utterances as WAV files, and a labels CSV with a file column."""
    root = tmp_path_factory.mktemp("cli")
    files, y = make_emotional_speech(24, n_speakers_per_language=2, duration=0.5,
                                     output_dir=root / "wavs", random_state=0)
    y.insert(0, "file", files)
    y.to_csv(root / "labels.csv", index=False)
    return root


@pytest.fixture(scope="module")
def features_csv(corpus):
    """Features of the synthetic corpus, from ``msfl extract``."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        status = main(["extract", str(corpus / "wavs"), "-o", str(corpus / "features.csv")])
    assert status == 0, stderr.getvalue()
    # 12 s of audio: below the progress bar's threshold, so extraction stays quiet.
    assert "openSMILE IS10" not in stderr.getvalue()
    assert "wrote 24 rows x 1582 features" in stderr.getvalue()
    return corpus / "features.csv"


@pytest.fixture(scope="module")
def model_file(corpus, features_csv):
    status = main(["train", "-q", "--features", str(features_csv),
                   "--labels", str(corpus / "labels.csv"), *FAST,
                   "-o", str(corpus / "model.msfl")])
    assert status == 0
    return corpus / "model.msfl"


# --------------------------------------------------------------------------- #
# Entry points, help, exit codes
# --------------------------------------------------------------------------- #


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")
def test_console_script_version_and_help():
    result = subprocess.run([str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"msfl (sklearn-msfl) {__version__}"
    result = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert all(command in result.stdout for command in COMMANDS)
    assert "exit status:" in result.stdout and "130" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_exit_codes(command):
    result = run(command, "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: msfl {command}")
    assert "exit status:" in result.stdout and "usage error" in result.stdout


def test_usage_errors_exit_2_without_traceback(capsys):
    result = run("train", "--features", "x.csv", timeout=60)  # -o missing: argparse
    assert result.returncode == 2
    assert "usage: msfl train" in result.stderr and "-o/--output" in result.stderr
    assert "Traceback" not in result.stderr
    assert run(timeout=60).returncode == 2  # no command
    assert run("frobnicate", timeout=60).returncode == 2

    status, _, err = run_main(capsys, "train", "--features", "x.csv", "--param",
                              "max_epoch=3", "-o", "m.msfl")
    assert status == 2 and "unknown hyperparameter 'max_epoch'" in err
    status, _, err = run_main(capsys, "train", "--features", "x.csv", "--param", "lr",
                              "-o", "m.msfl")
    assert status == 2 and "--param expects NAME=VALUE" in err
    status, _, err = run_main(capsys, "extract", "a.wav", "-o", "features.xlsx")
    assert status == 2 and "feature files end in .csv, .parquet, .npz" in err
    status, _, err = run_main(capsys, "train", "-o", "m.msfl")
    assert status == 2 and "either --corpus" in err


def test_runtime_error_is_one_line_on_stderr_unless_debug(tmp_path):
    result = run("extract", tmp_path / "missing", "-o", tmp_path / "f.csv", timeout=60)
    assert result.returncode == 1
    assert result.stderr == f"msfl extract: error: no such file or folder: {tmp_path / 'missing'}\n"
    assert result.stdout == ""

    result = run("--debug", "extract", tmp_path / "missing", "-o", tmp_path / "f.csv",
                 timeout=60)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith(f"no such file or folder: {tmp_path / 'missing'}")


def test_extract_help_says_what_on_error_nan_does(capsys):
    status, out, _ = run_main(capsys, "extract", "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "'nan' keeps its row with NaN features and warns naming the files" in text
    assert "drops" not in text


def test_a_folder_where_a_model_file_is_expected(capsys, tmp_path, features_csv):
    folder = tmp_path / "models"
    folder.mkdir()
    for command in ("predict", "explain"):
        status, _, err = run_main(capsys, command, folder, "a.wav")
        assert status == 1
        assert err == (f"msfl {command}: error: {folder} is a folder; MODEL is a model file "
                       "written by 'msfl train -o FILE'\n")
    status, _, err = run_main(capsys, "train", "--features", features_csv, "-o", folder)
    assert status == 1 and "Errno" not in err
    assert f"{folder} is a folder; -o names the model file to write" in err


def test_folders_pick_up_every_audio_format(capsys, tmp_path):
    from sklearn_msfl.cli._args import _audio_files

    signals, _ = make_emotional_speech(3, n_languages=1, duration=0.5, random_state=0)
    folder = tmp_path / "audio"
    (folder / "sub").mkdir(parents=True)
    for signal, name in zip(signals, ["a.mp3", "sub/b.OGG", "c.wav"], strict=True):
        soundfile.write(folder / name, signal, 16000)
    (folder / "notes.txt").write_text("not audio")
    expected = [str(folder / name) for name in ("a.mp3", "c.wav", "sub/b.OGG")]
    assert _audio_files([folder]) == expected
    status, _, err = run_main(capsys, "extract", folder, "--feature-set", "eGeMAPSv02",
                              "-o", tmp_path / "f.csv")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "f.csv")
    assert table["file"].tolist() == expected
    assert table.drop(columns="file").notna().all().all()


def test_train_on_one_language_says_how_to_choose_tasks(capsys, corpus, features_csv, tmp_path):
    labels = pd.read_csv(corpus / "labels.csv").assign(language="de")
    labels.to_csv(tmp_path / "labels.csv", index=False)
    data = ["--features", features_csv, "--labels", tmp_path / "labels.csv"]
    status, _, err = run_main(capsys, "train", *data, *FAST, "-o", tmp_path / "m.msfl")
    assert status == 1
    assert ("task 'language' has 1 class (de) in these data; every task needs 2 or more. "
            "Choose the tasks with --tasks, main first, e.g. --tasks emotion,gender or "
            "--tasks emotion (one task)") in err
    status, _, err = run_main(capsys, "train", *data, "--tasks", "emotion,gender", *FAST,
                              "-o", tmp_path / "m.msfl")
    assert status == 0, err
    assert "tasks emotion (4 classes), gender (2 classes)" in err


def test_evaluate_svm_baseline_is_the_tuned_svm(capsys, corpus, features_csv, monkeypatch):
    import sklearn_msfl.baselines as baselines

    built, make = [], baselines.make_svm_baseline

    def spy(*args, **kwargs):
        built.append(make(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(baselines, "make_svm_baseline", spy)
    status, out, err = run_main(capsys, "evaluate", "-q", "--features", features_csv,
                                "--labels", corpus / "labels.csv", "--folds", "2",
                                "--baseline", "svm", *FAST)
    assert status == 0, err
    (search,) = built
    assert set(search.param_grid) == {"svc__C", "svc__gamma"}
    assert isinstance(search.cv, baselines.InnerSpeakerKFold)
    assert list(search.cv.speakers.columns) == ["corpus", "speaker"]
    assert len(search.cv.speakers) == 24


def test_runtime_errors_in_process(capsys, tmp_path, features_csv):
    status, _, err = run_main(capsys, "predict", tmp_path / "missing.msfl", "a.wav")
    assert status == 1 and err.startswith("msfl predict: error: model file not found")
    status, _, err = run_main(capsys, "train", "-q", "--features", features_csv,
                              "-o", tmp_path / "m.msfl")  # no labels in the feature file
    assert status == 1 and "no label column 'emotion' for task 'emotion'" in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def test_extract_formats_agree_and_bad_audio_is_named(capsys, corpus, features_csv, tmp_path):
    reference = pd.read_csv(features_csv)
    assert list(reference.columns[:2]) == ["file", "pcm_loudness_sma_maxPos"]
    assert reference.shape == (24, 1 + 1582)
    features = reference.drop(columns="file").to_numpy()

    folder = tmp_path / "audio"
    folder.mkdir()
    for file in reference["file"][:4]:
        (folder / Path(file).name).write_bytes(Path(file).read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF0000WAVE")
    cache = tmp_path / "cache"
    for output in ("f.npz", "f.parquet", "f.csv"):
        status, _, err = run_main(capsys, "extract", folder, "-o", tmp_path / output,
                                  "--cache", cache, "--feature-set", "is10")
        assert status == 3, err
        assert "broken.wav" in err and "could not be processed" in err
        assert ("msfl: warning: 1 of 5 rows have NaN or infinite features and are written "
                f"as NaN: {folder / 'broken.wav'}\n") in err
        assert "(1 row of NaN for bad audio)" in err

    from sklearn_msfl.cli._tables import _read_table

    for output in ("f.npz", "f.parquet", "f.csv"):
        table = _read_table(str(tmp_path / output))
        names = table.meta["file"].map(lambda f: Path(f).name).tolist()
        assert names == [Path(f).name for f in reference["file"][:4]] + ["broken.wav"]
        assert np.isnan(table.X[4]).all()
        np.testing.assert_allclose(table.X[:4], features[:4], rtol=1e-6)


def test_train_then_predict_in_a_fresh_process(capsys, corpus, model_file, tmp_path):
    wavs = sorted((corpus / "wavs").glob("*.wav"))[:3]
    result = run("predict", "-q", model_file, *wavs, "-o", tmp_path / "p.json")
    assert result.returncode == 0, result.stderr
    records = json.loads((tmp_path / "p.json").read_text())
    assert [record["file"] for record in records] == [str(w) for w in wavs]
    for record in records:
        assert record["emotion"] in {"anger", "happiness", "neutral", "sadness"}
        assert record["language"] in {"qaa", "qab", "qac"}
        assert sum(record["probabilities"]["emotion"].values()) == pytest.approx(1)
        assert max(record["probabilities"]["emotion"],
                   key=record["probabilities"]["emotion"].get) == record["emotion"]

    # The same rows from the feature file give the same answers, as CSV on stdout.
    status, out, _ = run_main(capsys, "predict", "-q", model_file, "--features",
                              corpus / "features.csv")
    assert status == 0
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert len(table) == 24
    assert [c for c in table.columns if "proba" not in c] == ["file", "emotion", "language"]
    by_file = table.set_index("file")
    for record in records:
        row = by_file.loc[record["file"]]
        assert row["emotion"] == record["emotion"]
        assert row["emotion_proba_anger"] == pytest.approx(
            record["probabilities"]["emotion"]["anger"], rel=1e-5)


def test_predict_bad_audio(capsys, corpus, model_file, tmp_path):
    good = sorted((corpus / "wavs").glob("*.wav"))[0]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    status, _, err = run_main(capsys, "predict", "-q", model_file, good, bad)
    assert status == 1 and "bad.wav': cannot read audio" in err
    status, out, err = run_main(capsys, "predict", "-q", model_file, good, bad,
                                "--on-error", "nan")
    assert status == 3
    assert ("1 of 2 rows have NaN or infinite features and get empty labels: "
            f"{bad}") in err
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert table["emotion"].notna().tolist() == [True, False]


def test_predict_with_a_corrupt_model_member_names_it(capsys, corpus, model_file, tmp_path):
    broken = tmp_path / "broken.msfl"
    with zipfile.ZipFile(model_file) as source, zipfile.ZipFile(broken, "w") as archive:
        for name in source.namelist():
            data = source.read(name)
            archive.writestr(name, data[: len(data) // 2] if name == "weights.pt" else data)
    wav = sorted((corpus / "wavs").glob("*.wav"))[0]
    status, out, err = run_main(capsys, "predict", broken, wav)
    assert status == 1 and out == ""
    assert err.startswith(f"msfl predict: error: {broken}: member 'weights.pt' is corrupt or "
                          "truncated")
    assert len(err.splitlines()) == 1


def test_predict_too_short_audio(capsys, corpus, model_file, tmp_path):
    good = sorted((corpus / "wavs").glob("*.wav"))[0]
    signal, rate = soundfile.read(good)
    short = tmp_path / "short.wav"
    soundfile.write(short, signal[: rate // 10], rate)  # 0.1 s: no meaningful functionals
    status, out, err = run_main(capsys, "predict", "-q", model_file, short)
    assert status == 1 and out == ""
    assert "short.wav': audio too short for openSMILE functionals" in err
    status, out, err = run_main(capsys, "predict", "-q", model_file, good, short,
                                "--on-error", "nan")
    assert status == 3 and f"get empty labels: {short}" in err
    assert pd.read_csv(pd.io.common.StringIO(out))["emotion"].notna().tolist() == [True, False]


def _with_non_finite_rows(features_csv, tmp_path, rows, drop_file=False):
    """The feature file with NaN in one feature of some rows and +inf in one of others."""
    table = pd.read_csv(features_csv)
    for position, row in enumerate(rows):
        table.iloc[row, 1 + position] = np.nan if position % 2 == 0 else np.inf
    if drop_file:
        table = table.drop(columns="file")
    path = tmp_path / "non_finite.csv"
    table.to_csv(path, index=False)
    return path, table


def test_predict_names_non_finite_feature_rows_and_exits_3(capsys, model_file, features_csv,
                                                            tmp_path):
    path, table = _with_non_finite_rows(features_csv, tmp_path, [2, 4])
    status, out, err = run_main(capsys, "predict", "-q", model_file, "--features", path)
    assert status == 3
    assert err == ("msfl: warning: 2 of 24 rows have NaN or infinite features and get empty "
                   f"labels: {table['file'][2]}, {table['file'][4]}\n")
    predictions = pd.read_csv(pd.io.common.StringIO(out))
    assert predictions["emotion"].isna().sum() == 2
    assert predictions["emotion"].isna()[[2, 4]].all()

    # Without a file column rows are named by position; the first five and a count.
    path, _ = _with_non_finite_rows(features_csv, tmp_path, range(7), drop_file=True)
    status, _, err = run_main(capsys, "predict", "-q", model_file, "--features", path,
                              "--format", "json")
    assert status == 3
    assert err.endswith("get empty labels: row 0, row 1, row 2, row 3, row 4 and 2 more\n")

    path, _ = _with_non_finite_rows(features_csv, tmp_path, range(24))
    status, out, err = run_main(capsys, "predict", "-q", model_file, "--features", path)
    assert status == 1 and out == ""
    assert err.startswith("msfl predict: error: all 24 rows have NaN or infinite features")


def test_explain_leaves_out_non_finite_rows_and_exits_3(capsys, model_file, features_csv,
                                                         tmp_path):
    status, expected, _ = run_main(capsys, "explain", "-q", model_file, "--features",
                                   features_csv, "--top", "3")
    assert status == 0
    path, table = _with_non_finite_rows(features_csv, tmp_path, [5])
    status, out, err = run_main(capsys, "explain", "-q", model_file, "--features", path,
                                "--top", "3")
    assert status == 3
    assert err == ("msfl: warning: 1 of 24 rows have NaN or infinite features and are left "
                   f"out: {table['file'][5]}\n")
    assert out.splitlines()[0] == expected.splitlines()[0] and len(out.splitlines()) == 2 + 3


def test_evaluate_leaves_out_non_finite_rows_and_exits_3(capsys, corpus, features_csv,
                                                          tmp_path):
    path, table = _with_non_finite_rows(features_csv, tmp_path, [0, 9])
    status, out, err = run_main(capsys, "evaluate", "-q", "--features", path, "--labels",
                                corpus / "labels.csv", "--folds", "2", *FAST)
    assert status == 3
    assert err == ("msfl: warning: 2 of 24 rows have NaN or infinite features and are left "
                   f"out: {table['file'][0]}, {table['file'][9]}\n")
    assert out.startswith("| estimator")


def test_explain_top_features(capsys, corpus, model_file):
    status, out, _ = run_main(capsys, "explain", "-q", model_file, "--features",
                              corpus / "features.csv", "--top", "5")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0] == "| rank | feature | weight | lld_family | functional_family |"
    assert len(lines) == 2 + 5
    status, out, _ = run_main(capsys, "explain", "-q", model_file, "--features",
                              corpus / "features.csv", "--labels", corpus / "labels.csv",
                              "--by", "language", "--top", "2", "--format", "csv")
    assert status == 0
    ranking = pd.read_csv(pd.io.common.StringIO(out))
    assert ranking.groupby("group").size().to_dict() == {"qaa": 2, "qab": 2, "qac": 2}


def test_explain_pools_several_models(capsys, corpus, features_csv, model_file, tmp_path):
    other = [arg if arg != "random_state=0" else "random_state=1" for arg in FAST]
    assert main(["train", "-q", "--features", str(features_csv), "--labels",
                 str(corpus / "labels.csv"), *other, "-o", str(tmp_path / "seed1.msfl")]) == 0
    capsys.readouterr()
    status, out, _ = run_main(capsys, "explain", "-q", model_file, "--model",
                              tmp_path / "seed1.msfl", "--features", features_csv, "--top", "5")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0] == ("| rank | feature | weight | weight_sd | top_k_share | lld_family | "
                        "functional_family |")
    assert len(lines[2:7]) == 5 and "Agreement of the 2 models' top-k sets" in lines[8]
    assert lines[10].startswith("| k | n_models | jaccard |") and "| chance |" in lines[10]
    assert [line.split("|")[1].strip() for line in lines[12:]] == ["10", "50"]


def test_explain_a_corpus_normalised_pipeline(capsys, corpus, features_csv, tmp_path):
    from sklearn_msfl.baselines import make_msfl_pipeline
    from sklearn_msfl.explain import shared_features
    from sklearn_msfl.persistence import save_model

    table = pd.read_csv(features_csv)
    labels = pd.read_csv(corpus / "labels.csv").set_index("file").loc[table["file"]]
    corpus_column = pd.Series(labels["language"].to_numpy(), name="corpus")
    table = pd.concat([table, corpus_column], axis=1)
    table.to_csv(tmp_path / "features.csv", index=False)
    X = table.drop(columns="file")
    model = make_msfl_pipeline(normalisation="corpus", max_epochs=1, patch_size=64,
                               hidden_size=8, random_state=0)
    model.fit(X, labels[["emotion", "language"]].reset_index(drop=True))
    save_model(model, tmp_path / "model.msfl")
    status, out, _ = run_main(capsys, "explain", "-q", tmp_path / "model.msfl", "--features",
                              tmp_path / "features.csv", "--top", "3", "--format", "csv")
    assert status == 0
    ranking = pd.read_csv(io.StringIO(out))
    # The rows went through the corpus normalisation: the weights are the pipeline's own.
    expected = shared_features(model, X).head(3)
    assert ranking["feature"].tolist() == expected["feature"].tolist()
    np.testing.assert_allclose(ranking["weight"], expected["weight"], rtol=1e-4)
    assert "other" not in set(ranking["lld_family"])


def test_evaluate_with_svm_baseline(capsys, corpus, features_csv, tmp_path):
    status, out, _ = run_main(capsys, "evaluate", "-q", "--features", features_csv,
                              "--labels", corpus / "labels.csv", "--folds", "2",
                              "--baseline", "svm", *FAST, "-o", tmp_path / "scores.csv")
    assert status == 0
    assert "| estimator | metric | qaa | qab | qac | all |" in " ".join(out.split()) or (
        out.splitlines()[0].replace(" ", "") == "|estimator|metric|qaa|qab|qac|all|")
    assert "| msfl" in out and "| svm" in out
    assert "msfl - svm (UAR, all)" in out
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert set(scores["estimator"]) == {"msfl", "svm"} and scores["fold"].nunique() == 2


def _fake_corpora(root):
    """Tiny EmoDB- and SAVEE-named folders of synthetic speech (two languages)."""
    signals, _ = make_emotional_speech(32, n_languages=1, duration=0.5, random_state=1)
    emodb, savee = root / "emodb", root / "savee"
    emodb.mkdir()
    savee.mkdir()
    emodb_names = [f"{speaker}a0{i}{emotion}a" for speaker in ("03", "08", "09", "10")
                   for i, emotion in enumerate("WFNT")]
    savee_names = [f"{speaker}_{emotion}0{i}" for speaker in ("DC", "JE", "JK", "KL")
                   for i, emotion in enumerate(("a", "h", "n", "sa"))]
    for signal, name in zip(signals[:16], emodb_names, strict=True):
        soundfile.write(emodb / f"{name}.wav", signal, 16000)
    for signal, name in zip(signals[16:], savee_names, strict=True):
        soundfile.write(savee / f"{name}.wav", signal, 16000)
    return emodb, savee


def test_train_and_evaluate_from_corpora(capsys, tmp_path):
    emodb, savee = _fake_corpora(tmp_path)
    corpora = ["--corpus", f"emodb={emodb}", "--corpus", f"savee={savee}",
               "--feature-set", "eGeMAPSv02", "--cache", tmp_path / "cache"]
    status, out, err = run_main(capsys, "train", *corpora, *FAST, "-o", tmp_path / "m.msfl")
    assert status == 0, err
    assert "training on 32 items, 88 features" in err
    assert "emotion: anger, happiness, neutral, sadness; language: de, en" in out

    from sklearn_msfl.persistence import load_model

    model = load_model(tmp_path / "m.msfl")
    assert model[0].feature_set == "eGeMAPSv02" and model[0].cache is None
    status, out, _ = run_main(capsys, "evaluate", "-q", *corpora, *FAST, "--folds", "2")
    assert status == 0
    header = out.splitlines()[0].replace(" ", "")
    assert header.startswith("|estimator|metric|de|en|all|")  # one column per language


def test_train_leaves_out_rows_without_features_or_labels(capsys, corpus, features_csv, tmp_path):
    table = pd.read_csv(features_csv)
    table.iloc[3, 1:] = np.nan  # a file that failed extraction (on_error="nan")
    table.iloc[8, 2] = np.inf
    table.to_csv(tmp_path / "features.csv", index=False)
    labels = pd.read_csv(corpus / "labels.csv")
    labels.loc[5, "language"] = None
    labels.to_csv(tmp_path / "labels.csv", index=False)
    arguments = ["train", "--features", tmp_path / "features.csv", "--labels",
                 tmp_path / "labels.csv", *FAST, "-o", tmp_path / "m.msfl"]
    status, out, err = run_main(capsys, *arguments)
    assert status == 3, err
    assert ("msfl: warning: 2 of 24 rows have NaN or infinite features and are left out: "
            f"{table['file'][3]}, {table['file'][8]}\n") in err
    assert f"leaving out 1 of 24 rows without a label: {table['file'][5]}\n" in err
    assert "training on 21 items" in err

    # -q keeps the warning about rows with NaN or infinite features.
    status, out, err = run_main(capsys, *arguments[:1], "-q", *arguments[1:])
    assert status == 3
    assert err.startswith("msfl: warning: 2 of 24 rows have NaN or infinite features")
    assert len(err.splitlines()) == 1

    labels.drop(index=7).to_csv(tmp_path / "fewer.csv", index=False)
    status, _, err = run_main(capsys, "train", "--features", tmp_path / "features.csv",
                              "--labels", tmp_path / "fewer.csv", "-o", tmp_path / "m.msfl")
    assert status == 1
    assert f"no labels for 1 of 24 feature rows, e.g. {labels['file'][7]}" in err
