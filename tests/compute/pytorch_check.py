#!/usr/bin/python3
"""Peer check against PyTorch: the paper's networks rebuilt with torch.nn load our safetensors
files with load_state_dict(strict=True) and give our outputs.

    build/tests/compute/export_nets /tmp/nets && /usr/bin/python3 tests/compute/pytorch_check.py /tmp/nets

Needs python3-torch (Debian); reads safetensors with the standard library and numpy."""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": np.float32, "I64": np.int64}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype=DTYPES[t["dtype"]])
        out[name] = torch.from_numpy(arr.reshape(t["shape"]).copy())
    return out


def nmse(ours, theirs):
    return float(((ours - theirs) ** 2).sum() / max(float((theirs ** 2).sum()), 1e-30))


def encoder():
    layers = []
    chans = [6, 8, 16, 32, 64]
    for i in range(4):
        layers += [nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1), nn.LeakyReLU(0.2)]
        if i in (1, 2):
            layers.append(nn.BatchNorm2d(chans[i + 1]))
    return nn.Sequential(*layers)


def mlp(n_in, width, layers, out, tanh=False):
    mods = [nn.Linear(n_in, width)]
    for i in range(1, layers):
        mods += [nn.ReLU(), nn.BatchNorm1d(width), nn.Linear(width, out if i == layers - 1 else width)]
    if tanh:
        mods.append(nn.Tanh())
    return nn.Sequential(*mods)


class Net(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.encoder = nn.Module()
        self.encoder.conv = encoder()
        if kind == "q":
            self.head = mlp(1028, 128, 6, 1)
        elif kind == "actor":
            self.head = mlp(1024, 128, 10, 4, tanh=True)
        else:
            self.head = mlp(1024, 256, 5, 1)

    def forward(self, pairs, action):
        f = self.encoder.conv(pairs).flatten(1)
        if self.kind == "q":
            f = torch.cat([f, action], 1)
        return self.head(f)


def main():
    d = sys.argv[1]
    io = load(f"{d}/io.safetensors")
    worst = 0.0
    for kind in ("q", "actor", "regression"):
        net = Net(kind)
        state = load(f"{d}/{kind}.safetensors")
        net.load_state_dict(state, strict=True)
        # Our file holds the running statistics after two training forwards; PyTorch's train
        # forward uses batch statistics, so compare the eval output, then one train forward
        # (which only reads the parameters) against ours.
        net.eval()
        with torch.no_grad():
            ev = net(io["pairs"], io["action"])
            net.train()
            tr = net(io["pairs"], io["action"])
        for name, ours, theirs in (("eval", io[f"{kind}.eval"], ev), ("train", io[f"{kind}.train"], tr)):
            err = nmse(ours, theirs)
            worst = max(worst, err)
            print(f"{kind:10s} {name:5s} normalised MSE {err:.3g}")
        # Autograd: gradients of sum(dy * out) in training mode, parameters and the action.
        net.zero_grad()
        action = io["action"].clone().requires_grad_(True)
        out = net(io["pairs"], action)
        out.backward(io[f"{kind}.dy"])
        gerr = 0.0
        for pname, p in net.named_parameters():
            gerr = max(gerr, nmse(io[f"{kind}.grad.{pname}"], p.grad))
        if kind == "q":
            gerr = max(gerr, nmse(io["q.grad.action"], action.grad))
        worst = max(worst, gerr)
        print(f"{kind:10s} grads worst normalised MSE {gerr:.3g}")
    # The initialisation follows PyTorch's defaults: weights and biases within 1/sqrt(fan_in).
    q = load(f"{d}/q.safetensors")
    w = q["head.0.weight"]
    bound = 1 / np.sqrt(1028)
    print(f"head.0.weight max |w| {float(w.abs().max()):.5f} (bound {bound:.5f})")
    ok = worst < 1e-6 and float(w.abs().max()) <= bound
    print("pytorch_check:", "all checks passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
