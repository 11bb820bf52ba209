#!/usr/bin/python3
"""Training parity of zerfoo with PyTorch (Debian's python3-torch) on
Fashion-MNIST, for the MLP and LeNet-5 and for SGD (momentum 0.9), Adam and
AdamW (weight decay 0.01).

usage: test_train_parity.py PATH/TO/train_dump [--data-dir DIR]

For each model and optimizer, train_dump (tests/parity/train_dump.c) writes
zerfoo's initial weights (safetensors, PyTorch state-dict names), the batches
of its seeded loader, each step's loss, the gradients of the first two steps
and the parameters the steps ran with. PyTorch loads the same weights, runs
the same batches through the same torch.nn.Sequential with F.cross_entropy
and torch.optim, and we compare:
  * the loss of steps 1 and 2: relative difference <= 1e-5;
  * every gradient of steps 1 and 2: max|zerfoo - torch| / max|torch| <= 1e-5
    per tensor;
  * the optimizer update: every parameter after zerfoo's first step against
    torch.optim stepping from the same weights with zerfoo's gradients, same
    measure;
  * with Adam, 100 steps (the issue's "track PyTorch's loss within 1e-4"),
    asserted two ways for every model:
      - in f64 (train_dump --dtype f64): zerfoo's 100 losses against PyTorch
        f64 training from the same weights, relative difference <= 1e-10
        (observed <= 2e-15, seeds 1-6): the whole step, forward, backward
        and Adam, is PyTorch's arithmetic;
      - in f32 along zerfoo's own run: the loss of each of the 100 steps
        against PyTorch f64 at the very weights zerfoo's step ran with,
        relative difference <= 1e-5 (observed <= 2.5e-7, seeds 1-6).
    The free-running f32 track (zerfoo f32 against PyTorch f32 and f64, each
    training on its own) is printed, next to PyTorch's own f32 runs (native
    convolution and oneDNN) against its f64 run, and asserted at 1e-4 only
    with ZF_PARITY_STRICT=1. It cannot be a default assertion: every f32 run
    now and then meets a near-tie that f64 decides the other way, a 2x2
    max-pool window whose two largest inputs differ by less than the f32
    rounding of the convolution before it, or a ReLU input within 1e-8 of 0.
    The gradient then flows to another position (a 1e-4..1e-3 change in a
    conv gradient in that one step) and Adam carries the difference on. On
    this data PyTorch's own f32 runs end 1e-7..1.4e-2 from its f64 run
    depending on the seed, and zerfoo's f32 run is in the same band (seeds
    1-6; tests/parity/train_sensitivity.py finds the tie steps).
PyTorch runs with its native CPU convolution (torch.backends.mkldnn.enabled =
False) except where oneDNN is named. Each comparison is one case; the last
line reads "N passed, M failed". Exits 77 (ctest's skip) when torch or the
dataset is missing."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("SKIP: PyTorch is not installed (Debian: apt-get install python3-torch)")
    sys.exit(77)

GRAD_TOL = 1e-5
LOSS_TOL = 1e-5
TRACK_TOL = 1e-4      # the target for 100 Adam steps
F64_TRACK_TOL = 1e-10
# ZF_PARITY_STRICT=1 also asserts the free-running f32 track at TRACK_TOL
# (see the docstring for why it is not a default assertion).
STRICT = os.environ.get("ZF_PARITY_STRICT") == "1"
TRACK_STEPS = 100
PASSED = 0
FAILED = 0


def case(ok, what):
    global PASSED, FAILED
    if ok:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL:", what)


def torch_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_optimizer(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)


def torch_losses(model_name, opt_name, init, run, steps, dtype, mkldnn):
    """Losses of `steps` steps of PyTorch from zerfoo's weights and batches."""
    prev = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = mkldnn
    model = torch_model(model_name).to(dtype)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()}, strict=True)
    opt = torch_optimizer(opt_name, model.parameters())
    out = []
    for k in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(torch.from_numpy(run[f"x.{k}"]).to(dtype)), torch.from_numpy(run[f"y.{k}"]))
        loss.backward()
        opt.step()
        out.append(float(loss.item()))
    torch.backends.mkldnn.enabled = prev
    return np.array(out)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(b))), 1e-30)
    return float(np.max(np.abs(a - b))) / scale


def dump(tool, data_dir, model_name, opt_name, steps, out, extra=()):
    """Runs train_dump into `out`; returns (initial weights, run)."""
    os.makedirs(out, exist_ok=True)
    cmd = [tool, "--model", model_name, "--optimizer", opt_name, "--steps", str(steps), "--out", out,
           "--seed", "1", "--batch-size", "64", *extra]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    init, _ = st_io.load(os.path.join(out, "init.safetensors"))
    run, _ = st_io.load(os.path.join(out, "run.safetensors"))
    return init, run


def same_weight_losses(model_name, init, run, steps):
    """PyTorch f64 loss of each step k at the weights zerfoo's step k ran
    with (init, then param.k)."""
    model = torch_model(model_name).double()
    out = []
    with torch.no_grad():
        for k in range(steps):
            w = init if k == 0 else {n: run[f"param.{k}.{n}"] for n in init}
            model.load_state_dict({n: torch.from_numpy(v).double() for n, v in w.items()}, strict=True)
            x = torch.from_numpy(run[f"x.{k}"]).double()
            out.append(float(F.cross_entropy(model(x), torch.from_numpy(run[f"y.{k}"])).item()))
    return np.array(out)


def track_diff(a, b):
    """Worst relative difference of two loss curves."""
    return float(np.max(np.abs(np.asarray(a, np.float64) - b) / np.abs(b)))


