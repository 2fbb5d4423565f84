"""Seconds per training epoch: MultitaskSERClassifier (skorch + GradNorm) vs a plain PyTorch loop.

Both train the same MSFLNetwork (IS10-sized input, d=1582) on the same random
data with the same optimizer and batch size; the difference is the overhead of
skorch (datasets, callbacks, history) and of GradNorm (one gradient per task on
the last shared layer, plus the weight update).

Run: ``.venv/bin/python benchmarks/training_overhead.py [--threads 1] [--epochs 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sklearn_msfl.estimator import MultitaskSERClassifier
from sklearn_msfl.network import MSFLNetwork

N_SAMPLES, N_FEATURES, BATCH_SIZE = 512, 1582, 64
NET_PARAMS = dict(hidden_size=32, embedding="per_feature", embedding_dim=16,
                  shared_sizes=(64,), dropout=0.2)


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(np.float32)
    y = np.column_stack([rng.randint(4, size=N_SAMPLES), rng.randint(3, size=N_SAMPLES)])
    return X, y


def plain_epoch_seconds(X, y, patch_size, epochs):
    """Per-epoch seconds of a hand-written loop (equal task weights)."""
    torch.manual_seed(0)
    net = MSFLNetwork(N_FEATURES, [4, 3], patch_size=patch_size, **NET_PARAMS)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y).long()
    durations = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        for batch in torch.randperm(N_SAMPLES).split(BATCH_SIZE):
            logits = net(X_t[batch])
            loss = sum(torch.nn.functional.cross_entropy(out, y_t[batch, i])
                       for i, out in enumerate(logits))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        durations.append(time.perf_counter() - start)
    return durations


def estimator_epoch_seconds(X, y, patch_size, epochs, loss_weighting):
    """Per-epoch seconds from the estimator's history (skorch's EpochTimer)."""
    clf = MultitaskSERClassifier(
        patch_size=patch_size, hidden_size=NET_PARAMS["hidden_size"],
        embedding=NET_PARAMS["embedding"], embedding_dim=NET_PARAMS["embedding_dim"],
        shared_size=64, dropout=0.2, lr=3e-3, batch_size=BATCH_SIZE, max_epochs=epochs,
        loss_weighting=loss_weighting, device="cpu", random_state=0,
    ).fit(X, y)
    return list(clf.history_[:, "dur"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--patch-sizes", type=int, nargs="+", default=[16, 4, 1])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = make_data()
    print(f"d={N_FEATURES}, n={N_SAMPLES}, batch={BATCH_SIZE}, threads={args.threads}; "
          "median seconds per epoch (first epoch dropped)")
    print(f"{'patch':>5} {'plain':>8} {'skorch':>8} {'+gradnorm':>10} {'overhead':>9}")
    for patch_size in args.patch_sizes:
        # Interleave the three variants so that a load change on the machine hits all.
        plain, equal, gradnorm = [], [], []
        for _ in range(2):
            plain += plain_epoch_seconds(X, y, patch_size, args.epochs)[1:]
            equal += estimator_epoch_seconds(X, y, patch_size, args.epochs, "equal")[1:]
            gradnorm += estimator_epoch_seconds(X, y, patch_size, args.epochs, "gradnorm")[1:]
        plain_s, equal_s, gradnorm_s = map(np.median, (plain, equal, gradnorm))
        print(f"{patch_size:>5} {plain_s:8.2f} {equal_s:8.2f} {gradnorm_s:10.2f} "
              f"{gradnorm_s / plain_s - 1:+9.1%}", flush=True)


if __name__ == "__main__":
    main()
