#!/usr/bin/env python3
"""Parity of zerfoo's layers, losses, optimizers and training steps with
PyTorch (Debian's python3-torch, run with /usr/bin/python3).

usage: test_nn_parity.py PATH/TO/nn_tool [--verbose]

Each case writes its inputs (and PyTorch's initial state dict under PyTorch's
own names) to a safetensors file, runs nn_tool on it, and compares every
output with PyTorch's, in f32:
  * layers (Linear, Conv2d with stride/padding/dilation/groups, MaxPool2d
    including ties, AvgPool2d, BatchNorm1d/2d train and eval with running
    stats, LayerNorm, RMSNorm, Embedding, activations, Flatten): the output,
    the gradient of the input and of every parameter, and the state after;
  * losses (cross-entropy with label smoothing and ignored targets, NLL, MSE,
    BCE with logits and pos_weight; mean / sum / none);
  * optimizers (SGD variants, Adam, AdamW): the 3-step parameter trajectory,
    and clip_grad_norm;
  * whole models (MLP, LeNet-5) on synthetic class-template images: loss,
    every gradient and the parameters after one step for SGD, Adam and AdamW,
    and the loss over 100 Adam steps in f64 and in f32 (30 for LeNet-5).
The measure is max|zerfoo - torch| / max|torch| per tensor. Layers, losses,
optimizer trajectories and one-step losses and gradients must be within 1e-5;
parameters after one SGD step within 1e-5 and after one Adam(W) step within
1e-3 (Adam's division by sqrt(v) + eps magnifies rounding in near-zero
gradients: PyTorch f32 and f64 differ by up to ~1e-3 there); the f64 100-step loss curve
within 1e-9; the f32 curve within 1e-4 over 100 steps for the MLP and over 30
steps for LeNet-5 (later its f32 curve is chaotic on this synthetic task:
PyTorch's own f32 and f64 runs drift up to 1e-2 apart by step 100). The worst value of each group is printed; the
last line reads "N passed, M failed".
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOOL = None
VERBOSE = False
PASSED = 0
FAILED = 0
WORST = {}
TMP = None

ST_DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}
NP_DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def st_write(path, tensors, meta):
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name, t in tensors.items():
        a = t.detach().contiguous().cpu().numpy()
        b = a.tobytes()
        header[name] = {"dtype": ST_DT[t.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def st_read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(data[base + b:base + e], dtype=NP_DT[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


def run_tool(spec, inputs):
    fin = os.path.join(TMP, "in.safetensors")
    fout = os.path.join(TMP, "out.safetensors")
    st_write(fin, inputs, {"case": spec})
    r = subprocess.run([TOOL, fin, fout], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return st_read(fout), ""


def rel_diff(got, want):
    got = got.double()
    want = want.double()
    if got.shape != want.shape:
        return float("inf")
    if want.numel() == 0:
        return 0.0
    scale = want.abs().max().item()
    diff = (got - want).abs().max().item()
    if scale == 0:
        return diff
    return diff / scale


def check(group, case, name, got, want, tol):
    global PASSED, FAILED
    if got is None:
        FAILED += 1
        print(f"FAIL {case}: missing output {name}")
        return
    d = rel_diff(got, want)
    ok = d <= tol
    WORST.setdefault(group, (0.0, ""))
    if d > WORST[group][0]:
        WORST[group] = (d, f"{case} {name}")
    if ok:
        PASSED += 1
    else:
        FAILED += 1
        print(f"FAIL {case}: {name} rel diff {d:.3g} > {tol:g}")
    if VERBOSE:
        print(f"  {case:48s} {name:28s} {d:.3g}")


def fail_case(case, msg):
    global FAILED
    FAILED += 1
    print(f"FAIL {case}: nn_tool failed: {msg}")


# ---------------------------------------------------------------- layers
def layer_case(group, case, spec, module, x, train=True, tol=1e-5):
    module.train(train)
    state = {"p." + k: v.detach().clone() for k, v in module.state_dict().items()}
    inputs = dict(state)
    xf = x.is_floating_point()
    xt = x.detach().clone().requires_grad_(xf)
    y = module(xt)
    gy = torch.randn(y.shape, dtype=y.dtype)
    y.backward(gy)
    inputs["x"] = x.detach().clone()
    inputs["gy"] = gy
    if not train:
        inputs["eval"] = torch.zeros(1)
    out, err = run_tool("module " + spec, inputs)
    if out is None:
        return fail_case(case, err)
    check(group, case, "y", out.get("y"), y.detach(), tol)
    if xf:
        check(group, case, "grad.x", out.get("grad.x"), xt.grad, tol)
    for name, p in module.named_parameters():
        check(group, case, "grad." + name, out.get("grad." + name), p.grad, tol)
    for name, v in module.state_dict().items():
        check(group, case, "state." + name, out.get("state." + name), v, tol)


class RMSNorm(nn.Module):
    """x * rsqrt(mean(x^2) + eps) * weight (PyTorch 1.13 has no RMSNorm)."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def randomize(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape) * 0.5 + (1.0 if name.endswith("weight") and p.dim() == 1 else 0.0))
    return module


