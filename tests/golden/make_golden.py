#!/usr/bin/env python3
"""Generate PyTorch golden fixtures for the RnnGen source generator tests.

What it writes
--------------
For each of 28 cases (4 cell kinds x 7 configurations) this script writes
``tests/golden/fixtures/{name}.safetensors`` (all tensors F32) containing:

* ``model.<state_dict name>``  every parameter of the reference module, in
  PyTorch state_dict order (``model.embedding.weight``, ``model.rnn.weight_ih_l0``,
  ``model.rnn.weight_hh_l0``, ``model.rnn.bias_ih_l0``, ``model.rnn.bias_hh_l0``,
  ``model.rnn.weight_ih_l0_reverse``, ..., ``model.head.weight``, ``model.head.bias``).
* ``test.input`` [T, input] (float models) or ``test.tokens`` [T] (token ids
  stored as float32, token models).
* ``test.h0`` / ``test.c0`` [layers*dirs, hidden] when the case has an initial state.
* ``test.output`` [T, out_width], ``test.hn`` / ``test.cn`` [layers*dirs, hidden].
* ``test.dy`` and gradients of ``loss = (y*dy).sum()``: ``grad.<state_dict name>``
  for every parameter, ``grad.input`` (float models), ``grad.h0``/``grad.c0``
  (when there is an initial state).
* ``test.dhn`` / ``test.dcn`` and gradients of
  ``loss2 = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()]`` under ``grad2.``.

It also writes ``tests/golden/fixtures/cases.json`` describing every case.

The safetensors files are written by hand (no ``safetensors`` package needed):
8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header padded
with spaces to a multiple of 8, then the raw little-endian float32 data.

Requirements
------------
Only PyTorch and the Python standard library::

    apt-get install python3-torch

How to run (from the repository root)::

    /usr/bin/python3 tests/golden/make_golden.py

Output is deterministic (torch.manual_seed per case, single thread).
"""

import json
import os
import struct
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")


class Ref(nn.Module):
    def __init__(self, cell, input, hidden, layers, bidirectional, bias, nonlinearity, vocab, output):
        super().__init__()
        if vocab > 0:
            self.embedding = nn.Embedding(vocab, input)
        if cell == "rnn":
            self.rnn = nn.RNN(input, hidden, layers, nonlinearity=nonlinearity, bias=bias,
                              bidirectional=bidirectional)
        elif cell == "lstm":
            self.rnn = nn.LSTM(input, hidden, layers, bias=bias, bidirectional=bidirectional)
        else:
            self.rnn = nn.GRU(input, hidden, layers, bias=bias, bidirectional=bidirectional)
        self.has_head = output > 0
        if self.has_head:
            self.head = nn.Linear((2 if bidirectional else 1) * hidden, output)

    def forward(self, x, state):
        y, state = self.rnn(x, state)
        if self.has_head:
            y = self.head(y)
        return y, state


# (suffix, config) -- config keys: input, hidden, layers, bidirectional, bias, steps,
# initial_state, vocab, output
CONFIGS = [
    ("basic", dict(input=5, hidden=7, layers=1, bidirectional=False, bias=True, steps=6,
                   initial_state=False, vocab=0, output=0)),
    ("l2_bi_h13_init", dict(input=7, hidden=13, layers=2, bidirectional=True, bias=True, steps=5,
                            initial_state=True, vocab=0, output=0)),
    ("l3_h33", dict(input=9, hidden=33, layers=3, bidirectional=False, bias=True, steps=4,
                    initial_state=True, vocab=0, output=0)),
    ("nobias", dict(input=6, hidden=8, layers=2, bidirectional=True, bias=False, steps=5,
                    initial_state=False, vocab=0, output=0)),
    ("tokens_head", dict(input=6, hidden=13, layers=1, bidirectional=False, bias=True, steps=7,
                         initial_state=True, vocab=11, output=9)),
    ("t1", dict(input=4, hidden=16, layers=2, bidirectional=True, bias=True, steps=1,
                initial_state=True, vocab=0, output=0)),
    ("bi_tokens_head", dict(input=5, hidden=6, layers=2, bidirectional=True, bias=True, steps=8,
                            initial_state=False, vocab=10, output=4)),
]

# (name prefix, cell, nonlinearity)
CELLS = [
    ("rnn", "rnn", "tanh"),
    ("rnn_relu", "rnn", "relu"),
    ("lstm", "lstm", "tanh"),
    ("gru", "gru", "tanh"),
]


