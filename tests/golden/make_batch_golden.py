#!/usr/bin/env python3
"""Generate PyTorch golden fixtures for batched, unequal-length sequences (packed-sequence
semantics) for the RnnGen source generator tests.

What it writes
--------------
For each of 17 cases (see ``CASES`` below) this script writes
``tests/golden/fixtures/batch/{name}.safetensors`` (all tensors F32) and
``tests/golden/fixtures/batch/cases.json`` describing every case.

The computation is (time-major, ``batch_first=False``, except the one batch-first case)::

    x       = input [T, B, input]          or embedding(tokens [T, B])
    packed  = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, st = rnn(packed, h0)              # h0 = None, or h0 / (h0, c0)
    y, _    = pad_packed_sequence(out, total_length=T)   # padded steps are zero
    y       = head(y) * mask[..., None]    # only with a head: padded steps zeroed again

``lengths`` are in arbitrary (unsorted) batch order; every state tensor ([L*D, B, H]) is in
that same, original batch order. The final state is each sequence's own last valid step for
the forward direction, and t = 0 for the reverse direction.

Tensors per file:

* ``model.<state_dict name>``  every parameter (PyTorch init + 0.1*N(0,1) perturbation), in
  state_dict order (``model.embedding.weight``, ``model.rnn.weight_ih_l0``, ...,
  ``model.head.weight``, ``model.head.bias``).
* ``test.input`` [T, B, input] (float models) or ``test.tokens`` [T, B] (token ids as float,
  token models). Padded positions hold ordinary random values / valid random token ids; they
  must be ignored (they influence nothing and receive zero gradient).
* ``test.lengths`` [B] (as float), ``test.h0`` / ``test.c0`` [L*D, B, H] when the case has an
  initial state.
* ``test.output`` [T, B, out] (zero at padded steps), ``test.hn`` / ``test.cn`` [L*D, B, H].
* ``test.dy`` [T, B, out] ~ N(0,1) (also non-zero at padded steps; those entries multiply zero
  outputs and so contribute nothing) and the gradients of ``loss = (y*dy).sum()``:
  ``grad.<state_dict name>``, ``grad.input`` [T, B, input] (float models; zero at padded
  steps), ``grad.h0`` / ``grad.c0`` (initial state).
* ``test.dhn`` / ``test.dcn`` ~ N(0,1) and the gradients of
  ``loss2 = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()]`` under ``grad2.``.

The case ``lstm_bi_batch_first`` uses the same seed, parameters and data as ``lstm_bi_init``
but runs the LSTM with ``batch_first=True``: ``test.input``, ``test.output``, ``test.dy`` and
``grad.input`` / ``grad2.input`` are [B, T, ...]; states stay [L*D, B, H] as in PyTorch.

The safetensors files are written by hand with ``write_safetensors`` imported from
``make_golden.py`` (no ``safetensors`` package needed).

The script finally runs an independent check: every case is recomputed one sequence at a
time (batch 1, its own length, its own h0/c0 slice, no packing) and compared with the
batched outputs, final states and (summed over sequences) gradients.

Requirements
------------
Only PyTorch (1.13 was used) and the Python standard library::

    apt-get install python3-torch

How to run (from the repository root)::

    /usr/bin/python3 tests/golden/make_batch_golden.py

Output is deterministic (torch.manual_seed per case, single thread).
"""

import json
import os
import sys

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures scripts
from make_golden import Ref, write_safetensors  # noqa: E402  (module has a main guard)

OUT_DIR = os.path.join(HERE, "fixtures", "batch")

# (suffix, config) -- config keys: input, hidden, layers, bidirectional, steps, batch,
# lengths, initial_state, vocab, output
CONFIGS = [
    ("uni", dict(input=5, hidden=7, layers=1, bidirectional=False, steps=6, batch=4,
                 lengths=[3, 6, 1, 4], initial_state=False, vocab=0, output=0)),
    ("bi_init", dict(input=4, hidden=9, layers=2, bidirectional=True, steps=5, batch=3,
                     lengths=[2, 5, 4], initial_state=True, vocab=0, output=0)),
    ("tokens_head", dict(input=6, hidden=8, layers=1, bidirectional=False, steps=7, batch=5,
                         lengths=[7, 2, 5, 7, 1], initial_state=True, vocab=11, output=5)),
    ("bi_tokens_head", dict(input=4, hidden=6, layers=2, bidirectional=True, steps=6, batch=4,
                            lengths=[4, 6, 1, 3], initial_state=False, vocab=9, output=3)),
    ("full", dict(input=3, hidden=5, layers=2, bidirectional=False, steps=4, batch=3,
                  lengths=[4, 4, 4], initial_state=True, vocab=0, output=0)),
]