def layers():
    g = "layers"
    layer_case(g, "linear", "linear 7 5 1", nn.Linear(7, 5), torch.randn(4, 7))
    layer_case(g, "linear 3d no bias", "linear 6 3 0", nn.Linear(6, 3, bias=False), torch.randn(2, 3, 6))
    convs = [
        ((3, 4, 3, 3), (1, 1), (0, 0), (1, 1), 1, True, (2, 3, 9, 8)),
        ((4, 6, 3, 2), (2, 1), (1, 2), (2, 1), 2, True, (3, 4, 10, 9)),
        ((6, 6, 3, 3), (1, 1), (1, 1), (1, 1), 6, False, (2, 6, 7, 7)),
        ((1, 6, 5, 5), (1, 1), (0, 0), (1, 1), 1, True, (4, 1, 28, 28)),
        ((6, 16, 5, 5), (1, 1), (0, 0), (1, 1), 1, True, (4, 6, 12, 12)),
        ((5, 8, 1, 1), (1, 1), (0, 0), (1, 1), 1, True, (2, 5, 6, 4)),
        ((4, 4, 3, 3), (2, 2), (1, 1), (1, 1), 1, True, (65, 4, 5, 5)),
    ]
    for (ci, co, kh, kw), s, p, d, gr, b, xs in convs:
        m = nn.Conv2d(ci, co, (kh, kw), stride=s, padding=p, dilation=d, groups=gr, bias=b)
        spec = f"conv2d {ci} {co} {kh} {kw} {s[0]} {s[1]} {p[0]} {p[1]} {d[0]} {d[1]} {gr} {int(b)}"
        layer_case(g, "conv2d " + spec[7:], spec, m, torch.randn(*xs))
    # max pooling, including many exact ties (values on a coarse grid)
    pools = [((2, 2), (2, 2), (0, 0), (1, 1), False), ((3, 3), (2, 2), (1, 1), (1, 1), True),
             ((2, 3), (1, 2), (0, 1), (2, 1), False), ((3, 2), (3, 2), (1, 0), (1, 1), True)]
    for k, s, p, d, c in pools:
        spec = f"maxpool2d {k[0]} {k[1]} {s[0]} {s[1]} {p[0]} {p[1]} {d[0]} {d[1]} {int(c)}"
        m = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=c)
        layer_case(g, spec, spec, m, torch.randn(2, 3, 9, 8))
        layer_case(g, spec + " ties", spec, m, torch.round(torch.randn(2, 3, 9, 8) * 1.5) / 2)
    avgs = [((2, 2), (2, 2), (0, 0), False, True, None), ((3, 3), (2, 2), (1, 1), True, False, None),
            ((3, 3), (2, 2), (1, 1), False, True, None), ((3, 2), (2, 1), (1, 1), True, True, None),
            ((2, 2), (2, 2), (0, 0), False, True, 3)]
    for k, s, p, c, inc, div in avgs:
        spec = f"avgpool2d {k[0]} {k[1]} {s[0]} {s[1]} {p[0]} {p[1]} {int(c)} {int(inc)} {div or 0}"
        m = nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=c, count_include_pad=inc, divisor_override=div)
        layer_case(g, spec, spec, m, torch.randn(2, 3, 9, 8))
    for train in (True, False):
        tag = "train" if train else "eval"
        for shape in ((8, 5), (6, 5, 7)):
            m = randomize(nn.BatchNorm1d(5, eps=1e-5, momentum=0.1))
            m.running_mean.copy_(torch.randn(5) * 0.1)
            m.running_var.copy_(torch.rand(5) + 0.5)
            layer_case(g, f"batchnorm1d {shape} {tag}", "batchnorm1d 5 1e-5 0.1", m, torch.randn(*shape) * 2 + 1,
                       train)
        m = randomize(nn.BatchNorm2d(3, eps=1e-3, momentum=0.3))
        m.running_var.copy_(torch.rand(3) + 0.5)
        layer_case(g, f"batchnorm2d {tag}", "batchnorm2d 3 1e-3 0.3", m, torch.randn(4, 3, 5, 6) * 3 - 1, train)
    layer_case(g, "layernorm", "layernorm 1e-5 1 2 4 6", randomize(nn.LayerNorm((4, 6))), torch.randn(3, 4, 6) * 2 + 1)
    layer_case(g, "layernorm no affine", "layernorm 1e-6 0 1 8", nn.LayerNorm(8, eps=1e-6, elementwise_affine=False),
               torch.randn(5, 8))
    layer_case(g, "rmsnorm", "rmsnorm 8 1e-6", RMSNorm(8, 1e-6), torch.randn(3, 5, 8))
    layer_case(g, "embedding", "embedding 11 6", nn.Embedding(11, 6), torch.randint(0, 11, (3, 4)))
    acts = [("relu", nn.ReLU()), ("gelu 0", nn.GELU()), ("gelu 1", nn.GELU(approximate="tanh")), ("silu", nn.SiLU()),
            ("tanh", nn.Tanh()), ("sigmoid", nn.Sigmoid()), ("flatten 1 -1", nn.Flatten())]
    for spec, m in acts:
        layer_case(g, spec, spec, m, torch.randn(4, 3, 5) * 3)


