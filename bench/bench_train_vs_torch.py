#!/usr/bin/python3
"""Training speed, zerfoo vs PyTorch, on Fashion-MNIST (a benchmark, not a test).

usage: bench_train_vs_torch.py [--zerfoo build/zerfoo] [--models mlp,lenet5]
                               [--epochs 1] [--batch-size 64] [--threads 2] [--repeat 1]

For each model: the same architecture, batch size, optimizer (Adam, lr 1e-3),
thread count and data (60,000 training images normalized with mean 0.2860,
std 0.3530). zerfoo runs through its CLI (`zerfoo train ... --threads N`) and
reports train_samples_per_sec (training steps only, evaluation excluded);
PyTorch (Debian's python3-torch, torch.set_num_threads(N)) runs the same
number of epochs over shuffled batches of pre-loaded tensors (model.train(),
zero_grad, forward, F.cross_entropy, backward, step), timed the same way.
Both run in this one script, one after the other, on the same machine.
Prints samples/s for each and the ratio zerfoo / PyTorch; with --repeat R,
the best of R runs of each."""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("ZF_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def load_train():
    x = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).astype(np.float32)
    y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (x / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(y.copy())


def torch_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_samples_per_sec(name, x, y, epochs, batch):
    torch.manual_seed(1)
    model = torch_model(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    n = x.shape[0]
    seen, seconds = 0, 0.0
    for e in range(epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            seen += xb.shape[0]
        seconds += time.perf_counter() - t0
    return seen / seconds


def zerfoo_samples_per_sec(zerfoo, name, epochs, batch, threads):
    cmd = [zerfoo, "train", "--model", name, "--dataset", "fashion-mnist", "--epochs", str(epochs),
           "--batch-size", str(batch), "--optimizer", "adam", "--lr", "1e-3", "--seed", "1",
           "--threads", str(threads), "--progress", "none"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    return res["train_samples_per_sec"], res.get("test_accuracy")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zerfoo", default=os.path.join(os.path.dirname(__file__), "..", "build", "zerfoo"))
    ap.add_argument("--models", default="mlp,lenet5")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = load_train()
    print(f"training speed, Fashion-MNIST {x.shape[0]} images, batch {a.batch_size}, Adam, "
          f"{a.epochs} epoch(s), {a.threads} threads; torch {torch.__version__}")
    print(f"{'model':8s} {'zerfoo samples/s':>18s} {'torch samples/s':>16s} {'ratio':>7s}")
    for name in a.models.split(","):
        zs = max(zerfoo_samples_per_sec(a.zerfoo, name, a.epochs, a.batch_size, a.threads)[0]
                 for _ in range(a.repeat))
        ts = max(torch_samples_per_sec(name, x, y, a.epochs, a.batch_size) for _ in range(a.repeat))
        print(f"{name:8s} {zs:18.0f} {ts:16.0f} {zs / ts:7.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
