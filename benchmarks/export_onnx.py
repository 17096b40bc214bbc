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
  step-int8 the step graph's inputs, outputs and shapes (LSTM, one layer, one direction), computed by ONNX Runtime's
            own int8 LSTM: one com.microsoft DynamicQuantizeLSTM node, built with onnx.helper (not through torch).
            W [1, input, 4*hidden] and R [1, hidden, 4*hidden] (transposed relative to ai.onnx LSTM's W and R),
            int8, symmetric, one scale per output channel (max |column| / 127, zero point 0), gates in ONNX's
            order i, o, f, c (PyTorch's is i, f, g, o); B [1, 8*hidden] float (W's bias then R's). ONNX Runtime
            quantizes x and h to uint8 per call itself.

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


def export_step_int8(job, torch):
    """The step-int8 graph: one DynamicQuantizeLSTM node on the same weights as the float step graph."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if job["cell"].lower() != "lstm" or int(job.get("layers", 1)) != 1 or bool(job.get("bidirectional", False)):
        raise ValueError("step-int8 is for a one-layer, one-direction LSTM (DynamicQuantizeLSTM is an LSTM)")
    input_size, hidden = int(job["input"]), int(job["hidden"])
    tensors = read_safetensors(job["weights"], torch)
    expected = {"rnn.weight_ih_l0": (4 * hidden, input_size), "rnn.weight_hh_l0": (4 * hidden, hidden),
                "rnn.bias_ih_l0": (4 * hidden,), "rnn.bias_hh_l0": (4 * hidden,)}
    if set(tensors) != set(expected):
        raise ValueError(f"{job['weights']}: tensors {sorted(tensors)}, expected {sorted(expected)}")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise ValueError(f"{job['weights']}: {name} is {tuple(tensors[name].shape)}, expected {shape}")

    # PyTorch stacks the gates i, f, g, o; ONNX (and DynamicQuantizeLSTM) i, o, f, c (c is PyTorch's g).
    order = np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in (0, 3, 1, 2)])

    def reordered(name):
        return tensors[name].numpy().astype(np.float32)[order]

    def quantized(matrix):
        """[4*hidden, k] float -> [1, k, 4*hidden] int8 and [1, 4*hidden] scales, symmetric per output channel."""
        largest = np.abs(matrix).max(axis=1)
        scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
        return q.T[None, :, :].copy(), scale[None, :]

    w_q, w_scale = quantized(reordered("rnn.weight_ih_l0"))
    r_q, r_scale = quantized(reordered("rnn.weight_hh_l0"))
    bias = np.concatenate([reordered("rnn.bias_ih_l0"), reordered("rnn.bias_hh_l0")])[None, :]
    zero = np.zeros((1, 4 * hidden), dtype=np.int8)
    initializers = [
        numpy_helper.from_array(w_q, "W_q"), numpy_helper.from_array(w_scale, "W_scale"),
        numpy_helper.from_array(zero, "W_zero_point"),
        numpy_helper.from_array(r_q, "R_q"), numpy_helper.from_array(r_scale, "R_scale"),
        numpy_helper.from_array(zero.copy(), "R_zero_point"),
        numpy_helper.from_array(bias.astype(np.float32), "B"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "direction_axis"),
    ]
    # Inputs X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point, R_scale, R_zero_point.
    lstm = helper.make_node(
        "DynamicQuantizeLSTM",
        ["x", "W_q", "R_q", "B", "", "h0", "c0", "", "W_scale", "W_zero_point", "R_scale", "R_zero_point"],
        ["y_directions", "hn", "cn"], name="lstm_int8", domain="com.microsoft", hidden_size=hidden)
    # Y is [steps, directions, batch, hidden]; the float step graph's y is [steps, batch, hidden].
    squeeze = helper.make_node("Squeeze", ["y_directions", "direction_axis"], ["y"], name="drop_direction_axis")
    state = ["1", "batch", str(hidden)]

    def value(name, dims):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, [int(d) if d.isdigit() else d for d in dims])

    graph = helper.make_graph(
        [lstm, squeeze], "rnngen_step_int8",
        [value("x", ["1", "batch", str(input_size)]), value("h0", state), value("c0", state)],
        [value("y", state), value("hn", state), value("cn", state)],
        initializer=initializers)
    model = helper.make_model(graph, producer_name="rnngen export_onnx.py",
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx.checker.check_model(model)  # the ai.onnx part; the contrib op is checked by ONNX Runtime when it loads
    onnx.save(model, job["out"])
    print(f"exported {job['out']} (lstm, input {input_size}, hidden {hidden}, step-int8: DynamicQuantizeLSTM, "
          f"int8 per-channel weights)")


def export(job, torch):
    if job.get("mode") == "step-int8":
        export_step_int8(job, torch)
        return
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
        raise ValueError(f"unknown mode {mode!r} (step, sequence or step-int8)")

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
    parser.add_argument("--mode", choices=["step", "sequence", "step-int8"], default="sequence")
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
