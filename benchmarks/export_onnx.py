#!/usr/bin/env python3
"""Export an RnnGen model's safetensors weights to ONNX through PyTorch, for the ONNX Runtime peer of the benchmarks.

The weights come from the C# model itself (SaveSafetensors), so ONNX Runtime runs exactly the same network. The
tensors keep PyTorch's state_dict names (rnn.weight_ih_l0, rnn.weight_hh_l0_reverse, ...), so they load with
load_state_dict(strict=True) into a torch.nn.LSTM / GRU held as `rnn`: a missing or misnamed tensor is an error.

Two graph shapes:
  step      one time step on caller-owned state: inputs x [1, batch, input], h0 [layers*dirs, batch, hidden]
            (and c0 for LSTM); outputs y [1, batch, dirs*hidden], hn (and cn). batch is dynamic.
  sequence  a whole sequence from a zero state: input [steps, batch, input]; output [steps, batch, dirs*hidden].
            steps and batch are dynamic.

Usage, one model:
  python3 export_onnx.py --cell lstm --input 32 --hidden 64 --mode step --weights m.safetensors --out m.onnx
Several models with one start of Python (what the benchmark does), a JSON list of objects with the same keys:
  python3 export_onnx.py --jobs jobs.json

Needs torch and onnx (Debian: apt-get install -y python3-torch python3-onnx). Exits with status 3 and a one-line
reason when either is missing, so the caller can tell "not installed" from "export failed".
"""
import argparse
import json
import struct
import sys
import warnings


def read_safetensors(path, torch):
    """A minimal safetensors reader (F32 only): 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_length].decode("utf-8"))
    data = blob[8 + header_length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, only F32 is supported")
        begin, end = info["data_offsets"]
        values = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = values.reshape(info["shape"]).clone()
    return tensors


def export(job, torch):
    cell = job["cell"].lower()
    layers = int(job.get("layers", 1))
    bidirectional = bool(job.get("bidirectional", False))
    input_size, hidden = int(job["input"]), int(job["hidden"])
    directions = 2 if bidirectional else 1
    rnn_type = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    rnn = rnn_type(input_size, hidden, num_layers=layers, bidirectional=bidirectional)

    class Step(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x, h0, c0=None):
            if cell == "lstm":
                y, (hn, cn) = self.rnn(x, (h0, c0))
                return y, hn, cn
            y, hn = self.rnn(x, h0)
            return y, hn

    class Sequence(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            y, _ = self.rnn(x)
            return y

    mode = job.get("mode", "sequence")
    module = Step() if mode == "step" else Sequence()
    module.load_state_dict(read_safetensors(job["weights"], torch), strict=True)
    module.eval()

    if mode == "step":
        x = torch.zeros(1, 1, input_size)
        h0 = torch.zeros(layers * directions, 1, hidden)
        args = (x, h0, torch.zeros_like(h0)) if cell == "lstm" else (x, h0)
        inputs = ["x", "h0", "c0"] if cell == "lstm" else ["x", "h0"]
        outputs = ["y", "hn", "cn"] if cell == "lstm" else ["y", "hn"]
        axes = {name: {1: "batch"} for name in inputs + outputs}
    elif mode == "sequence":
        args = (torch.zeros(3, 2, input_size),)
        inputs, outputs = ["input"], ["output"]
        axes = {"input": {0: "steps", 1: "batch"}, "output": {0: "steps", 1: "batch"}}
    else:
        raise ValueError(f"unknown mode {mode!r} (step or sequence)")

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 1.13's exporter warns about shape inference of constants
        torch.onnx.export(module, args, job["out"], input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=17, do_constant_folding=True)
    print(f"exported {job['out']} ({cell}, input {input_size}, hidden {hidden}, {layers} layer(s), "
          f"{'bidirectional, ' if bidirectional else ''}{mode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", help="JSON file: a list of jobs with the keys below")
    parser.add_argument("--cell", choices=["lstm", "gru"])
    parser.add_argument("--input", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--mode", choices=["step", "sequence"], default="sequence")
    parser.add_argument("--weights", help="safetensors file written by the C# model")
    parser.add_argument("--out", help="ONNX file to write")
    parser.add_argument("--check", action="store_true", help="only check that torch and onnx import, then exit")
    args = parser.parse_args()

    try:
        import torch
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except ImportError as error:
        print(f"missing Python package: {error} (Debian: apt-get install -y python3-torch python3-onnx)")
        sys.exit(3)
    if args.check:
        print(f"torch {torch.__version__}, onnx {onnx.__version__}")
        return

    torch.set_num_threads(1)
    if args.jobs:
        with open(args.jobs, encoding="utf-8") as f:
            jobs = json.load(f)
    else:
        if not (args.cell and args.input and args.hidden and args.weights and args.out):
            parser.error("give --jobs, or --cell, --input, --hidden, --weights and --out")
        jobs = [vars(args)]
    for job in jobs:
        export(job, torch)


if __name__ == "__main__":
    main()
