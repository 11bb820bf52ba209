#!/usr/bin/python3
"""Where does an f32 training run leave PyTorch's f64 run? A diagnostic for
test_train_parity.py's free-running track, not a test (it asserts nothing).

usage: train_sensitivity.py PATH/TO/train_dump [--model lenet5] [--steps 100]
           [--seed 1] [--data-dir DIR] [--attribute]
       train_sensitivity.py PATH/TO/train_dump --track-seeds 1,2,3 [--model M]
           [--steps K] [--data-dir DIR]

1. train_dump runs K Adam steps (batch 64) and dumps every step's gradients
   and the weights each step ran with.
2. At each step's weights, the f64 gradient is the reference. Per parameter
   tensor, the worst error over the K steps of zerfoo's gradient and, at the
   same weights, of PyTorch's f32 gradient (native convolution, oneDNN):
     rel   max|g - g64| / max|g64|
     adam  max|g - g64| / (sqrt(v) + eps), v Adam's second moment at that
           step: the fraction of lr by which the error moves an update.
   Then the steps where some f32 gradient is off by more than 1e-5 (rel),
   with what PyTorch's f32 forward (native, oneDNN) decides differently from
   f64 there: max-pool windows whose argmax differs, ReLU inputs of opposite
   sign. (zerfoo's conv forward rounds as oneDNN's on these shapes.)
3. The loss track against PyTorch f64 per step: where the runs part.
4. --attribute: PyTorch f64 runs K steps with zerfoo's measured gradient
   error (zerfoo - f64 at zerfoo's weights, step by step) added to one
   tensor's gradient, to all but one, and to all: which tensor's error
   carries the drift (slow: 2 runs per tensor); then with the error of the
   tie steps left out, at 1, 0.3 and 0.1 times its size: whether plain
   rounding error, and how much of it, moves the run.
--track-seeds instead prints, per seed, the free-running K-step tracks: the
worst relative loss difference of zerfoo f32 and of PyTorch f32 (native,
oneDNN) from PyTorch f64, of zerfoo from each PyTorch f32 run, and of two
f64 runs with a single f32 rounding from the plain f64 run: every gradient
rounded to f32, or the weights stored in f32 after each update.

Finding (LeNet-5, seeds 1-6): zerfoo's conv gradients are within ~5e-7 of
f64 (PyTorch native ~6e-7, oneDNN ~1.5e-6) except at a few steps where an
f32 forward meets a near-tie (two max-pool inputs closer than the rounding
of the convolution before them, or a ReLU input within 1e-8 of 0) and f64
decides it the other way; that step's conv gradient then differs by
1e-5..2e-3 for every f32 implementation alike, and the run diverges from
f64 from there on."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from test_train_parity import torch_losses, torch_model, track_diff  # noqa: E402

EVENT = 1e-5


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def grads(model, x, y):
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return {n: p.grad.detach().double().clone() for n, p in model.named_parameters()}


def forward_flips(m32, m64, x):
    """What m32's forward decides differently from m64's: [(layer, kind, count)]."""
    a32, a64, out = x, x.double(), []
    with torch.no_grad():
        for i, (l32, l64) in enumerate(zip(m32, m64)):
            if isinstance(l32, nn.MaxPool2d):
                a32, i32 = F.max_pool2d(a32, l32.kernel_size, l32.stride, return_indices=True)
                a64, i64 = F.max_pool2d(a64, l64.kernel_size, l64.stride, return_indices=True)
                if (i32 != i64).any():
                    out.append((i, "max-pool argmax", int((i32 != i64).sum())))
                continue
            if isinstance(l32, nn.ReLU) and ((a32 > 0) != (a64 > 0)).any():
                out.append((i, "ReLU sign", int(((a32 > 0) != (a64 > 0)).sum())))
            a32, a64 = l32(a32), l64(a64)
    return out


def f64_run(model_name, init, run, steps, perturb=None, f32_grads=False, f32_weights=False):
    """Losses of PyTorch f64 Adam. perturb(k, name) -> tensor added to the
    gradient; f32_grads: each gradient rounded to f32 (the best an f32 backward
    can do); f32_weights: the weights rounded to f32 after each update (as an
    f32 model stores them)."""
    model = torch_model(model_name).double()
    model.load_state_dict({k: torch.from_numpy(v).double() for k, v in init.items()})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = []
    for k in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(torch.from_numpy(run[f"x.{k}"]).double()), torch.from_numpy(run[f"y.{k}"]))
        loss.backward()
        if perturb:
            for n, p in model.named_parameters():
                e = perturb(k, n)
                if e is not None:
                    p.grad += e
        for p in model.parameters():
            if f32_grads:
                p.grad = p.grad.float().double()
        opt.step()
        with torch.no_grad():
            for p in model.parameters():
                if f32_weights:
                    p.copy_(p.float().double())
        out.append(float(loss.item()))
    return np.array(out)


def dump(tool, model_name, steps, seed, data_dir, record):
    """train_dump's K Adam steps; `record`: every step's gradients and weights too."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [tool, "--model", model_name, "--optimizer", "adam", "--steps", str(steps), "--out", out,
               "--seed", str(seed), "--batch-size", "64"]
        if record:
            cmd += ["--grad-steps", str(steps), "--param-steps", str(steps)]
        subprocess.run(cmd + (["--data-dir", data_dir] if data_dir else []), check=True, stdout=subprocess.DEVNULL)
        init, _ = st_io.load(os.path.join(out, "init.safetensors"))
        run, _ = st_io.load(os.path.join(out, "run.safetensors"))
    return init, run


