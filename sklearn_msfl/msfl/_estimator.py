"""MultitaskSERClassifier: the MSFL network as a scikit-learn classifier, trained with skorch.

The estimator is a plain scikit-learn classifier: ``fit(X, y)`` with one row of
features per utterance and one label column per task (emotion first, then
auxiliary tasks such as language), ``predict`` returns the main task's labels.
Inside ``fit`` it standardises the features and trains an
:class:`~sklearn_msfl.msfl.MSFLNetwork` through a skorch ``NeuralNet``
subclass that computes one loss per task and combines them with GradNorm (or
a constant weighting).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import EarlyStopping, LRScheduler

from ..metrics import main_task_labels
from ._architecture import ARCHITECTURES, resolve_architecture
from ._gradnorm import make_loss_weighting
from ._net import (
    MultitaskCrossEntropy,
    _HoldoutSplit,
    _MultitaskNet,
    _resolve_device,
    _SeededTorch,
    _silent,
    _WeightAveraging,
)
from ._network import MSFLNetwork
from ._targets import (
    _auxiliary_balance,
    _class_weights,
    _encode_targets,
    _targets_by_task,
    _where_not_finite,
    _with_auxiliary,
)
from ._threads import torch_threads

__all__ = ["MultitaskSERClassifier"]

# Standardised features are clipped to this many standard deviations, so that an
# outlier at prediction time cannot saturate the LSTM gates.
_CLIP_STD = 10.0
_FLOAT_DTYPES = (np.float64, np.float32)
LR_SCHEDULES = ("onecycle", "cosine", "constant")
_INFERENCE_BATCH_SIZE = 512


class MultitaskSERClassifier(ClassifierMixin, BaseEstimator):
    """Multitask shared feature learning (MSFL) for speech emotion recognition.

    Learns emotion (the main task) together with auxiliary tasks such as the
    language from one global feature vector per utterance (e.g. openSMILE IS10
    functionals). An LSTM reads the standardised feature vector with the feature
    dimensions as time steps, attention pooling weights every feature, shared
    dense layers follow, and each task has its own classification head. The
    task losses are balanced by GradNorm (Chen et al., 2018). With a 1-D ``y``
    it is the single-task (STL) baseline.

    Parameters
    ----------
    architecture : {"msfl", "paper"}, default="msfl"
        The network's form; it sets every structural parameter left at None.
        ``"msfl"``: per-feature embeddings read in about ``AUTO_N_STEPS`` (16)
        steps by a one-way LSTM, with two-level attention (features within
        a step, then steps) that gives every feature its own weight, pooling the
        embeddings. ``"paper"``: Ma & Wang's network, one raw feature value per
        LSTM step (1582 steps on IS10, far slower), a one-way LSTM, attention
        over its states. See :class:`~sklearn_msfl.msfl.MSFLNetwork`.
    hidden_size : int, default=32
        LSTM state size.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=None
        Whether the LSTM also reads the features backwards (None: the
        architecture's, False for both: with two-level attention a
        bidirectional LSTM biased the step weights towards the first and last
        features).
    patch_size : int or "auto", default=None
        Consecutive features read per LSTM step (None: the architecture's,
        ``"auto"`` for "msfl", 1 for "paper"); the training time falls roughly
        in proportion. ``"auto"`` groups the features into about
        ``AUTO_N_STEPS`` (16) steps, ``ceil(d / 16)`` features each (99 for
        IS10, 6 for eGeMAPSv02).
    embedding : {"per_feature", "shared"}, default=None
        ``"per_feature"``: each feature gets its own linear embedding
        ``value * W_i + b_i`` and its own attention weight within its step;
        ``"shared"``: raw values into the LSTM (the paper; with
        ``patch_size > 1`` the attention then weights steps, not features).
        None: the architecture's.
    embedding_dim : int, default=16
        Size of the per-feature embeddings.
    pooling : {"attention", "mean"}, default="attention"
        Attention pooling (MSFL) or mean pooling (the no-attention ablation:
        features and LSTM states are averaged, the LSTM stays).
    attention_values : {"inputs", "states", "both"}, default=None
        What the step attention pools: the LSTM's inputs (each step's
        attention-pooled feature embeddings), weighted by scores computed from
        the states; or the LSTM states (the paper); or both side by side, so
        that the shared layers read what the LSTM learnt as well. A state
        summarises all features read before it, so state weights mark
        positions rather than features: ``"inputs"`` makes the attention a
        faithful per-feature explanation. None: the architecture's ("inputs"
        for "msfl", "states" for "paper"); "inputs" and "both" need
        ``embedding="per_feature"``.
    feature_attention_scale : float or "learned", default=None
        Factor of the within-step attention scores before their soft cap at
        ``ATTENTION_SCORE_CAP`` (3). None: the step's feature count (99 on
        IS10), which separates a step's features within a short training but
        pushes many scores to the cap; a number (e.g. 1) scales less;
        ``"learned"``: a temperature per step, learnt from 1. Needs attention
        within steps (the "msfl" architecture's).
    shared_size : int or tuple of int, default=64
        Size(s) of the shared dense layer(s) after pooling.
    dropout : float, default=0.3
        Dropout after pooling and after each shared layer.
    wide : bool, default=True
        Whether the first shared layer also reads the whole standardised
        feature vector through a linear map (wide and deep). The attention
        still weights every feature on the LSTM's path, but the wide path goes
        around it: the attention weights then do not cover everything the
        network reads. Chosen by the tuning protocol (+4.8 pp inner pooled
        UAR, ``benchmarks/results/tuning_network/tuning.md``). ``False`` keeps
        every input on the attention's path (the setting for explanations; with
        ``architecture="paper"``, Ma & Wang's network).
    n_members : int, default=1
        Members of a parameter-efficient ensemble inside the one network
        (BatchEnsemble adapters as in TabM, from the ``tabm`` package): the
        members share the embeddings, the LSTM and the attention; each has its
        own scaling of the shared layers and its own heads. The training loss
        is the mean of the members' losses, the probabilities their mean (the
        attention is shared, so it needs no averaging).
    feature_dropout : float, default=0.0
        Probability of dropping each standardised input feature of each
        training sample (set to 0, its mean; the others scaled by
        ``1 / (1 - p)``).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the standardised
        features in training.
    adversarial_tasks : tuple of str, default=()
        Auxiliary tasks learnt adversarially: their heads sit behind a gradient
        reversal, so that the shared features stop encoding them (e.g.
        ``("language",)`` for language-invariant features when the target
        language is unseen). The paper's language task is cooperative (the
        default).
    adversarial_strength : float, default=1.0
        Strength of the gradient reversal of ``adversarial_tasks``.
    lr : float, default=2e-3
        (Peak) learning rate of the AdamW optimizer.
    lr_schedule : {"onecycle", "cosine", "constant"}, default="onecycle"
        Learning-rate schedule over the ``max_epochs`` epochs, stepped every
        batch: one-cycle (warm-up then annealing to zero), cosine annealing,
        or a constant ``lr``.
    weight_decay : float, default=1e-3
        AdamW weight decay.
    max_epochs : int, default=60
        Number of training epochs (fewer with early stopping).
    batch_size : int, default=32
        Mini-batch size.
    loss_weighting : "gradnorm", "equal" or dict, default="gradnorm"
        How the task losses are combined: GradNorm, a plain sum, or constant
        weights ``{task: weight}`` (tasks left out get 1). A
        :class:`~sklearn_msfl.msfl.LossWeighting` instance also works.
    gradnorm_alpha : float, default=1.5
        GradNorm's asymmetry ``alpha``.
    gradnorm_lr : float, default=0.025
        Learning rate of GradNorm's task-weight optimizer.
    main_task : str or int, default=None
        The task whose labels ``predict`` returns (name or column position);
        None means the first column of ``y``.
    class_weight : None, "balanced" or dict, default=None
        Class weights of the losses: ``"balanced"`` for every task, a dict
        ``{label: weight}`` for the main task, or a dict ``{task: spec}`` with a
        spec per task.
    balance : "auto", "auxiliary" or None, default="auto"
        ``"auxiliary"``: sample weights so that every value of the first
        auxiliary task (every language or corpus) has the same total weight,
        shared equally by the main-task classes it contains, as pooled UAR
        (the mean over corpora of their class-averaged recalls) weighs them.
        Multiplies ``sample_weight``; needs an auxiliary task. ``"auto"``:
        ``"auxiliary"`` when ``y`` has an auxiliary task, no weights when it
        has only the main task. None: every utterance counts once. Chosen by
        the tuning protocol (+1.1 pp on top of ``wide``).
    label_smoothing : float, default=0.0
        Label smoothing of every task's cross-entropy.
    validation_fraction : float, default=0.0
        Fraction of the training data held out (stratified on the main task) to
        monitor ``valid_loss_<task>`` and stop early; 0 trains on everything for
        ``max_epochs`` epochs.
    patience : int, default=5
        Epochs without improvement of the main task's validation loss before
        stopping; the best epoch's weights are restored.
    n_ensemble : int, default=1
        Number of networks trained with different seeds; predictions, task
        probabilities and attention weights are their averages. Each network
        costs one more training run; averaging lowers the variance that a
        few hundred training utterances leave (5 networks of an earlier
        version of the network scored 66.7 UAR on one outer fold's inner
        validation, against 63.7 for the mean single seed,
        ``benchmarks/results/tuning_notes.md``; no benchmark reports it).
    weight_averaging : None, "swa" or "ema", default=None
        Replace the final weights by an average over the end of training:
        ``"swa"`` the mean of the weights at the end of each of the last 25%
        of the epochs, ``"ema"`` an exponential moving average of the end of
        every epoch (decay 0.9 per epoch). Not with early stopping
        (``validation_fraction > 0``), which picks one epoch's weights.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; "auto" takes CUDA when available.
    n_threads : int or None, default=None
        Torch CPU threads during ``fit`` and prediction (the caller's setting is
        restored afterwards). None: one thread, which is the fastest for
        networks of this size and never oversubscribes shared cores
        (``benchmarks/results/threads.md``); -1: as many as the caller allows.
        A limit the caller set (``torch.set_num_threads``, ``OMP_NUM_THREADS``,
        threadpoolctl, the per-worker limits of joblib and dask) is an upper bound.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split
        (torch's global RNG state is restored afterwards). Two fits with the same
        integer give identical predictions on the CPU.
    verbose : int, default=0
        If positive, print one progress line per epoch (skorch's PrintLog).

    Attributes
    ----------
    classes_ : ndarray
        Labels of the main task.
    task_names_ : list of str
        Task names, in the column order of ``y``.
    main_task_ : str
        Name of the main task.
    classes_per_task_ : dict str -> ndarray
        Labels of every task.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    scaler_ : StandardScaler
        The feature standardisation fitted on the training data.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the MSFLNetwork. With
        ``n_ensemble > 1``, the first network of ``nets_``.
    nets_ : list of skorch.NeuralNet
        All ``n_ensemble`` trained nets.
    history_ : skorch.History
        The first net's per-epoch ``train_loss`` / ``valid_loss`` (weighted sum), per-task
        ``train_loss_<task>`` / ``valid_loss_<task>`` and ``task_weights``.
    device_ : str
        The device the network lives on.
    n_iter_ : int
        Number of epochs trained.
    attention_level_ : {"feature", "step"} or None
        What :meth:`attention_weights` tells apart: every feature (the
        defaults and the paper's form), only LSTM steps (raw patches of several
        features, ``embedding="shared"`` with ``patch_size > 1``: a step's
        features share its weight), or nothing (``pooling="mean"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> X, emotion = make_classification(n_samples=60, n_features=12, n_informative=6,
    ...                                  n_classes=3, random_state=0)
    >>> language = np.where(X[:, 0] > 0, "de", "en")
    >>> y = np.column_stack([emotion, language])
    >>> clf = MultitaskSERClassifier(hidden_size=8, shared_size=8, patch_size=4,
    ...                              max_epochs=3, random_state=0).fit(X, y)
    >>> clf.task_names_, clf.main_task_
    (['emotion', 'language'], 'emotion')
    >>> clf.predict(X[:4]).shape, clf.predict_proba(X[:4]).shape
    ((4,), (4, 3))
    >>> list(clf.predict_tasks(X[:2]).columns)
    ['emotion', 'language']
    >>> clf.attention_weights(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean", None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "embedding": [StrOptions({"per_feature", "shared"}), None],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"attention", "mean"})],
        "attention_values": [StrOptions({"inputs", "states", "both"}), None],
        "feature_attention_scale": [Interval(Real, 0, None, closed="neither"),
                                    StrOptions({"learned"}), None],
        "shared_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "wide": ["boolean"],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "feature_dropout": [Interval(Real, 0, 1, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "adversarial_tasks": [tuple, list],
        "adversarial_strength": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "loss_weighting": [StrOptions({"gradnorm", "equal"}), dict,
                           HasMethods(["combine", "get_weights"])],
        "gradnorm_alpha": [Interval(Real, 0, None, closed="left")],
        "gradnorm_lr": [Interval(Real, 0, None, closed="neither")],
        "main_task": [str, Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "balance": [StrOptions({"auto", "auxiliary"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "weight_averaging": [StrOptions({"swa", "ema"}), None],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        architecture="msfl",
        hidden_size=32,
        num_layers=1,
        bidirectional=None,
        patch_size=None,
        embedding=None,
        embedding_dim=16,
        pooling="attention",
        attention_values=None,
        feature_attention_scale=None,
        shared_size=64,
        dropout=0.3,
        wide=True,
        n_members=1,
        feature_dropout=0.0,
        input_noise=0.0,
        adversarial_tasks=(),
        adversarial_strength=1.0,
        lr=2e-3,
        lr_schedule="onecycle",
        weight_decay=1e-3,
        max_epochs=60,
        batch_size=32,
        loss_weighting="gradnorm",
        gradnorm_alpha=1.5,
        gradnorm_lr=0.025,
        main_task=None,
        class_weight=None,
        balance="auto",
        label_smoothing=0.0,
        validation_fraction=0.0,
        patience=5,
        n_ensemble=1,
        weight_averaging=None,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.patch_size = patch_size
        self.embedding = embedding
        self.embedding_dim = embedding_dim
        self.pooling = pooling
        self.attention_values = attention_values
        self.feature_attention_scale = feature_attention_scale
        self.shared_size = shared_size
        self.dropout = dropout
        self.wide = wide
        self.n_members = n_members
        self.feature_dropout = feature_dropout
        self.input_noise = input_noise
        self.adversarial_tasks = adversarial_tasks
        self.adversarial_strength = adversarial_strength
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.loss_weighting = loss_weighting
        self.gradnorm_alpha = gradnorm_alpha
        self.gradnorm_lr = gradnorm_lr
        self.main_task = main_task
        self.class_weight = class_weight
        self.balance = balance
        self.label_smoothing = label_smoothing
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.weight_averaging = weight_averaging
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None, groups=None, auxiliary=None):
        """Train the network on features ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One feature vector per utterance (not yet standardised).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels. 1-D: a single task (the STL baseline), named after the
            Series or ``"emotion"``. 2-D: one column per task; a DataFrame's
            column names are the task names, an array's columns are called
            ``emotion``, ``language``, ``task2``... Labels may be strings.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every utterance in every task's loss (e.g. to weight
            corpora); each task's loss is the weighted mean over a batch.
        groups : array-like of shape (n_samples,), default=None
            Speaker of every utterance. With ``validation_fraction > 0`` the
            early-stopping hold-out then takes whole speakers, so that early
            stopping watches unseen speakers. In a pipeline or a search with
            metadata routing enabled, request it with
            ``set_fit_request(groups=True)``.
        auxiliary : array-like of shape (n_samples,) or (n_samples, n_aux), default=None
            Labels of the auxiliary tasks (e.g. the language) when ``y`` holds
            only the main task: the tasks are then ``y`` followed by these
            columns (a DataFrame's or Series' names, else ``language``,
            ``task2``...). With a 1-D ``y`` every scikit-learn tool treats the
            estimator as a plain classifier: string scorers such as
            ``"balanced_accuracy"``, ``cross_val_predict(method="predict_proba")``
            and stratified folds work unchanged, and the auxiliary labels are
            split with the rows as fit metadata (``set_fit_request(auxiliary=True)``
            with metadata routing, ``msfl__auxiliary=`` in a pipeline without).

        Returns
        -------
        self : MultitaskSERClassifier
            The fitted estimator.
        """
        self._validate_params()
        # A failed refit leaves a fitted estimator as it was (validate_data resets
        # n_features_in_ and feature_names_in_ before training starts).
        fitted = {name: value for name, value in vars(self).items() if _is_fitted_name(name)}
        try:
            return self._fit(X, _with_auxiliary(y, auxiliary), sample_weight, groups)
        except BaseException:
            for name in [name for name in vars(self) if _is_fitted_name(name)]:
                delattr(self, name)
            vars(self).update(fitted)
            raise

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # y may be 2-D: the main task's column followed by auxiliary task columns
        # (not multi-output: predictions are the main task's labels only).
        tags.target_tags.two_d_labels = True
        return tags

    def _fit(self, X, y, sample_weight, groups):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = self._validate_features(X, reset=True)
        task_names, columns = _targets_by_task(y)
        check_consistent_length(X, *columns)
        main_task = self._resolve_main_task(task_names)
        classes, Y = _encode_targets(task_names, columns)
        self._check_shared_size()
        if isinstance(self.n_threads, bool):  # an Integral to scikit-learn's constraints
            raise InvalidParameterError(
                f"The 'n_threads' parameter of {type(self).__name__} must be a positive int, "
                f"-1 or None. Got {self.n_threads!r} instead."
            )
        network = self._network_params(X.shape[1], task_names, classes)
        if self.weight_averaging is not None and self.validation_fraction > 0:
            raise ValueError(
                f"weight_averaging={self.weight_averaging!r} averages the last epochs' weights, "
                "early stopping (validation_fraction > 0) keeps the best epoch's: use one "
                "of them"
            )
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(X, groups)
        elif self.validation_fraction > 0:
            warnings.warn(
                "validation_fraction holds out utterances, so early stopping watches the "
                "training speakers: pass groups=speakers to fit to hold out whole speakers",
                UserWarning, stacklevel=3,
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.balance == "auxiliary" or (self.balance == "auto" and len(task_names) > 1):
            sample_weight = _auxiliary_balance(Y, task_names, main_task, sample_weight)
        Y_fit = Y if sample_weight is None else np.column_stack([Y, sample_weight])

        # The first seed is the one a single network always used: n_ensemble=1 is unchanged.
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=int(self.n_ensemble)
        )
        device = _resolve_device(self.device)
        # The scaler returns arrays whatever set_config(transform_output=...) says: skorch
        # would hand a DataFrame's columns to the network as keyword arguments.
        scaler = StandardScaler().set_output(transform="default").fit(X)
        X_train = _standardise(scaler, X).astype(np.float32)

        main_index = task_names.index(main_task)
        nets = []
        with torch_threads(self.n_threads):
            for seed in seeds:
                holdout = None
                if self.validation_fraction > 0:
                    holdout = _HoldoutSplit(self.validation_fraction, int(seed), main_index, groups)
                net = self._build_net(task_names, classes, network, Y, int(seed), device,
                                      holdout=holdout, sample_weighted=sample_weight is not None)
                with _SeededTorch(int(seed), device):
                    net.fit(X_train, Y_fit)
                nets.append(net)

        self.scaler_ = scaler
        self.task_names_ = list(task_names)
        self.main_task_ = main_task
        self.classes_per_task_ = dict(zip(task_names, classes))
        self.classes_ = self.classes_per_task_[main_task]
        self.nets_ = nets
        self.net_ = nets[0]
        self.history_ = self.net_.history
        self.device_ = device
        self.n_iter_ = len(self.net_.history)
        self.attention_level_ = self.net_.module_.attention_level
        return self

    def _validate_features(self, X, reset: bool) -> np.ndarray:
        """``validate_data``, with the rows and features of NaN/infinite values named."""
        try:
            return validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)
        except ValueError as error:
            where = _where_not_finite(X)
            if where is None:
                raise
            raise ValueError(f"{type(self).__name__}: {where}") from error

    def _resolve_main_task(self, task_names) -> str:
        if self.main_task is None:
            return task_names[0]
        if isinstance(self.main_task, numbers.Integral) and not isinstance(self.main_task, bool):
            if not -len(task_names) <= self.main_task < len(task_names):
                raise ValueError(
                    f"main_task={self.main_task} is out of range for {len(task_names)} tasks"
                )
            return task_names[self.main_task]
        if self.main_task not in task_names:
            raise ValueError(f"main_task={self.main_task!r} is not one of the tasks {task_names}")
        return str(self.main_task)

    def _adversarial_tasks(self, task_names) -> tuple:
        tasks = tuple(self.adversarial_tasks)
        main = self._resolve_main_task(task_names)
        if main in tasks:
            raise ValueError(f"the main task {main!r} cannot be in adversarial_tasks")
        unknown = set(tasks) - set(task_names)
        if unknown:
            raise ValueError(
                f"adversarial_tasks names unknown tasks {sorted(unknown)}; the tasks are "
                f"{list(task_names)}"
            )
        return tasks

    def _check_shared_size(self) -> None:
        if not isinstance(self.shared_size, Integral):
            sizes = list(self.shared_size)
            if not sizes or not all(
                isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
                for size in sizes
            ):
                raise ValueError(
                    "shared_size must be a positive int or a non-empty sequence of them, "
                    f"got {self.shared_size!r}"
                )

    def _structure(self, n_features: int) -> dict:
        """The network's structural parameters, the architecture filling those left at None."""
        return resolve_architecture(
            self.architecture, n_features, patch_size=self.patch_size,
            embedding=self.embedding, attention_values=self.attention_values,
            bidirectional=self.bidirectional, pooling=self.pooling,
        )

    def _lr_scheduler(self, n_train: int):
        """The skorch callback of ``lr_schedule``, stepped every batch; None if constant.

        The schedule spans the optimizer steps of ``max_epochs`` epochs on ``n_train``
        rows; early stopping ends it before its end.
        """
        if self.lr_schedule == "constant":
            return None
        total_steps = int(self.max_epochs) * math.ceil(n_train / int(self.batch_size))
        if self.lr_schedule == "onecycle":
            return LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                max_lr=float(self.lr),
                total_steps=total_steps,
                step_every="batch",
            )
        return LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=total_steps,
            step_every="batch",
        )

    def _shared_sizes(self) -> tuple[int, ...]:
        if isinstance(self.shared_size, numbers.Integral):
            return (int(self.shared_size),)
        return tuple(int(size) for size in self.shared_size)

    def _network_params(self, n_features: int, task_names, classes) -> dict:
        """Keyword arguments of the :class:`MSFLNetwork` this estimator builds.

        The one mapping from the estimator's parameters to the network's, used by
        ``fit``, by :func:`~sklearn_msfl.persistence.load_model` and by the
        training-speed benchmark; it rejects incoherent structures.
        """
        structure = self._structure(n_features)
        return dict(
            n_features=n_features,
            n_classes={task: len(c) for task, c in zip(task_names, classes)},
            patch_size=structure["patch_size"],
            embedding=structure["embedding"],
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=bool(structure["bidirectional"]),
            pooling=self.pooling,
            attention_values=structure["attention_values"],
            feature_attention_scale=self.feature_attention_scale,
            shared_sizes=self._shared_sizes(),
            dropout=float(self.dropout),
            wide=bool(self.wide),
            n_members=int(self.n_members),
            feature_dropout=float(self.feature_dropout),
            input_noise=float(self.input_noise),
            adversarial=self._adversarial_tasks(task_names),
            adversarial_strength=float(self.adversarial_strength),
        )

    def _build_net(self, task_names, classes, network, Y, seed, device, *, holdout=None,
                   sample_weighted=False, predict_only=False) -> _MultitaskNet:
        """The skorch net of one ensemble member; ``holdout`` (a :class:`_HoldoutSplit`)
        holds out rows for early stopping."""
        main_task = self._resolve_main_task(task_names)
        weighting_spec = self.loss_weighting if len(task_names) > 1 else "equal"
        loss_weighting = make_loss_weighting(
            weighting_spec, task_names, alpha=self.gradnorm_alpha, lr=self.gradnorm_lr
        )
        callbacks = []
        # The held-out rows train no batch. The split is deterministic: skorch's call of
        # holdout gives the same rows.
        n_train = len(Y) if holdout is None else len(holdout.split(len(Y), Y)[0])
        scheduler = self._lr_scheduler(n_train)
        if scheduler is not None:
            callbacks.append(("lr_scheduler", scheduler))
        if holdout is not None:
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor=f"valid_loss_{main_task}",
                    patience=self.patience,
                    load_best=True,
                    sink=print if self.verbose else _silent,
                ),
            ))
        if self.weight_averaging is not None:
            callbacks.append(("weight_averaging",
                              _WeightAveraging(self.weight_averaging, int(self.max_epochs))))
        return _MultitaskNet(
            module=MSFLNetwork,
            **{f"module__{name}": value for name, value in network.items()},
            criterion=MultitaskCrossEntropy,
            criterion__class_weights=_class_weights(
                self.class_weight, task_names, classes, Y, main_task
            ),
            criterion__label_smoothing=float(self.label_smoothing),
            # predict_only (a loaded model): no optimizer, see _MultitaskNet.initialize_optimizer.
            # foreach: all parameters updated together instead of one tensor at a time (the
            # same numbers, fewer calls per batch).
            **({"optimizer": None} if predict_only else {
                "optimizer": torch.optim.AdamW,
                "optimizer__weight_decay": float(self.weight_decay),
                "optimizer__foreach": True}),
            lr=float(self.lr),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            train_split=holdout,
            callbacks=callbacks,
            task_names=task_names,
            loss_weighting=loss_weighting,
            sample_weighted=sample_weighted,
            device=device,
            verbose=int(self.verbose),
        )

    # ------------------------------------------------------------- predict

    def predict_proba_tasks(self, X) -> dict:
        """Class probabilities of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        dict str -> ndarray of shape (n_samples, n_classes_of_task)
            Columns ordered as ``classes_per_task_[task]``.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), np.column_stack([rng.randint(3, size=20),
        ...                                                   rng.randint(2, size=20)])
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> {task: p.shape for task, p in clf.predict_proba_tasks(X).items()}
        {'emotion': (20, 3), 'language': (20, 2)}
        """
        return self._forward(X)

    def predict_proba(self, X) -> np.ndarray:
        """Main-task class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_proba(X).sum(axis=1).round(6)[:3]
        array([1., 1., 1.])
        """
        return self._forward(X)[self.main_task_]

    def predict(self, X) -> np.ndarray:
        """Main-task labels (in the original label type).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.choice(["angry", "happy"], size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> set(clf.predict(X)) <= {"angry", "happy"}
        True
        """
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def predict_tasks(self, X) -> pd.DataFrame:
        """Labels of every task, one column per task (index kept from a DataFrame ``X``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        DataFrame of shape (n_samples, n_tasks)

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(20, 6))
        >>> y = pd.DataFrame({"emotion": rng.choice(["angry", "sad"], 20),
        ...                   "language": rng.choice(["de", "en", "ur"], 20)})
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.predict_tasks(X[:3]).shape
        (3, 2)
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        probabilities = self._forward(X)
        return pd.DataFrame(
            {
                task: self.classes_per_task_[task][np.argmax(probabilities[task], axis=1)]
                for task in self.task_names_
            },
            index=index,
        )

    def attention_weights(self, X) -> np.ndarray:
        """Attention weight of every input feature, per sample (rows sum to one).

        A feature's weight is its LSTM step's weight times its weight within the
        step. Where the network has no per-feature weights (``attention_level_``
        is "step" or None) the step's weight is spread evenly over its features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``)

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.normal(size=(20, 6)), rng.randint(2, size=20)
        >>> clf = MultitaskSERClassifier(max_epochs=1, hidden_size=4, patch_size=4,
        ...                              random_state=0).fit(X, y)
        >>> weights = clf.attention_weights(X)
        >>> weights.shape, bool(np.allclose(weights.sum(axis=1), 1))
        ((20, 6), True)
        """
        return self._forward(X, return_attention=True)[1]

    def score(self, X, y, sample_weight=None) -> float:
        """Main-task accuracy (WA) on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Main-task labels, or all task labels as in ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Labels never seen in ``fit`` count as errors.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 4))
        >>> y = np.column_stack([(X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int)])
        >>> clf = MultitaskSERClassifier(max_epochs=2, hidden_size=4, random_state=0).fit(X, y)
        >>> clf.score(X, y) == clf.score(X, y[:, 0])
        True
        """
        y_pred = self.predict(X)
        return accuracy_score(main_task_labels(self, y), y_pred, sample_weight=sample_weight)

    def _forward(self, X, return_attention: bool = False):
        """Run the network(s) in float64 on ``X``; return task probabilities (and feature attention).

        Inference runs in double precision so that a sample's output does not
        depend on which other samples share its batch. An ensemble averages the
        probabilities and the attention of its networks.
        """
        check_is_fitted(self)
        X = self._validate_features(X, reset=False)
        X = np.ascontiguousarray(_standardise(self.scaler_, X), dtype=np.float64)
        with torch_threads(self.n_threads):
            outputs = [self._forward_net(net, X, return_attention) for net in self.nets_]
        probabilities = {
            task: np.mean([output[0][task] for output in outputs], axis=0)
            for task in self.task_names_
        }
        if return_attention:
            return probabilities, np.mean([output[1] for output in outputs], axis=0)
        return probabilities

    def _forward_net(self, net, X: np.ndarray, return_attention: bool):
        device = net.device
        module = copy.deepcopy(net.module_).to(device=device, dtype=torch.float64).eval()
        probabilities = [[] for _ in self.task_names_]
        attention = []
        with torch.no_grad():
            for start in range(0, len(X), _INFERENCE_BATCH_SIZE):
                batch = torch.from_numpy(X[start : start + _INFERENCE_BATCH_SIZE]).to(device)
                logits, feature_attention = module(batch, return_attention=True)
                for task_probabilities, task_logits in zip(probabilities, logits):
                    task_probability = torch.softmax(task_logits, dim=-1)
                    if task_probability.ndim == 3:  # the mean over the members
                        task_probability = task_probability.mean(dim=1)
                    task_probabilities.append(task_probability.cpu().numpy())
                if return_attention:
                    attention.append(feature_attention.cpu().numpy())
        probabilities = {
            task: np.concatenate(chunks) for task, chunks in zip(self.task_names_, probabilities)
        }
        return probabilities, (np.concatenate(attention) if return_attention else None)

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA net onto the CPU when CUDA is missing; follow it.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def _standardise(scaler: StandardScaler, X: np.ndarray) -> np.ndarray:
    return np.clip(scaler.transform(X), -_CLIP_STD, _CLIP_STD)