# ---------------------------------------------------------------- losses
RED = {0: "mean", 1: "sum", 2: "none"}


def loss_case(case, spec, red, x, target, torch_fn, extra=None):
    xt = x.clone().requires_grad_(True)
    y = torch_fn(xt)
    gy = torch.randn(y.shape) if red == 2 else None
    y.backward(gy if gy is not None else torch.ones(()))
    inputs = {"x": x, "target": target}
    if gy is not None:
        inputs["gy"] = gy
    if extra:
        inputs.update(extra)
    out, err = run_tool(spec, inputs)
    if out is None:
        return fail_case(case, err)
    check("losses", case, "y", out.get("y"), y.detach(), 1e-5)
    check("losses", case, "grad.x", out.get("grad.x"), xt.grad, 1e-5)


def losses():
    for red in (0, 1, 2):
        r = RED[red]
        x = torch.randn(9, 6) * 3
        t = torch.randint(0, 6, (9,))
        t[4] = -100
        for ls in (0.0, 0.2):
            loss_case(f"cross_entropy {r} ls={ls}", f"loss ce {red} {ls}", red, x, t,
                      lambda v, ls=ls, r=r: F.cross_entropy(v, t, reduction=r, label_smoothing=ls))
        logp = F.log_softmax(torch.randn(9, 6), dim=1)
        loss_case(f"nll {r}", f"loss nll {red}", red, logp, t, lambda v, r=r: F.nll_loss(v, t, reduction=r))
        a, b = torch.randn(4, 5), torch.randn(4, 5)
        loss_case(f"mse {r}", f"loss mse {red}", red, a, b, lambda v, r=r: F.mse_loss(v, b, reduction=r))
        z = torch.cat([torch.randn(3, 5) * 2, torch.tensor([[40.0, -40.0, 90.0, -90.0, 0.0]])])
        y = torch.rand(4, 5)
        loss_case(f"bce_with_logits {r}", f"loss bce {red}", red, z, y,
                  lambda v, r=r: F.binary_cross_entropy_with_logits(v, y, reduction=r))
        pw = torch.rand(5) * 2 + 0.2
        loss_case(f"bce_with_logits pos_weight {r}", f"loss bce {red}", red, z, y,
                  lambda v, r=r: F.binary_cross_entropy_with_logits(v, y, reduction=r, pos_weight=pw),
                  {"pos_weight": pw})