# (name prefix, cell, nonlinearity)
CELLS = [
    ("rnn", "rnn", "tanh"),
    ("lstm", "lstm", "tanh"),
    ("gru", "gru", "tanh"),
]

RELU_BI = ("rnn_relu_bi", "rnn", "relu",
           dict(input=4, hidden=6, layers=1, bidirectional=True, steps=5, batch=3,
                lengths=[5, 3, 2], initial_state=True, vocab=0, output=0))


def build_cases():
    """List of (name, cell, nonlinearity, cfg, seed, batch_first)."""
    cases = []
    index = 0
    for prefix, cell, nonlin in CELLS:
        for suffix, cfg in CONFIGS:
            cases.append(("%s_%s" % (prefix, suffix), cell, nonlin, cfg, 2000 + index, False))
            index += 1
    name, cell, nonlin, cfg = RELU_BI
    cases.append((name, cell, nonlin, cfg, 2000 + index, False))
    # Same seed (so same parameters and data) as lstm_bi_init, batch_first=True.
    bf = [c for c in cases if c[0] == "lstm_bi_init"][0]
    cases.append(("lstm_bi_batch_first", bf[1], bf[2], bf[3], bf[4], True))
    return cases


class Setup:
    """Model and data of one case, all generated time-major."""

    def __init__(self, cell, nonlinearity, cfg, seed):
        torch.manual_seed(seed)
        self.cell = cell
        self.cfg = cfg
        inp, hid, layers = cfg["input"], cfg["hidden"], cfg["layers"]
        bi, T, B = cfg["bidirectional"], cfg["steps"], cfg["batch"]
        vocab, output, init = cfg["vocab"], cfg["output"], cfg["initial_state"]
        dirs = 2 if bi else 1
        lengths = cfg["lengths"]
        assert len(lengths) == B and max(lengths) == T and min(lengths) >= 1

        self.model = Ref(cell, inp, hid, layers, bi, True, nonlinearity, vocab, output)
        with torch.no_grad():
            for p in self.model.parameters():
                p.add_(0.1 * torch.randn_like(p))
        self.sd_names = list(self.model.state_dict().keys())
        self.params = dict(self.model.named_parameters())
        assert self.sd_names == list(self.params.keys())

        self.lengths = torch.tensor(lengths, dtype=torch.int64)
        # mask[t, b] = 1 for valid steps
        self.mask = (torch.arange(T)[:, None] < self.lengths[None, :]).to(torch.float32)
        if vocab > 0:
            self.tokens = torch.randint(0, vocab, (T, B))
            self.x = None
        else:
            self.tokens = None
            self.x = torch.randn(T, B, inp)
        if init:
            self.h0 = 0.5 * torch.randn(layers * dirs, B, hid)
            self.c0 = 0.5 * torch.randn(layers * dirs, B, hid) if cell == "lstm" else None
        else:
            self.h0 = self.c0 = None
        width = output if output > 0 else dirs * hid
        self.dy = torch.randn(T, B, width)
        self.dhn = torch.randn(layers * dirs, B, hid)
        self.dcn = torch.randn(layers * dirs, B, hid) if cell == "lstm" else None


def batched_forward(s, batch_first):
    """Packed forward. Returns y [T,B,W] (time-major), hn, cn, and leaves (x, h0, c0)."""
    m = s.model
    m.rnn.batch_first = batch_first
    xl = s.x.clone().requires_grad_(True) if s.x is not None else None
    h0l = s.h0.clone().requires_grad_(True) if s.h0 is not None else None
    c0l = s.c0.clone().requires_grad_(True) if s.c0 is not None else None
    T = s.cfg["steps"]
    if s.tokens is not None:
        x = m.embedding(s.tokens)  # [T, B, input]
    else:
        x = xl
    if batch_first:
        x = x.transpose(0, 1)
    if h0l is not None:
        state = (h0l, c0l) if s.cell == "lstm" else h0l
    else:
        state = None
    packed = pack_padded_sequence(x, s.lengths, batch_first=batch_first, enforce_sorted=False)
    out, st = m.rnn(packed, state)
    y, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    if batch_first:
        y = y.transpose(0, 1)
    if m.has_head:
        y = m.head(y) * s.mask[..., None]
    m.rnn.batch_first = False
    if s.cell == "lstm":
        hn, cn = st
    else:
        hn, cn = st, None
    return y, hn, cn, xl, h0l, c0l