def write_safetensors(path, tensors):
    """tensors: list of (name, torch.Tensor) in the order to write."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous().cpu()
        shape = list(t.shape)
        flat = t.reshape(-1).tolist()
        data = struct.pack("<%df" % len(flat), *flat)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (8 - len(hjson) % 8) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def case_seed(index):
    return 1000 + index


def run_case(name, cell, nonlinearity, cfg, seed):
    torch.manual_seed(seed)
    inp, hid, layers = cfg["input"], cfg["hidden"], cfg["layers"]
    bi, bias, T = cfg["bidirectional"], cfg["bias"], cfg["steps"]
    vocab, output, init = cfg["vocab"], cfg["output"], cfg["initial_state"]
    dirs = 2 if bi else 1

    model = Ref(cell, inp, hid, layers, bi, bias, nonlinearity, vocab, output)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    sd_names = list(model.state_dict().keys())
    params = dict(model.named_parameters())
    assert sd_names == list(params.keys()), (sd_names, list(params.keys()))

    # Inputs
    if vocab > 0:
        tokens = torch.randint(0, vocab, (T,))
        x_in = None
    else:
        tokens = None
        x_in = torch.randn(T, inp)
    if init:
        h0 = 0.5 * torch.randn(layers * dirs, hid)
        c0 = 0.5 * torch.randn(layers * dirs, hid) if cell == "lstm" else None
    else:
        h0 = c0 = None

    dy_shape = (T, output if output > 0 else dirs * hid)
    dy = torch.randn(*dy_shape)
    dhn = torch.randn(layers * dirs, hid)
    dcn = torch.randn(layers * dirs, hid) if cell == "lstm" else None

    def forward():
        """Returns y [T, W], hn, cn, and the leaf tensors (x, h0, c0) with grads."""
        xl = x_in.clone().requires_grad_(True) if x_in is not None else None
        h0l = h0.clone().requires_grad_(True) if h0 is not None else None
        c0l = c0.clone().requires_grad_(True) if c0 is not None else None
        if tokens is not None:
            x = model.embedding(tokens).unsqueeze(1)
        else:
            x = xl.unsqueeze(1)
        if h0l is not None:
            state = (h0l.unsqueeze(1), c0l.unsqueeze(1)) if cell == "lstm" else h0l.unsqueeze(1)
        else:
            state = None
        y, st = model(x, state)
        if cell == "lstm":
            hn, cn = st
            cn = cn.squeeze(1)
        else:
            hn, cn = st, None
        return y.squeeze(1), hn.squeeze(1), cn, xl, h0l, c0l

    tensors = []
    for n in sd_names:
        tensors.append(("model." + n, params[n]))
    if tokens is not None:
        tensors.append(("test.tokens", tokens.to(torch.float32)))
    else:
        tensors.append(("test.input", x_in))
    if init:
        tensors.append(("test.h0", h0))
        if cell == "lstm":
            tensors.append(("test.c0", c0))

    # Pass 1: loss = (y*dy).sum()
    model.zero_grad(set_to_none=True)
    y, hn, cn, xl, h0l, c0l = forward()
    assert tuple(y.shape) == dy_shape, (y.shape, dy_shape)
    tensors.append(("test.output", y))
    tensors.append(("test.hn", hn))
    if cell == "lstm":
        tensors.append(("test.cn", cn))
    tensors.append(("test.dy", dy))
    (y * dy).sum().backward()
    for n in sd_names:
        g = params[n].grad
        tensors.append(("grad." + n, g if g is not None else torch.zeros_like(params[n])))
    if xl is not None:
        tensors.append(("grad.input", xl.grad))
    if h0l is not None:
        tensors.append(("grad.h0", h0l.grad))
        if c0l is not None:
            tensors.append(("grad.c0", c0l.grad))

    # Pass 2: loss2 = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()]
    tensors.append(("test.dhn", dhn))
    if cell == "lstm":
        tensors.append(("test.dcn", dcn))
    model.zero_grad(set_to_none=True)
    y2, hn2, cn2, xl, h0l, c0l = forward()
    assert torch.equal(y2, y) and torch.equal(hn2, hn)
    loss2 = (y2 * dy).sum() + (hn2 * dhn).sum()
    if cell == "lstm":
        loss2 = loss2 + (cn2 * dcn).sum()
    loss2.backward()
    for n in sd_names:
        g = params[n].grad
        tensors.append(("grad2." + n, g if g is not None else torch.zeros_like(params[n])))
    if xl is not None:
        tensors.append(("grad2.input", xl.grad))
    if h0l is not None:
        tensors.append(("grad2.h0", h0l.grad))
        if c0l is not None:
            tensors.append(("grad2.c0", c0l.grad))

    names = [n for n, _ in tensors]
    assert len(names) == len(set(names)), names
    write_safetensors(os.path.join(OUT_DIR, name + ".safetensors"), tensors)

    return {
        "name": name,
        "cell": cell,
        "nonlinearity": nonlinearity,
        "input": inp,
        "hidden": hid,
        "layers": layers,
        "bidirectional": bi,
        "bias": bias,
        "vocab": vocab,
        "output": output,
        "steps": T,
        "initial_state": init,
    }


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = []
    index = 0
    for prefix, cell, nonlin in CELLS:
        for suffix, cfg in CONFIGS:
            name = "%s_%s" % (prefix, suffix)
            cases.append(run_case(name, cell, nonlin, cfg, case_seed(index)))
            index += 1
    with open(os.path.join(OUT_DIR, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=2)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), OUT_DIR), file=sys.stderr)


if __name__ == "__main__":
    main()