def track_seeds(tool, model_name, steps, seeds, data_dir):
    print(f"{model_name}, {steps} Adam steps, worst relative loss difference (free-running runs)")
    print("seed  zerfoo-f64  native-f64  oneDNN-f64  zerfoo-native  zerfoo-oneDNN  f64,f32-grads  f64,f32-weights")
    for seed in seeds:
        init, run = dump(tool, model_name, steps, seed, data_dir, False)
        t64 = torch_losses(model_name, "adam", init, run, steps, torch.float64, False)
        nat = torch_losses(model_name, "adam", init, run, steps, torch.float32, False)
        one = torch_losses(model_name, "adam", init, run, steps, torch.float32, True)
        z = run["losses"]
        rg = f64_run(model_name, init, run, steps, f32_grads=True)
        rw = f64_run(model_name, init, run, steps, f32_weights=True)
        print(f"{seed:4d}  {track_diff(z, t64):10.1e}  {track_diff(nat, t64):10.1e}  {track_diff(one, t64):10.1e}  "
              f"{track_diff(z, nat):13.1e}  {track_diff(z, one):13.1e}  {track_diff(rg, t64):13.1e}  "
              f"{track_diff(rw, t64):15.1e}", flush=True)
    return 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    model_name = arg("--model", "lenet5")
    steps = int(arg("--steps", "100"))
    seed = arg("--seed", "1")
    data_dir = arg("--data-dir", None)
    torch.set_num_threads(2)
    torch.backends.mkldnn.enabled = False
    if "--track-seeds" in sys.argv:
        return track_seeds(tool, model_name, steps, [int(s) for s in arg("--track-seeds", "1").split(",")], data_dir)
    init, run = dump(tool, model_name, steps, seed, data_dir, True)

    m64, m32 = torch_model(model_name).double(), torch_model(model_name)
    names = [n for n, _ in m32.named_parameters()]
    v = {n: torch.zeros_like(p, dtype=torch.float64) for n, p in m32.named_parameters()}
    err = {}  # (k, name) -> zerfoo grad - f64 grad at zerfoo's weights
    tie = {}  # (k, name) -> that error is a tie step's (> EVENT)
    srcs = ("zerfoo", "torch", "oneDNN")
    worst = {(s, n, m): 0.0 for s in srcs for n in names for m in ("rel", "adam")}
    events = []
    print(f"{model_name}, seed {seed}, {steps} Adam steps: gradients at zerfoo's weights vs f64")
    for k in range(steps):
        x, y = torch.from_numpy(run[f"x.{k}"]), torch.from_numpy(run[f"y.{k}"])
        w = init if k == 0 else {n: run[f"param.{k}.{n}"] for n in names}
        m64.load_state_dict({n: torch.from_numpy(a).double() for n, a in w.items()})
        m32.load_state_dict({n: torch.from_numpy(a) for n, a in w.items()})
        g64 = grads(m64, x.double(), y)
        torch.backends.mkldnn.enabled = False
        gt = grads(m32, x, y)
        torch.backends.mkldnn.enabled = True
        go = grads(m32, x, y)
        torch.backends.mkldnn.enabled = False
        off = {}
        for n in names:
            v[n] = 0.999 * v[n] + 0.001 * g64[n] ** 2
            vhat = v[n] / (1 - 0.999 ** (k + 1))
            gz = torch.from_numpy(run[f"grad.{k}.{n}"]).double()
            err[(k, n)] = gz - g64[n]
            tie[(k, n)] = float(err[(k, n)].abs().max()) > EVENT * float(g64[n].abs().max())
            for s, g in zip(srcs, (gz, gt[n], go[n])):
                d = (g - g64[n]).abs()
                rel = float(d.max()) / max(float(g64[n].abs().max()), 1e-30)
                worst[(s, n, "rel")] = max(worst[(s, n, "rel")], rel)
                worst[(s, n, "adam")] = max(worst[(s, n, "adam")], float((d / (vhat.sqrt() + 1e-8)).max()))
                if rel > EVENT and rel > off.get(s, (0, ""))[0]:
                    off[s] = (rel, n)
        if off:
            flips = {"native": forward_flips(m32, m64, x)}
            torch.backends.mkldnn.enabled = True
            flips["oneDNN"] = forward_flips(m32, m64, x)
            torch.backends.mkldnn.enabled = False
            events.append((k, off, flips))
    print(f"{'tensor':10s} " + " | ".join(f"{s + ' rel':>11s} {'adam':>8s}" for s in srcs))
    for n in names:
        print(f"{n:10s} " + " | ".join(f"{worst[(s, n, 'rel')]:11.1e} {worst[(s, n, 'adam')]:8.1e}" for s in srcs))
    print(f"steps where an f32 gradient is off by more than {EVENT:.0e} (worst tensor, rel):")
    for k, off, flips in events:
        what = ", ".join(f"{s} {off[s][1]} {off[s][0]:.1e}" for s in srcs if s in off)
        fl = "; ".join(f"{src}: " + (", ".join(f"layer {i} {kind} x{c}" for i, kind, c in f) or "none")
                       for src, f in flips.items())
        print(f"  step {k + 1}: {what}; PyTorch f32 forward vs f64, {fl}")

    base = f64_run(model_name, init, run, steps)
    d = np.abs(run["losses"].astype(np.float64) - base) / base
    part = [k + 1 for k in range(steps) if d[k] > 1e-6]
    print(f"loss vs PyTorch f64, training on its own: worst {d.max():.1e}; first step above 1e-6: "
          f"{part[0] if part else 'none'}; at steps 10/50/{steps}: {d[min(9, steps - 1)]:.1e} "
          f"{d[min(49, steps - 1)]:.1e} {d[-1]:.1e}")
    if "--attribute" not in sys.argv:
        return 0

    def drift(pert):
        return float(np.max(np.abs(f64_run(model_name, init, run, steps, pert) - base) / base))

    print(f"f64 + zerfoo's gradient error in every tensor: {drift(lambda k, n: err[(k, n)]):.1e}")
    for name in names:
        only = drift(lambda k, n, name=name: err[(k, n)] if n == name else None)
        but = drift(lambda k, n, name=name: None if n == name else err[(k, n)])
        print(f"  {name:10s} only {only:.1e}, all but it {but:.1e}")
    for scale in (1.0, 0.3, 0.1):
        d = drift(lambda k, n, scale=scale: None if tie[(k, n)] else scale * err[(k, n)])
        print(f"f64 + {scale:g} x zerfoo's gradient error, tie steps left out: {d:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
