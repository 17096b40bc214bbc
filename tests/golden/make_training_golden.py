#!/usr/bin/env python3
"""Generate PyTorch golden fixtures for the RnnGen training runtime (losses, optimizers,
gradient clipping, learning-rate schedules, softmax).

What it writes
--------------
``tests/golden/fixtures/training.safetensors`` (all tensors F32; integer targets are
stored as float32; scalars have shape [1]):

Losses (``torch.nn.functional``), for each case ``<case>``:

* ``loss.<case>.input``    logits or predictions
* ``loss.<case>.target``   class indices (cross-entropy) or target values
* ``loss.<case>.loss``     [1]
* ``loss.<case>.grad``     d(loss)/d(input), same shape as the input

  cases: ``ce_mean``, ``ce_sum``, ``ce_large`` (logits up to +-500, stability),
  ``ce_ignore_mean`` / ``ce_ignore_sum`` (targets with ignore_index -100),
  ``ce_ignore_custom`` (ignore_index=2), ``mse_mean``, ``mse_sum``,
  ``bce_mean``, ``bce_sum`` (binary_cross_entropy_with_logits, soft targets,
  logits up to +-40).

Optimizers (``torch.optim``, foreach=False), for each configuration ``<name>`` in
``OPTIMIZERS`` below (the C# test repeats the hyperparameters):

* ``opt.<name>.params0``  [50] initial parameters
* ``opt.<name>.grads``    [5, 50] the gradient fed to step k
* ``opt.<name>.params``   [5, 50] the parameters after step k

Gradient clipping (``torch.nn.utils.clip_grad_norm_``), cases ``clip`` (clips) and
``clip_noop`` (norm already below max_norm): ``clip.<case>.input``, ``.max_norm`` [1],
``.output``, ``.norm`` [1].

Schedules (``torch.optim.lr_scheduler``), the rate in effect for steps 0..20 (read from
the optimizer before each optimizer.step(); scheduler.step() after it):

* ``sched.step_lr``        StepLR(lr=0.1, step_size=3, gamma=0.5)
* ``sched.cosine``         CosineAnnealingLR(lr=0.1, T_max=20, eta_min=0.001)
* ``sched.cosine_short``   CosineAnnealingLR(lr=0.05, T_max=8, eta_min=0) (past T_max)

Softmax: ``softmax.logits`` [12], ``softmax.temperatures`` [3],
``softmax.probs`` [3, 12] = softmax(logits / t).

The safetensors file is written by hand (no ``safetensors`` package needed): an
8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header padded with
spaces to a multiple of 8, then the raw little-endian float32 data.

Requirements
------------
Only PyTorch (1.13 was used) and the Python standard library::

    apt-get install python3-torch

How to run (from the repository root)::

    /usr/bin/python3 tests/golden/make_training_golden.py

Output is deterministic (fixed torch.manual_seed per section, single thread).
"""

import json
import os
import struct

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "fixtures", "training.safetensors")

PARAMS = 50
STEPS = 5

# name -> (torch.optim class name, keyword arguments). Learning rates are large enough
# that every step visibly moves the parameters.
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_weight_decay": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    "adagrad": ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, weight_decay=0.01)),
    "adagrad_min_char_rnn": ("Adagrad", dict(lr=0.1, eps=1e-8)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": (
        "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-8, momentum=0.9, centered=True, weight_decay=0.01)),
}


def f32(t):
    return t.detach().to(torch.float32).contiguous()


def scalar(x):
    return torch.tensor([float(x)], dtype=torch.float32)


def save_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = f32(t)
        data = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def loss_case(out, case, fn, x, target, **kwargs):
    x = f32(x).clone().requires_grad_(True)
    loss = fn(x, target, **kwargs)
    loss.backward()
    out["loss.%s.input" % case] = x
    out["loss.%s.target" % case] = target.to(torch.float32)
    out["loss.%s.loss" % case] = loss.reshape(1)
    out["loss.%s.grad" % case] = x.grad