# ---------------------------------------------------------------- optimizers
OPTS = [
    ("sgd", "sgd 0.1 0 0 0 0", lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd momentum", "sgd 0.05 0.9 0 0 0", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    ("sgd dampening wd", "sgd 0.05 0.9 0.1 0.01 0",
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd nesterov wd", "sgd 0.05 0.9 0 0.01 1",
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("adam", "adam 0.001 0.9 0.999 1e-8 0", lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    ("adam wd", "adam 0.01 0.8 0.99 1e-6 0.05",
     lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("adamw", "adamw 0.001 0.9 0.999 1e-8 0.01", lambda ps: torch.optim.AdamW(ps, lr=1e-3)),
    ("adamw wd", "adamw 0.005 0.9 0.95 1e-8 0.1",
     lambda ps: torch.optim.AdamW(ps, lr=5e-3, betas=(0.9, 0.95), weight_decay=0.1)),
]


def optimizers():
    steps = 3
    for dtype, tol, group in ((torch.float32, 1e-5, "optimizers f32"), (torch.float64, 1e-12, "optimizers f64")):
        for name, spec, make in OPTS:
            ps = [torch.randn(4, 3, dtype=dtype), torch.randn(3, dtype=dtype), torch.randn(2, 2, 2, dtype=dtype)]
            inputs = {f"p.{i}": p.clone() for i, p in enumerate(ps)}
            params = [nn.Parameter(p.clone()) for p in ps]
            opt = make(params)
            want = {}
            for s in range(steps):
                for i, p in enumerate(params):
                    g = torch.randn(p.shape, dtype=dtype)
                    inputs[f"g.{s}.{i}"] = g
                    p.grad = g.clone()
                opt.step()
                for i, p in enumerate(params):
                    want[f"p.{s}.{i}"] = p.detach().clone()
            out, err = run_tool(f"optim {spec} {steps}", inputs)
            if out is None:
                fail_case(name, err)
                continue
            for k, v in want.items():
                # the update itself (p_s - p_0), relative to its size
                i = int(k.split(".")[2])
                got = out.get(k)
                check(group, f"{name} {str(dtype)[6:]}", k,
                      None if got is None else got.double() - ps[i].double(), v.double() - ps[i].double(),
                      tol if dtype == torch.float64 else 1e-4)
                check(group, f"{name} {str(dtype)[6:]}", k + " (value)", got, v, tol)
    for max_norm in (1.0, 100.0):
        gs = {f"g{i}": torch.randn(s) for i, s in enumerate([(4, 3), (5,), (2, 2)])}
        params = [nn.Parameter(torch.zeros(g.shape)) for g in gs.values()]
        for p, g in zip(params, gs.values()):
            p.grad = g.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        out, err = run_tool(f"clip {max_norm}", gs)
        if out is None:
            fail_case("clip", err)
            continue
        for (k, g), p in zip(gs.items(), params):
            check("optimizers f32", f"clip_grad_norm {max_norm}", k, out.get(k), p.grad, 1e-5)
        check("optimizers f32", f"clip_grad_norm {max_norm}", "norm", out.get("norm"), norm.double(), 1e-5)


# ---------------------------------------------------------------- whole models
def make_model(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


MODEL_OPTS = [("sgd", "sgd 0.05 0.9 0 0 0", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
              ("adam", "adam 0.001 0.9 0.999 1e-8 0", lambda ps: torch.optim.Adam(ps, lr=1e-3)),
              ("adamw", "adamw 0.001 0.9 0.999 1e-8 0.01", lambda ps: torch.optim.AdamW(ps, lr=1e-3))]


def batches(steps, batch, dtype, seed):
    """Images in [0, 1]: one template per class plus noise, labels 0..9."""
    g = torch.Generator().manual_seed(seed)
    templates = torch.rand(10, 1, 28, 28, generator=g)
    out = []
    for _ in range(steps):
        y = torch.randint(0, 10, (batch,), generator=g)
        x = (templates[y] + 0.5 * torch.randn(batch, 1, 28, 28, generator=g)).clamp(0, 1)
        out.append((x.to(dtype), y))
    return out


def torch_train(model, make_opt, data):
    opt = make_opt(model.parameters())
    losses, grad1 = [], {}
    for s, (x, y) in enumerate(data):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
        if s == 0:
            grad1 = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        opt.step()
    return torch.tensor(losses, dtype=torch.float64), grad1


def curve_diff(got, want):
    return float("inf") if got is None else ((got - want).abs() / want.abs()).max().item()


def record(group, case, d, tol):
    global PASSED, FAILED
    WORST.setdefault(group, (0.0, ""))
    if d > WORST[group][0]:
        WORST[group] = (d, case)
    if d <= tol:
        PASSED += 1
    else:
        FAILED += 1
        print(f"FAIL {case}: rel diff {d:.3g} > {tol:g}")
    if VERBOSE:
        print(f"  {case:48s} {d:.3g}")


def train_case(kind, oname, ospec, make_opt, steps, dtype=torch.float32, seed=0):
    model = make_model(kind).to(dtype)
    state0 = {k: v.detach().clone() for k, v in model.state_dict().items()}
    data = batches(steps, 64, dtype, seed)
    inputs = {"p." + k: v for k, v in state0.items()}
    for s, (x, y) in enumerate(data):
        inputs[f"x.{s}"] = x
        inputs[f"y.{s}"] = y
    losses, grad1 = torch_train(model, make_opt, data)
    out, err = run_tool(f"train {kind} {ospec} {steps}", inputs)
    case = f"{kind} {oname} {steps} steps {str(dtype)[6:]}"
    if out is None:
        return fail_case(case, err)
    got = out.get("loss")
    if steps == 1:
        g = "models, one step (loss, grads)"
        check(g, case, "loss", got, losses, 1e-5)
        for n, gr in grad1.items():
            check(g, case, "grad." + n, out.get("grad1." + n), gr, 1e-5)
        # Parameters after one step. SGD's update is linear in the gradient:
        # within 1e-5. Adam divides by sqrt(v) + eps, so a gradient element
        # near eps turns rounding noise into an update difference of up to
        # lr: PyTorch f32 and f64 differ by 1e-6..1e-3 there, so Adam(W) is
        # held to 1e-3 (a wrong formula is off by far more).
        tol = 1e-5 if oname == "sgd" else 1e-3
        for n, p in model.named_parameters():
            check("models, one step (params)", case, "param." + n, out.get("final." + n), p.detach(), tol)
        return
    d = curve_diff(got, losses)
    if dtype == torch.float64:
        return record("models, Adam loss curve f64", case, d, 1e-9)
    # f32 within 1e-4, with PyTorch's own f32-f64 drift printed for scale.
    ref64 = make_model(kind).double()
    ref64.load_state_dict({k: v.double() for k, v in state0.items()})
    l64, _ = torch_train(ref64, lambda ps: make_opt(ps), [(x.double(), y) for x, y in data])
    noise = curve_diff(losses, l64)
    if VERBOSE or d > 1e-4:
        print(f"  {case}: zerfoo vs torch {d:.3g} (torch f32 vs torch f64 {noise:.3g})")
    record("models, Adam loss curve f32", case, d, 1e-4)


def models():
    for kind in ("mlp", "lenet5"):
        for oname, ospec, make in MODEL_OPTS:
            train_case(kind, oname, ospec, make, 1)
        # LeNet-5 on this synthetic task amplifies f32 rounding after ~50
        # steps (PyTorch's own f32 and f64 runs drift up to 1e-2 apart by step
        # 100, seed-dependent), so its f32 curve is checked over 30 steps and
        # its 100-step curve in f64.
        train_case(kind, "adam", MODEL_OPTS[1][1], MODEL_OPTS[1][2], 100 if kind == "mlp" else 30)
        train_case(kind, "adam", MODEL_OPTS[1][1], MODEL_OPTS[1][2], 100, torch.float64)


def main():
    global TOOL, VERBOSE, TMP
    if len(sys.argv) < 2:
        print("usage: test_nn_parity.py PATH/TO/nn_tool [--verbose]")
        return 2
    TOOL = sys.argv[1]
    VERBOSE = "--verbose" in sys.argv
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        TMP = d
        layers()
        losses()
        optimizers()
        models()
    print(f"torch {torch.__version__}; max relative difference per group:")
    for group, (d, where) in WORST.items():
        print(f"  {group:34s} {d:.3g}  ({where})")
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
