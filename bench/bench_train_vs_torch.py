#!/usr/bin/python3
"""Training speed, zerfoo vs PyTorch, on Fashion-MNIST (a benchmark, not a test).

usage: bench_train_vs_torch.py [--zerfoo build/zerfoo] [--models mlp,lenet5]
                               [--epochs 1] [--batch-size 64] [--threads 2] [--repeat 1]
                               [--schedule constant|cosine] [--label-smoothing X] [--seed S]

For each model: the same architecture, batch size, optimizer (Adam, lr 1e-3),
thread count and data (60,000 training images normalized with mean 0.2860,
std 0.3530). zerfoo runs through its CLI (`zerfoo train ... --threads N`) and
reports train_samples_per_sec (training steps only, evaluation excluded);
PyTorch (Debian's python3-torch, torch.set_num_threads(N)) runs the same
number of epochs over shuffled batches of pre-loaded tensors (model.train(),
zero_grad, forward, F.cross_entropy, backward, step), timed the same way.
Both run in this one script, one after the other, on the same machine.
PyTorch runs with OMP_WAIT_POLICY=PASSIVE unless --omp-wait says otherwise:
with libgomp's default spinning, PyTorch slows down 10x or more as soon as
another process shares the 2 cores (on this shared machine it measured ~2k
MLP samples/s spinning against ~30k passive); zerfoo's pool spins briefly
and then sleeps.
Prints samples/s for each and the ratio zerfoo / PyTorch; with --repeat R,
the best of R runs of each. Also prints each side's test accuracy after the
last epoch (10,000 test images), so `--epochs 10` compares the recipes too
(same recipe, different initial weights and sample order: zerfoo's seed vs
torch.manual_seed)."""
import argparse
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import time

import numpy as np

# torch is imported in main(), after OMP_WAIT_POLICY is set (libgomp reads it once).
torch = nn = F = None

DATA = os.environ.get("ZF_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def load_split(prefix):
    x = read_idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32)
    y = read_idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (x / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(y.copy())


def torch_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_train(name, x, y, tx, ty, a):
    """samples/s of the training steps and the test accuracy after training."""
    torch.manual_seed(a.seed)
    model = torch_model(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    total = a.epochs * ((n + a.batch_size - 1) // a.batch_size)
    # zerfoo's ZF_LR_COSINE in closed form: lr = base * (1 + cos(pi * step / total)) / 2
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: (1 + math.cos(math.pi * min(step, total) / total)) / 2 if a.schedule == "cosine" else 1.0)
    seen, seconds = 0, 0.0
    for e in range(a.epochs):
        model.train()
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, a.batch_size):
            idx = perm[i:i + a.batch_size]
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb, label_smoothing=a.label_smoothing)
            loss.backward()
            opt.step()
            sched.step()
            seen += xb.shape[0]
        seconds += time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum()) for i in range(0, tx.shape[0], 1000))
    return seen / seconds, correct / tx.shape[0]


def zerfoo_train(name, a):
    cmd = [a.zerfoo, "train", "--model", name, "--dataset", "fashion-mnist", "--epochs", str(a.epochs),
           "--batch-size", str(a.batch_size), "--optimizer", "adam", "--lr", "1e-3", "--seed", str(a.seed),
           "--threads", str(a.threads), "--progress", "none", "--schedule", a.schedule,
           "--label-smoothing", str(a.label_smoothing)]
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
    ap.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--omp-wait", choices=("passive", "active", "default"), default="passive",
                    help="OMP_WAIT_POLICY for PyTorch (default: passive)")
    a = ap.parse_args()
    if a.omp_wait != "default":
        os.environ["OMP_WAIT_POLICY"] = a.omp_wait.upper()
    global torch, nn, F
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    x, y = load_split("train")
    tx, ty = load_split("t10k")
    print(f"training speed, Fashion-MNIST {x.shape[0]} images, batch {a.batch_size}, Adam lr 1e-3 "
          f"({a.schedule}, label smoothing {a.label_smoothing}), {a.epochs} epoch(s), {a.threads} threads, "
          f"best of {a.repeat}; torch {torch.__version__}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    print(f"{'model':8s} {'zerfoo samples/s':>18s} {'torch samples/s':>16s} {'ratio':>7s} "
          f"{'zerfoo test acc':>16s} {'torch test acc':>15s}")
    for name in a.models.split(","):
        zs, za = max(zerfoo_train(name, a) for _ in range(a.repeat))
        ts, ta = max(torch_train(name, x, y, tx, ty, a) for _ in range(a.repeat))
        print(f"{name:8s} {zs:18.0f} {ts:16.0f} {zs / ts:7.2f} {za:16.4f} {ta:15.4f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
