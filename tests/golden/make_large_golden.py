#!/usr/bin/env python3
"""Generate PyTorch golden fixtures at realistic sizes (hidden 160-192, input 300, batches of
50-60 sequences of unequal lengths) for the RnnGen source generator tests.

How to run (from the repository root)::

    /usr/bin/python3 tests/golden/make_large_golden.py

Requirements: only PyTorch (Debian's python3-torch, 1.13) and the Python standard library
(``apt-get install python3-torch``). Output is deterministic (single thread, no torch RNG).

Why generated weights
---------------------
At these sizes the weights, inputs and gradients of one model are megabytes each. To keep the
committed bytes small, the parameters and the inputs (``test.input``, ``test.h0``/``test.c0``,
``test.dy``, ``test.dhn``/``test.dcn``) are not stored: both this script and the C# test
(tests/RnnGen.Tests/LargeGolden.cs) compute them with the same exact generator, and only
PyTorch's results are stored. Element ``i`` of the tensor ``name`` of case ``case`` is::

    key = fnv1a64(utf8(case + "/" + name))
    z   = splitmix64((key + i * 0x9E3779B97F4A7C15) mod 2**64)
    v   = ((z >> 40) - 2**23) / 2**23 * scale        # uniform in [-scale, scale)

``scale`` is a power of two and ``z >> 40`` has 24 bits, so every value is an exact float32 and
the two sides agree to the bit. ``cases.json`` lists, per case, every generated tensor with its
shape and scale (``generated``), in the order below; the C# test reads that list.

What it writes
--------------
``tests/golden/fixtures/large/{name}.safetensors`` (F32; writer shared with make_golden.py) and
``tests/golden/fixtures/large/cases.json``. The computation is the packed one of
make_batch_golden.py (time-major, lengths in arbitrary batch order, states [L*D, B, H] in that
order, padded outputs zero, the head's padded outputs zeroed again)::

    y, (hn, cn) = packed forward of x (or embedding(tokens)) from h0 (zeros without one)
    loss        = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()]

Stored tensors: ``test.tokens`` [T, B] (token models; ids as float), ``test.lengths`` [B],
``test.output`` [T, B, out], ``test.hn`` / ``test.cn`` [L*D, B, H], and the gradients of
``loss``: ``grad.<state_dict name>`` for every parameter, ``grad.input`` [T, B, input] (vector
models, zero at padded steps), ``grad.h0`` / ``grad.c0`` (cases with an initial state).

Column ``b`` of the outputs and final states is also sequence ``b``'s result run alone (batch
1, its own length and initial state, no packing): the script recomputes every sequence that way
and checks it, and the gradients summed over those runs, against the stored (packed) numbers, so
the fixtures serve as single-sequence and per-step (Step) references too.
"""

import json
import os
import sys

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ next to the fixture scripts
from make_golden import Ref, write_safetensors  # noqa: E402  (module has a main guard)
from make_batch_golden import per_sequence  # noqa: E402

OUT_DIR = os.path.join(HERE, "fixtures", "large")

MASK64 = (1 << 64) - 1
GOLDEN64 = 0x9E3779B97F4A7C15

# name -> config. Sizes: input 300 (> 256, the inner block of the generated products), hidden
# 160-192, 50-60 sequences (> 48 packed rows at the first steps), lengths 1..T in no order.
CASES = [
    ("lstm_i300_h160_head", dict(cell="lstm", input=300, hidden=160, layers=1, bidirectional=False,
                                 vocab=0, output=24, steps=8, batch=52, initial_state=True)),
    ("gru_bi_l2_h160", dict(cell="gru", input=40, hidden=160, layers=2, bidirectional=True,
                            vocab=0, output=0, steps=6, batch=50, initial_state=False)),
    ("gru_tokens_h192_head", dict(cell="gru", input=32, hidden=192, layers=1, bidirectional=False,
                                  vocab=48, output=48, steps=8, batch=60, initial_state=False)),
]

WEIGHT_SCALE = 1.0 / 16  # about PyTorch's default 1/sqrt(hidden) at these sizes


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def splitmix64(z):
    z = (z + GOLDEN64) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def generated(case, name, shape, scale):
    """The tensor the C# test computes the same way (see the module docstring)."""
    key = fnv1a64(case + "/" + name)
    count = 1
    for d in shape:
        count *= d
    values = [((splitmix64((key + i * GOLDEN64) & MASK64) >> 40) - (1 << 23)) / float(1 << 23) * scale
              for i in range(count)]
    t = torch.tensor(values, dtype=torch.float32).reshape(shape)
    assert torch.equal(t.to(torch.float64), torch.tensor(values, dtype=torch.float64).reshape(shape))
    return t