def losses(out):
    torch.manual_seed(1)
    n, c = 6, 7
    logits = torch.randn(n, c) * 2
    targets = torch.randint(0, c, (n,))
    loss_case(out, "ce_mean", F.cross_entropy, logits, targets)
    loss_case(out, "ce_sum", F.cross_entropy, logits, targets, reduction="sum")
    large = torch.randn(4, 5) * 200
    large[0, 1] = 500.0
    large[2, 3] = -500.0
    loss_case(out, "ce_large", F.cross_entropy, large, torch.tensor([1, 0, 3, 4]))
    ignored = targets.clone()
    ignored[1] = -100
    ignored[4] = -100
    loss_case(out, "ce_ignore_mean", F.cross_entropy, logits, ignored)
    loss_case(out, "ce_ignore_sum", F.cross_entropy, logits, ignored, reduction="sum")
    custom = torch.tensor([2, 0, 2, 5, 1, 6])
    loss_case(out, "ce_ignore_custom", F.cross_entropy, logits, custom, ignore_index=2)

    prediction = torch.randn(3, 11)
    target = torch.randn(3, 11)
    loss_case(out, "mse_mean", F.mse_loss, prediction, target)
    loss_case(out, "mse_sum", F.mse_loss, prediction, target, reduction="sum")

    bce_logits = torch.randn(37) * 4
    bce_logits[0] = 40.0
    bce_logits[1] = -40.0
    bce_targets = torch.rand(37)
    bce_targets[2] = 0.0
    bce_targets[3] = 1.0
    loss_case(out, "bce_mean", F.binary_cross_entropy_with_logits, bce_logits, bce_targets)
    loss_case(out, "bce_sum", F.binary_cross_entropy_with_logits, bce_logits, bce_targets, reduction="sum")


def optimizers(out):
    torch.manual_seed(2)
    params0 = torch.randn(PARAMS)
    grads = torch.randn(STEPS, PARAMS)
    for name, (cls, kwargs) in OPTIMIZERS.items():
        p = torch.nn.Parameter(params0.clone())
        opt = getattr(torch.optim, cls)([p], foreach=False, **kwargs)
        trajectory = []
        for k in range(STEPS):
            p.grad = grads[k].clone()
            opt.step()
            trajectory.append(p.detach().clone())
        out["opt.%s.params0" % name] = params0
        out["opt.%s.grads" % name] = grads
        out["opt.%s.params" % name] = torch.stack(trajectory)


def clipping(out):
    torch.manual_seed(3)
    for case, max_norm in (("clip", 1.5), ("clip_noop", 100.0)):
        g = torch.randn(PARAMS)
        p = torch.nn.Parameter(torch.zeros(PARAMS))
        p.grad = g.clone()
        norm = torch.nn.utils.clip_grad_norm_([p], max_norm)
        out["clip.%s.input" % case] = g
        out["clip.%s.max_norm" % case] = scalar(max_norm)
        out["clip.%s.output" % case] = p.grad
        out["clip.%s.norm" % case] = norm.reshape(1)


def schedules(out):
    def rates(lr, make):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr)
        sched = make(opt)
        values = []
        for _ in range(21):
            values.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return torch.tensor(values, dtype=torch.float64)

    S = torch.optim.lr_scheduler
    out["sched.step_lr"] = rates(0.1, lambda o: S.StepLR(o, step_size=3, gamma=0.5))
    out["sched.cosine"] = rates(0.1, lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.001))
    out["sched.cosine_short"] = rates(0.05, lambda o: S.CosineAnnealingLR(o, T_max=8, eta_min=0.0))


def softmax(out):
    torch.manual_seed(4)
    logits = torch.randn(12) * 3
    temperatures = torch.tensor([1.0, 0.5, 2.5])
    out["softmax.logits"] = logits
    out["softmax.temperatures"] = temperatures
    out["softmax.probs"] = torch.stack([torch.softmax(logits / t, dim=0) for t in temperatures])


def main():
    torch.set_num_threads(1)
    out = {}
    losses(out)
    optimizers(out)
    clipping(out)
    schedules(out)
    softmax(out)
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    save_safetensors(OUT_PATH, out)
    print("wrote %s (%d tensors, %d bytes)" % (OUT_PATH, len(out), os.path.getsize(OUT_PATH)))


if __name__ == "__main__":
    main()
