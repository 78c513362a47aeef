#!/usr/bin/env python3
"""PyTorch peer of sphere-bench: the same net, read from the same prototxt, timed the same way.

    python3 bench/peer_torch.py models/sphereface20_train.prototxt --mode train --batch 32 \
        --iters 5 --warmup 1 --threads 2 [--device cpu|cuda] [--json]

The net is built from the prototxt (Convolution, DepthwiseConvolution, BatchNorm, Scale,
PReLU, Eltwise, InnerProduct, Pooling, MarginInnerProduct, SoftmaxWithLoss), with what a
PyTorch user would write for each layer:
  - BatchNorm followed by an in-place Scale is one nn.BatchNorm2d with affine=True;
  - MarginInnerProduct (A-Softmax) is a plain bias-free nn.Linear with the same FLOPs,
    followed by the softmax cross-entropy (SoftmaxWithLoss): the margin itself costs a few
    element-wise operations on a batch x 10,572 matrix, noise next to the convolutions.
Modes, as sphere-bench's: test (model.eval(), torch.inference_mode(), forward only),
fwdbwd (forward + backward), train (forward, backward, torch.optim.SGD step with momentum
0.9 and weight decay 5e-4). Inputs are random; every timed pass is waited for
(torch.cuda.synchronize() on a GPU). Prints a summary, or with --json one JSON object with
the keys sphere-bench --json uses (images_per_s, ms_per_pass: median, min, max).
This script is a benchmark peer only: nothing in SphereCL imports or needs it.
"""

import argparse
import resource
import json
import re
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- prototxt


def tokenize(text):
    text = re.sub(r"#[^\n]*", "", text)
    return re.findall(r'"(?:[^"\\]|\\.)*"|[{}:]|[^\s{}:"]+', text)


def parse_message(tokens, pos):
    """Parses fields until '}' or the end; returns (dict of lists, new position)."""
    msg = {}
    while pos < len(tokens) and tokens[pos] != "}":
        key = tokens[pos]
        pos += 1
        if tokens[pos] == ":":
            pos += 1
        if tokens[pos] == "{":
            value, pos = parse_message(tokens, pos + 1)
            pos += 1  # the '}'
        else:
            value = tokens[pos]
            pos += 1
            if value.startswith('"'):
                value = value[1:-1]
        msg.setdefault(key, []).append(value)
    return msg, pos


def load_prototxt(path):
    with open(path) as f:
        msg, _ = parse_message(tokenize(f.read()), 0)
    return msg


def field(msg, key, default=None):
    return msg[key][0] if msg and key in msg else default


def hw(param, name, default):
    """Caffe's kernel_size / stride / pad (one or two values, or the _h/_w fields)."""
    if name in param:
        v = [int(x) for x in param[name]]
        return (v[0], v[-1])
    h = field(param, name + "_h")
    w = field(param, name + "_w")
    if h is not None or w is not None:
        return (int(h or default), int(w or default))
    return (default, default)

# ---------------------------------------------------------------- the net