def make_lengths(name, T, B):
    """Deterministic unequal lengths in 1..T, at least one of each end, in no particular order."""
    key = fnv1a64(name + "/lengths")
    lengths = [1 + splitmix64((key + i * GOLDEN64) & MASK64) % T for i in range(B)]
    lengths[B // 3] = T
    lengths[(2 * B) // 3] = 1
    return lengths


class Setup:
    """Model and data of one case; the attribute names are those per_sequence() reads."""

    def __init__(self, name, cfg):
        self.name = name
        self.cell = cell = cfg["cell"]
        self.cfg = cfg
        inp, hid, layers = cfg["input"], cfg["hidden"], cfg["layers"]
        bi, T, B = cfg["bidirectional"], cfg["steps"], cfg["batch"]
        vocab, output = cfg["vocab"], cfg["output"]
        dirs = 2 if bi else 1
        self.spec = []  # (name, shape, scale) of every generated tensor, in order

        def gen(tname, shape, scale):
            self.spec.append(dict(name=tname, shape=list(shape), scale=scale))
            return generated(name, tname, list(shape), scale)

        self.model = Ref(cell, inp, hid, layers, bi, True, "tanh", vocab, output)
        self.sd_names = list(self.model.state_dict().keys())
        self.params = dict(self.model.named_parameters())
        assert self.sd_names == list(self.params.keys())
        with torch.no_grad():
            for n in self.sd_names:
                p = self.params[n]
                p.copy_(gen(n, p.shape, 1.0 if n == "embedding.weight" else WEIGHT_SCALE))

        self.lengths = torch.tensor(make_lengths(name, T, B), dtype=torch.int64)
        self.mask = (torch.arange(T)[:, None] < self.lengths[None, :]).to(torch.float32)
        if vocab > 0:
            key = fnv1a64(name + "/tokens")
            ids = [splitmix64((key + i * GOLDEN64) & MASK64) % vocab for i in range(T * B)]
            self.tokens = torch.tensor(ids, dtype=torch.int64).reshape(T, B)
            self.x = None
        else:
            self.tokens = None
            self.x = gen("test.input", (T, B, inp), 1.0)
        if cfg["initial_state"]:
            self.h0 = gen("test.h0", (layers * dirs, B, hid), 0.5)
            self.c0 = gen("test.c0", (layers * dirs, B, hid), 0.5) if cell == "lstm" else None
        else:
            self.h0 = self.c0 = None
        width = output if output > 0 else dirs * hid
        self.dy = gen("test.dy", (T, B, width), 1.0)
        self.dhn = gen("test.dhn", (layers * dirs, B, hid), 1.0)
        self.dcn = gen("test.dcn", (layers * dirs, B, hid), 1.0) if cell == "lstm" else None


def packed_forward(s):
    m = s.model
    xl = s.x.clone().requires_grad_(True) if s.x is not None else None
    h0l = s.h0.clone().requires_grad_(True) if s.h0 is not None else None
    c0l = s.c0.clone().requires_grad_(True) if s.c0 is not None else None
    x = m.embedding(s.tokens) if s.tokens is not None else xl
    state = None if h0l is None else ((h0l, c0l) if s.cell == "lstm" else h0l)
    packed = pack_padded_sequence(x, s.lengths, enforce_sorted=False)
    out, st = m.rnn(packed, state)
    y, _ = pad_packed_sequence(out, total_length=s.cfg["steps"])
    if m.has_head:
        y = m.head(y) * s.mask[..., None]
    hn, cn = st if s.cell == "lstm" else (st, None)
    return y, hn, cn, xl, h0l, c0l


def run_case(name, cfg):
    s = Setup(name, cfg)
    m = s.model
    tensors = []
    if s.tokens is not None:
        tensors.append(("test.tokens", s.tokens.to(torch.float32)))
    tensors.append(("test.lengths", s.lengths.to(torch.float32)))

    m.zero_grad(set_to_none=True)
    y, hn, cn, xl, h0l, c0l = packed_forward(s)
    assert tuple(y.shape) == tuple(s.dy.shape)
    assert torch.all(y[s.mask == 0] == 0)
    tensors.append(("test.output", y))
    tensors.append(("test.hn", hn))
    if cn is not None:
        tensors.append(("test.cn", cn))
    loss = (y * s.dy).sum() + (hn * s.dhn).sum()
    if cn is not None:
        loss = loss + (cn * s.dcn).sum()
    loss.backward()
    for n in s.sd_names:
        tensors.append(("grad." + n, s.params[n].grad))
    if xl is not None:
        assert torch.all(xl.grad[s.mask == 0] == 0)
        tensors.append(("grad.input", xl.grad))
    if h0l is not None:
        tensors.append(("grad.h0", h0l.grad))
        if c0l is not None:
            tensors.append(("grad.c0", c0l.grad))
    stored = dict(tensors)
    assert len(stored) == len(tensors)
    write_safetensors(os.path.join(OUT_DIR, name + ".safetensors"), tensors)

    # Independent check: every sequence alone, no packing (make_batch_golden.per_sequence).
    y1, hn1, cn1, grads1 = per_sequence(s, True)
    pairs = [("test.output", y1), ("test.hn", hn1)] + ([("test.cn", cn1)] if cn1 is not None else [])
    pairs += [("grad." + k, g) for k, g in grads1.items()]
    worst = 0.0
    for k, ref in pairs:
        got = stored[k].detach()
        assert got.shape == ref.shape, (name, k, got.shape, ref.shape)
        d = (got - ref).abs().max().item()
        assert d <= 1e-5 * (1 + ref.abs().max().item()), (name, k, d)
        worst = max(worst, d)

    meta = {
        "name": name,
        "cell": cfg["cell"],
        "nonlinearity": "tanh",
        "input": cfg["input"],
        "hidden": cfg["hidden"],
        "layers": cfg["layers"],
        "bidirectional": cfg["bidirectional"],
        "bias": True,
        "vocab": cfg["vocab"],
        "output": cfg["output"],
        "steps": cfg["steps"],
        "batch": cfg["batch"],
        "lengths": s.lengths.tolist(),
        "initial_state": cfg["initial_state"],
        "batch_first": False,
        "generated": s.spec,
    }
    return meta, worst


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    metas = []
    for name, cfg in CASES:
        meta, worst = run_case(name, cfg)
        metas.append(meta)
        print("%s: per-sequence check max abs diff %.3g" % (name, worst), file=sys.stderr)
    with open(os.path.join(OUT_DIR, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(metas, f, indent=2)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR))
    print("wrote %d cases to %s (%d bytes)" % (len(metas), OUT_DIR, size), file=sys.stderr)


if __name__ == "__main__":
    main()