def collect_grads(s, prefix, xl, h0l, c0l, batch_first):
    out = []
    for n in s.sd_names:
        g = s.params[n].grad
        out.append((prefix + n, g if g is not None else torch.zeros_like(s.params[n])))
    if xl is not None:
        gx = xl.grad
        out.append((prefix + "input", gx.transpose(0, 1) if batch_first else gx))
    if h0l is not None:
        out.append((prefix + "h0", h0l.grad))
        if c0l is not None:
            out.append((prefix + "c0", c0l.grad))
    return out


def tm(t, batch_first):
    """Time-major [T,B,...] tensor in the stored layout."""
    return t.transpose(0, 1).contiguous() if batch_first else t


def run_case(name, cell, nonlinearity, cfg, seed, batch_first):
    s = Setup(cell, nonlinearity, cfg, seed)
    m = s.model
    tensors = [("model." + n, s.params[n]) for n in s.sd_names]
    if s.tokens is not None:
        tensors.append(("test.tokens", s.tokens.to(torch.float32)))
    else:
        tensors.append(("test.input", tm(s.x, batch_first)))
    tensors.append(("test.lengths", s.lengths.to(torch.float32)))
    if s.h0 is not None:
        tensors.append(("test.h0", s.h0))
        if s.c0 is not None:
            tensors.append(("test.c0", s.c0))

    # Pass 1: loss = (y*dy).sum()
    m.zero_grad(set_to_none=True)
    y, hn, cn, xl, h0l, c0l = batched_forward(s, batch_first)
    assert tuple(y.shape) == tuple(s.dy.shape), (y.shape, s.dy.shape)
    assert torch.all(y[s.mask == 0] == 0)
    tensors.append(("test.output", tm(y, batch_first)))
    tensors.append(("test.hn", hn))
    if cn is not None:
        tensors.append(("test.cn", cn))
    tensors.append(("test.dy", tm(s.dy, batch_first)))
    (y * s.dy).sum().backward()
    g1 = collect_grads(s, "grad.", xl, h0l, c0l, batch_first)
    if xl is not None:
        assert torch.all(xl.grad[s.mask == 0] == 0)
    tensors += g1

    # Pass 2: loss2 = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()]
    tensors.append(("test.dhn", s.dhn))
    if cell == "lstm":
        tensors.append(("test.dcn", s.dcn))
    m.zero_grad(set_to_none=True)
    y2, hn2, cn2, xl, h0l, c0l = batched_forward(s, batch_first)
    assert torch.equal(y2, y) and torch.equal(hn2, hn)
    loss2 = (y2 * s.dy).sum() + (hn2 * s.dhn).sum()
    if cell == "lstm":
        loss2 = loss2 + (cn2 * s.dcn).sum()
    loss2.backward()
    g2 = collect_grads(s, "grad2.", xl, h0l, c0l, batch_first)
    if xl is not None:
        assert torch.all(xl.grad[s.mask == 0] == 0)
    tensors += g2

    names = [n for n, _ in tensors]
    assert len(names) == len(set(names)), names
    write_safetensors(os.path.join(OUT_DIR, name + ".safetensors"), tensors)

    meta = {
        "name": name,
        "cell": cell,
        "nonlinearity": nonlinearity,
        "input": cfg["input"],
        "hidden": cfg["hidden"],
        "layers": cfg["layers"],
        "bidirectional": cfg["bidirectional"],
        "bias": True,
        "vocab": cfg["vocab"],
        "output": cfg["output"],
        "steps": cfg["steps"],
        "batch": cfg["batch"],
        "lengths": list(cfg["lengths"]),
        "initial_state": cfg["initial_state"],
        "batch_first": batch_first,
    }
    return meta, dict(tensors)


# ----------------------------------------------------------------------------------------
# Independent check: one sequence at a time, no packing.
# ----------------------------------------------------------------------------------------

