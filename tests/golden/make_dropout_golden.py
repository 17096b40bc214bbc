#!/usr/bin/env python3
"""Generate PyTorch golden fixtures for dropout between recurrent layers (nn.LSTM/GRU(dropout=p)).

PyTorch applies F.dropout to every layer's output but the last while training, and draws the masks
from its own generator; to compare with RnnGen's trainer, the mask is fixed here and given to both.
The network is run one layer at a time (one single-layer module per layer, with the stacked module's
weights), each layer's output multiplied by keep / (1 - p) before the next reads it: exactly what
nn.LSTM(num_layers=L, dropout=p) computes in training with that mask. Packed batches go through
pack_padded_sequence / pad_packed_sequence, so padded positions neither read nor take a mask.

What it writes
--------------
``tests/golden/fixtures/dropout/cases.json`` and, per case, ``<case>.safetensors`` (F32):

* ``model.rnn.*``  the stacked module's state_dict (PyTorch names)
* ``test.input``   [T, B, input]; ``test.h0`` (and ``test.c0``) [L*D, B, H] the initial state
* ``test.keep``    [L-1, T, B, D*H] keep flags (1 keep, 0 drop; padded positions 0)
* ``test.output``  [T, B, D*H] the last layer's output (zero at padded positions)
* ``test.hn`` (and ``test.cn``) the final state
* ``test.dy``, ``test.dhn`` (and ``test.dcn``): the loss is sum(output*dy) + sum(hn*dhn) (+ sum(cn*dcn))
* ``grad.<name>`` for every parameter, ``grad.input``, ``grad.h0`` (and ``grad.c0``)

Requirements: PyTorch and the standard library (``apt-get install python3-torch``).
Run from the repository root::

    /usr/bin/python3 tests/golden/make_dropout_golden.py

Output is deterministic (fixed torch.manual_seed per case, single thread).
"""

import json
import os
import struct

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures", "dropout")

# name, cell, input, hidden, layers, bidirectional, p, steps, lengths (None: batch 1 of all steps), seed
CASES = [
    ("lstm_l3", "lstm", 5, 7, 3, False, 0.3, 6, None, 11),
    ("lstm_l3_packed", "lstm", 5, 7, 3, False, 0.3, 6, [6, 2, 4], 12),
    ("gru_l2_bi", "gru", 4, 5, 2, True, 0.4, 5, None, 13),
    ("gru_l2_bi_packed", "gru", 4, 5, 2, True, 0.4, 5, [3, 5, 1], 14),
]


def save_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous()
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


def make_case(name, cell, n_in, hidden, layers, bi, p, steps, lengths, seed):
    torch.manual_seed(seed)
    cls = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    lstm = cell == "lstm"
    d = 2 if bi else 1
    stacked = cls(n_in, hidden, num_layers=layers, bidirectional=bi, dropout=p)
    batch = 1 if lengths is None else len(lengths)
    lens = [steps] * batch if lengths is None else lengths
    valid = torch.zeros(steps, batch, 1)
    for b, n in enumerate(lens):
        valid[:n, b] = 1.0
    x = (torch.randn(steps, batch, n_in) * valid).requires_grad_(True)
    h0 = torch.randn(layers * d, batch, hidden).requires_grad_(True)
    c0 = torch.randn(layers * d, batch, hidden).requires_grad_(True) if lstm else None
    keep = (torch.rand(layers - 1, steps, batch, d * hidden) >= p).float() * valid

    # One single-layer module per layer with the stacked module's weights; their gradients are the stacked ones'.
    layer_input = x
    hn, cn, singles = [], [], []
    for layer in range(layers):
        single = cls(n_in if layer == 0 else d * hidden, hidden, num_layers=1, bidirectional=bi)
        with torch.no_grad():
            for suffix in ["", "_reverse"][:d]:
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(single, kind + "_l0" + suffix).copy_(getattr(stacked, kind + "_l%d" % layer + suffix))
        singles.append(single)
        state = h0[layer * d:(layer + 1) * d]
        if lstm:
            state = (state, c0[layer * d:(layer + 1) * d])
        packed = pack_padded_sequence(layer_input, torch.tensor(lens), enforce_sorted=False)
        out, final = single(packed, state)
        out, _ = pad_packed_sequence(out, total_length=steps)
        if lstm:
            hn.append(final[0])
            cn.append(final[1])
        else:
            hn.append(final)
        if layer < layers - 1:
            out = out * keep[layer] / (1 - p)
        layer_input = out
    output = layer_input
    hn = torch.cat(hn)
    cn = torch.cat(cn) if lstm else None

    # The plumbing (weights per layer, state slices, packing) is the stacked module's: without the mask the layers
    # one at a time give what the stacked module gives in eval mode (no dropout).
    with torch.no_grad():
        stacked.eval()
        state = (h0, c0) if lstm else h0
        packed = pack_padded_sequence(x, torch.tensor(lens), enforce_sorted=False)
        ref_out, ref_final = stacked(packed, state)
        ref_out, _ = pad_packed_sequence(ref_out, total_length=steps)
        stacked.train()
        unmasked, unmasked_hn = x, []
        for layer, single in enumerate(singles):
            st = h0[layer * d:(layer + 1) * d]
            if lstm:
                st = (st, c0[layer * d:(layer + 1) * d])
            o, f = single(pack_padded_sequence(unmasked, torch.tensor(lens), enforce_sorted=False), st)
            unmasked, _ = pad_packed_sequence(o, total_length=steps)
            unmasked_hn.append(f[0] if lstm else f)
        assert torch.allclose(unmasked, ref_out, atol=1e-6), name
        assert torch.allclose(torch.cat(unmasked_hn), ref_final[0] if lstm else ref_final, atol=1e-6), name

    dy = torch.randn(steps, batch, d * hidden) * valid
    dhn = torch.randn_like(hn)
    loss = (output * dy).sum() + (hn * dhn).sum()
    dcn = None
    if lstm:
        dcn = torch.randn_like(cn)
        loss = loss + (cn * dcn).sum()
    loss.backward()

    out = {}
    for pname, param in stacked.named_parameters():
        kind, rest = pname.rsplit("_l", 1)  # weight_ih, "0" or "0_reverse"
        layer, _, reverse = rest.partition("_")
        single_name = kind + "_l0" + ("_" + reverse if reverse else "")
        out["model.rnn." + pname] = param
        out["grad.rnn." + pname] = getattr(singles[int(layer)], single_name).grad
    out["test.input"] = x
    out["test.h0"] = h0
    out["test.keep"] = keep
    out["test.output"] = output
    out["test.hn"] = hn
    out["test.dy"] = dy
    out["test.dhn"] = dhn
    out["grad.input"] = x.grad
    out["grad.h0"] = h0.grad
    if lstm:
        out["test.c0"] = c0
        out["test.cn"] = cn
        out["test.dcn"] = dcn
        out["grad.c0"] = c0.grad
    save_safetensors(os.path.join(OUT_DIR, name + ".safetensors"), out)
    return {"name": name, "cell": cell, "input": n_in, "hidden": hidden, "layers": layers, "bidirectional": bi,
            "dropout": p, "steps": steps, "batch": batch, "lengths": lens, "initial_state": True}


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = [make_case(*c) for c in CASES]
    with open(os.path.join(OUT_DIR, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), OUT_DIR))


if __name__ == "__main__":
    main()