class CaffeNet(nn.Module):
    """Runs the prototxt's layers in order over a dict of named blobs."""

    def __init__(self, proto, phase, batch, input_chw=(3, 112, 96)):
        super().__init__()
        self.steps = []  # (kind, module name or None, bottoms, tops, extra)
        self.mods = nn.ModuleDict()
        self.classes = None
        shapes = {}
        layers = [l for l in proto.get("layer", []) if self._in_phase(l, phase)]
        skip = set()
        for i, layer in enumerate(layers):
            if i in skip:
                continue
            kind = field(layer, "type")
            name = field(layer, "name").replace("/", "_").replace(".", "_")
            bottoms, tops = layer.get("bottom", []), layer.get("top", [])
            if kind in ("ImageData", "Input", "Data"):
                dims = field(field(field(layer, "input_param"), "shape"), "dim")
                shape = field(field(layer, "input_param"), "shape")
                if dims is not None and len(shape["dim"]) == 4:
                    input_chw = tuple(int(d) for d in shape["dim"][1:])
                shapes[tops[0]] = input_chw
                self.steps.append(("input", None, [], tops, None))
                continue
            c, h, w = shapes[bottoms[0]] if bottoms and len(shapes[bottoms[0]]) == 3 else (
                (shapes[bottoms[0]][0], 1, 1) if bottoms else (0, 0, 0))
            if kind in ("Convolution", "DepthwiseConvolution"):
                p = field(layer, "convolution_param")
                k = int(field(p, "num_output"))
                kh, kw = hw(p, "kernel_size", 0)
                sh, sw = hw(p, "stride", 1)
                ph, pw = hw(p, "pad", 0)
                groups = int(field(p, "group", 1))
                if kind == "DepthwiseConvolution" and k == c:
                    groups = c
                bias = field(p, "bias_term", "true") != "false"
                self.mods[name] = nn.Conv2d(c, k, (kh, kw), (sh, sw), (ph, pw), groups=groups,
                                            bias=bias)
                shapes[tops[0]] = (k, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
                self.steps.append(("module", name, bottoms, tops, None))
            elif kind == "BatchNorm":
                affine = (i + 1 < len(layers) and field(layers[i + 1], "type") == "Scale"
                          and layers[i + 1].get("bottom") == tops)
                if affine:
                    skip.add(i + 1)
                spatial = len(shapes[bottoms[0]]) == 3
                bn = nn.BatchNorm2d if spatial else nn.BatchNorm1d
                # Caffe's moving_average_fraction 0.999 is PyTorch's momentum 0.001
                self.mods[name] = bn(c, eps=1e-5, momentum=0.001, affine=affine)
                shapes[tops[0]] = shapes[bottoms[0]]
                self.steps.append(("module", name, bottoms, tops, None))
            elif kind == "Scale":
                self.mods[name] = ChannelScale(c)
                shapes[tops[0]] = shapes[bottoms[0]]
                self.steps.append(("module", name, bottoms, tops, None))
            elif kind == "PReLU":
                shared = field(field(layer, "prelu_param"), "channel_shared", "false") == "true"
                self.mods[name] = nn.PReLU(1 if shared else c, init=0.25)
                shapes[tops[0]] = shapes[bottoms[0]]
                self.steps.append(("module", name, bottoms, tops, None))
            elif kind == "Eltwise":
                shapes[tops[0]] = shapes[bottoms[0]]
                self.steps.append(("sum", None, bottoms, tops, None))
            elif kind == "Pooling":
                p = field(layer, "pooling_param")
                kh, kw = hw(p, "kernel_size", 0)
                sh, sw = hw(p, "stride", 1)
                ph, pw = hw(p, "pad", 0)
                avg = field(p, "pool", "MAX") == "AVE"
                pool = nn.AvgPool2d if avg else nn.MaxPool2d
                self.mods[name] = pool((kh, kw), (sh, sw), (ph, pw), ceil_mode=True)
                oh = -(-(h + 2 * ph - kh) // sh) + 1
                ow = -(-(w + 2 * pw - kw) // sw) + 1
                shapes[tops[0]] = (c, oh, ow)
                self.steps.append(("module", name, bottoms, tops, None))
            elif kind in ("InnerProduct", "MarginInnerProduct"):
                p = field(layer, "inner_product_param") or field(layer,
                                                                 "margin_inner_product_param")
                n_out = int(field(p, "num_output"))
                bias = kind == "InnerProduct" and field(p, "bias_term", "true") != "false"
                features = c * h * w if len(shapes[bottoms[0]]) == 3 else shapes[bottoms[0]][0]
                self.mods[name] = nn.Linear(features, n_out, bias=bias)
                shapes[tops[0]] = (n_out,)
                if kind == "MarginInnerProduct":
                    self.classes = n_out
                self.steps.append(("linear", name, bottoms[:1], tops[:1], None))
            elif kind == "SoftmaxWithLoss":
                self.steps.append(("loss", None, bottoms, tops, None))
            elif kind in ("Accuracy", "Dropout", "Softmax"):
                continue
            else:
                raise SystemExit("peer_torch.py: layer type %s is not supported" % kind)
        self.input_chw = input_chw

    @staticmethod
    def _in_phase(layer, phase):
        inc = field(layer, "include")
        return not inc or field(inc, "phase", phase) == phase

    def forward(self, data, label=None):
        blobs = {}
        out = None
        for kind, name, bottoms, tops, _ in self.steps:
            if kind == "input":
                blobs[tops[0]] = data
                if len(tops) > 1:
                    blobs[tops[1]] = label
            elif kind == "module":
                out = self.mods[name](blobs[bottoms[0]])
                blobs[tops[0]] = out
            elif kind == "linear":
                out = self.mods[name](torch.flatten(blobs[bottoms[0]], 1))
                blobs[tops[0]] = out
            elif kind == "sum":
                out = blobs[bottoms[0]] + blobs[bottoms[1]]
                blobs[tops[0]] = out
            elif kind == "loss":
                out = F.cross_entropy(blobs[bottoms[0]], label)
        return out


class ChannelScale(nn.Module):
    """Caffe's Scale with bias_term, where no BatchNorm precedes it."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return x * self.weight.view(shape) + self.bias.view(shape)

# ---------------------------------------------------------------- timing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prototxt")
    ap.add_argument("--mode", choices=("test", "fwdbwd", "train"), default="test")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.batch < 1 or a.iters < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("--batch, --iters and --threads must be >= 1, --warmup >= 0")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    phase = "TEST" if a.mode == "test" else "TRAIN"
    net = CaffeNet(load_prototxt(a.prototxt), phase, a.batch).to(dev)
    data = torch.rand(a.batch, *net.input_chw, device=dev) * 2 - 1
    label = torch.zeros(a.batch, dtype=torch.long, device=dev)
    opt = torch.optim.SGD(net.parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)
    net.train(a.mode != "test")

    def one_pass():
        if a.mode == "test":
            with torch.inference_mode():
                net(data, label)
            return
        opt.zero_grad(set_to_none=False)
        out = net(data, label)
        loss = out if out.dim() == 0 else out.float().mean()
        loss.backward()
        if a.mode == "train":
            opt.step()

    def timed():
        t0 = time.perf_counter()
        one_pass()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0) * 1e3

    for _ in range(a.warmup):
        timed()
    ms = [timed() for _ in range(a.iters)]
    ips = sorted(a.batch / (m * 1e-3) for m in ms)
    result = {
        "tool": "peer_torch.py", "torch": torch.__version__, "prototxt": a.prototxt,
        "mode": a.mode, "batch": a.batch, "warmup": a.warmup, "iters": a.iters,
        "device": a.device, "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "images_per_s": {"median": statistics.median(ips), "min": ips[0], "max": ips[-1]},
        "ms_per_pass": {"median": statistics.median(ms), "min": min(ms), "max": max(ms)},
        "pass_ms": ms,
        # the whole process, as sphere-bench reports its own (Linux: ru_maxrss in KiB)
        "peak_host_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if a.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print("%s %s, batch %d: %.2f ms per pass (median of %d), %.1f images/s (%.1f-%.1f), "
              "torch %s, %d threads, %s" % (a.prototxt, a.mode, a.batch,
                                            result["ms_per_pass"]["median"], a.iters,
                                            result["images_per_s"]["median"], ips[0], ips[-1],
                                            torch.__version__, torch.get_num_threads(), a.device))


if __name__ == "__main__":
    main()