def check(tool, data_dir, model_name, opt_name, steps, workdir):
    out = os.path.join(workdir, f"{model_name}_{opt_name}")
    tracked = steps >= TRACK_STEPS
    init, run = dump(tool, data_dir, model_name, opt_name, steps, out,
                     ("--param-steps", str(steps if tracked else 1)))

    model = torch_model(model_name)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()}, strict=True)
    opt = torch_optimizer(opt_name, model.parameters())
    names = [n for n, _ in model.named_parameters()]
    z_losses = run["losses"]
    t32_track = []
    worst = {"loss": 0.0, "grad": 0.0, "param": 0.0}
    for k in range(steps):
        x = torch.from_numpy(run[f"x.{k}"])
        y = torch.from_numpy(run[f"y.{k}"])
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        t_loss = float(loss.item())
        t32_track.append(t_loss)
        tag = f"{model_name}/{opt_name} step {k + 1}"
        if k < 2:
            d = abs(float(z_losses[k]) - t_loss) / abs(t_loss)
            case(d <= LOSS_TOL, f"{tag}: loss zerfoo {z_losses[k]:.9g} torch {t_loss:.9g} (rel {d:.2e})")
            worst["loss"] = max(worst["loss"], d)
            for n, p in model.named_parameters():
                e = rel_err(run[f"grad.{k}.{n}"], p.grad.numpy())
                worst["grad"] = max(worst["grad"], e)
                case(e <= GRAD_TOL, f"{tag}: gradient of {n} differs (rel {e:.2e})")
        opt.step()
        if k == 0:
            # The update itself, from the same gradients: zerfoo's step-1 gradients
            # given to a fresh torch optimizer. (From each side's own gradients,
            # Adam's g / (|g| + eps) magnifies the last-bit differences of
            # near-zero gradients, so that comparison says little.)
            ref = torch_model(model_name)
            ref.load_state_dict({n: torch.from_numpy(v) for n, v in init.items()}, strict=True)
            ref_opt = torch_optimizer(opt_name, ref.parameters())
            for n, p in ref.named_parameters():
                p.grad = torch.from_numpy(run[f"grad.0.{n}"])
            ref_opt.step()
            for n, p in ref.named_parameters():
                e = rel_err(run[f"param.1.{n}"], p.detach().numpy())
                worst["param"] = max(worst["param"], e)
                case(e <= GRAD_TOL, f"{tag}: parameter {n} after the update differs (rel {e:.2e})")
    print(f"{model_name:6s} {opt_name:5s} {len(names)} tensors: worst rel. loss {worst['loss']:.1e}, "
          f"grad {worst['grad']:.1e}, param after step 1 {worst['param']:.1e}")
    if not tracked:
        return
    # f64: the same training step as PyTorch's, 100 times over.
    init64, run64 = dump(tool, data_dir, model_name, opt_name, steps, out + "_f64", ("--dtype", "f64"))
    d_f64 = track_diff(run64["losses"], torch_losses(model_name, opt_name, init64, run64, steps, torch.float64, False))
    case(d_f64 <= F64_TRACK_TOL, f"{model_name}/{opt_name}: {steps}-step f64 loss vs PyTorch f64 (rel {d_f64:.2e})")
    # f32: each step's loss against PyTorch f64 at the weights the step ran with.
    d_same = track_diff(z_losses, same_weight_losses(model_name, init, run, steps))
    case(d_same <= LOSS_TOL, f"{model_name}/{opt_name}: {steps} f32 losses vs PyTorch f64 at the same weights "
         f"(rel {d_same:.2e})")
    # f32, free-running: printed; asserted with ZF_PARITY_STRICT=1.
    t64 = torch_losses(model_name, opt_name, init, run, steps, torch.float64, False)
    onednn = torch_losses(model_name, opt_name, init, run, steps, torch.float32, True)
    free = {"native": track_diff(z_losses, np.array(t32_track)), "onednn": track_diff(z_losses, onednn),
            "f64": track_diff(z_losses, t64)}
    if STRICT:
        for ref_name, d in free.items():
            case(d <= TRACK_TOL, f"{model_name}/{opt_name}: free-running {steps}-step f32 loss vs PyTorch {ref_name} "
                 f"(rel {d:.2e})")
    print(f"{'':13s}{steps} steps: f64 run vs PyTorch f64 {d_f64:.1e}; f32 losses vs PyTorch f64 at the same "
          f"weights {d_same:.1e}")
    print(f"{'':13s}free-running f32 ({'asserted, strict mode' if STRICT else 'not asserted'}): zerfoo vs PyTorch "
          f"f32 {free['native']:.1e}, vs PyTorch f32 oneDNN {free['onednn']:.1e}, vs PyTorch f64 {free['f64']:.1e}; "
          f"PyTorch's own f32 vs f64: {track_diff(t32_track, t64):.1e}, oneDNN {track_diff(onednn, t64):.1e}")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    data_dir = None
    if "--data-dir" in sys.argv:
        data_dir = sys.argv[sys.argv.index("--data-dir") + 1]
    d = data_dir or os.environ.get("ZF_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
    if not os.path.exists(os.path.join(d, "train-images-idx3-ubyte.gz")) and \
            not os.path.exists(os.path.join(d, "train-images-idx3-ubyte")):
        print(f"SKIP: Fashion-MNIST not found in {d} (Debian: apt-get install dataset-fashion-mnist)")
        return 77
    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch.backends.mkldnn.enabled = False
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory() as work:
        for model_name in ("mlp", "lenet5"):
            for opt_name in ("sgd", "adam", "adamw"):
                check(tool, data_dir, model_name, opt_name, TRACK_STEPS if opt_name == "adam" else 2, work)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