def per_sequence(s, with_state_grad):
    """Runs every sequence alone (batch 1, own length, own h0 slice, no packing).

    Returns y [T,B,W] (zero at padded steps), hn, cn, and gradients (same keys as the
    fixture, without prefix) summed over sequences (input/h0/c0 gradients assembled per
    column)."""
    m = s.model
    T, B = s.cfg["steps"], s.cfg["batch"]
    y_all = torch.zeros_like(s.dy)
    hn_cols, cn_cols = [], []
    grads = {n: torch.zeros_like(p) for n, p in s.params.items()}
    gx = torch.zeros_like(s.x) if s.x is not None else None
    gh0 = torch.zeros_like(s.h0) if s.h0 is not None else None
    gc0 = torch.zeros_like(s.c0) if s.c0 is not None else None
    for b in range(B):
        L = int(s.lengths[b])
        m.zero_grad(set_to_none=True)
        if s.tokens is not None:
            x = m.embedding(s.tokens[:L, b]).unsqueeze(1)
            xl = None
        else:
            xl = s.x[:L, b].clone().unsqueeze(1).requires_grad_(True)
            x = xl
        h0l = s.h0[:, b:b + 1].clone().requires_grad_(True) if s.h0 is not None else None
        c0l = s.c0[:, b:b + 1].clone().requires_grad_(True) if s.c0 is not None else None
        state = None if h0l is None else ((h0l, c0l) if s.cell == "lstm" else h0l)
        y, st = m.rnn(x, state)
        if m.has_head:
            y = m.head(y)
        hn, cn = st if s.cell == "lstm" else (st, None)
        y_all[:L, b] = y[:, 0].detach()
        hn_cols.append(hn.detach())
        if cn is not None:
            cn_cols.append(cn.detach())
        loss = (y[:, 0] * s.dy[:L, b]).sum()
        if with_state_grad:
            loss = loss + (hn * s.dhn[:, b:b + 1]).sum()
            if cn is not None:
                loss = loss + (cn * s.dcn[:, b:b + 1]).sum()
        loss.backward()
        for n, p in s.params.items():
            if p.grad is not None:
                grads[n] += p.grad
        if xl is not None:
            gx[:L, b] = xl.grad[:, 0]
        if h0l is not None:
            gh0[:, b] = h0l.grad[:, 0]
            if c0l is not None:
                gc0[:, b] = c0l.grad[:, 0]
    m.zero_grad(set_to_none=True)
    hn = torch.cat(hn_cols, dim=1)
    cn = torch.cat(cn_cols, dim=1) if cn_cols else None
    if gx is not None:
        grads["input"] = gx
    if gh0 is not None:
        grads["h0"] = gh0
        if gc0 is not None:
            grads["c0"] = gc0
    return y_all, hn, cn, grads


def verify(cases, stored):
    """Compares every fixture with the per-sequence recomputation. Returns max abs diff."""
    worst = 0.0
    bitwise = 0
    total = 0
    for name, cell, nonlin, cfg, seed, batch_first in cases:
        s = Setup(cell, nonlin, cfg, seed)  # same seed -> same parameters and data
        t = stored[name]
        for pass_, prefix in ((False, "grad."), (True, "grad2.")):
            y, hn, cn, grads = per_sequence(s, pass_)
            pairs = [("test.output", tm(y, batch_first)), ("test.hn", hn)]
            if cn is not None:
                pairs.append(("test.cn", cn))
            for k, g in grads.items():
                if k == "input":
                    g = tm(g, batch_first)
                pairs.append((prefix + k, g))
            for k, ref in pairs:
                got = t[k].detach()
                assert got.shape == ref.shape, (name, k, got.shape, ref.shape)
                d = (got - ref).abs().max().item()
                tol = 1e-5 * (1 + ref.abs().max().item())
                assert d <= tol, (name, k, d)
                worst = max(worst, d)
                total += 1
                bitwise += int(torch.equal(got, ref))
    return worst, bitwise, total


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = build_cases()
    metas, stored = [], {}
    for c in cases:
        meta, tensors = run_case(*c)
        metas.append(meta)
        stored[c[0]] = tensors
    with open(os.path.join(OUT_DIR, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(metas, f, indent=2)
        f.write("\n")

    # The batch-first case is the transpose of lstm_bi_init.
    a, b = stored["lstm_bi_init"], stored["lstm_bi_batch_first"]
    assert a.keys() == b.keys()
    for k in a:
        if k in ("test.input", "test.output", "test.dy", "grad.input", "grad2.input"):
            assert torch.equal(a[k].transpose(0, 1), b[k]), k
        else:
            assert torch.equal(a[k], b[k]), k

    # The all-full cases equal an ordinary (unpacked) call.
    for name, cell, nonlin, cfg, seed, batch_first in cases:
        if min(cfg["lengths"]) == cfg["steps"]:
            s = Setup(cell, nonlin, cfg, seed)
            state = (s.h0, s.c0) if cell == "lstm" else s.h0
            with torch.no_grad():
                y, st = s.model.rnn(s.x, state)
            hn = st[0] if cell == "lstm" else st
            d = max((y - stored[name]["test.output"]).abs().max().item(),
                    (hn - stored[name]["test.hn"]).abs().max().item())
            assert d <= 1e-6, (name, d)

    worst, bitwise, total = verify(cases, stored)
    size = sum(os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR))
    print("wrote %d cases to %s (%d bytes)" % (len(metas), OUT_DIR, size), file=sys.stderr)
    print("per-sequence check: %d tensors, %d bitwise equal, max abs diff %.3g"
          % (total, bitwise, worst), file=sys.stderr)


if __name__ == "__main__":
    main()
