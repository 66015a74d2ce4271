#!/usr/bin/python3
"""PyTorch FP32 CPU training speed of a network description, for comparison with octet-train.

Builds the same graph as golden/network_desc (docs/network-format.md) in torch.nn, trains it
with SGD + momentum on Fashion-MNIST (Debian's dataset-fashion-mnist) and prints images/s.
Needs Debian's python3-torch (not installed by CI). Usage:
  /usr/bin/python3 tools/bench/pytorch_train.py --network networks/small_resnet.net --threads 2 --steps 100
"""
import argparse, gzip, json, os, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def parse_net(path):
    nodes, shapes = [], {}
    for raw in open(path):
        line = raw.split("#")[0].split()
        if not line or line[0] == "network":
            continue
        op, name, rest = line[0], line[1], line[2:]
        attrs = {k: v for k, v in (t.split("=") for t in rest if "=" in t)}
        inputs = [t for t in rest if "=" not in t and t != "global"]
        nodes.append((op, name, inputs, attrs, "global" in rest))
    return nodes


class Net(nn.Module):
    def __init__(self, nodes):
        super().__init__()
        self.nodes, self.mods, ch = nodes, nn.ModuleDict(), {}
        for op, name, inputs, a, glob in nodes:
            if op == "input":
                ch[name] = int(inputs[0].split("x")[0])
            elif op == "conv":
                k, s, p = int(a["k"]), int(a.get("s", 1)), int(a.get("p", 0))
                self.mods[name] = nn.Conv2d(ch[inputs[0]], int(a["out"]), k, s, p, bias=False)
                ch[name] = int(a["out"])
            elif op == "bnrelu":
                self.mods[name] = nn.BatchNorm2d(ch[inputs[0]])
                ch[name] = ch[inputs[0]]
            elif op == "linear":
                self.mods[name] = nn.LazyLinear(int(a["out"]))
            else:
                ch[name] = ch[inputs[0]]

    def forward(self, x):
        v = {}
        for op, name, inputs, a, glob in self.nodes:
            i = [v[n] for n in inputs] if op != "input" else None
            if op == "input":
                v[name] = x
            elif op in ("conv",):
                v[name] = self.mods[name](i[0])
            elif op == "bnrelu":
                v[name] = F.relu(self.mods[name](i[0]))
            elif op == "add":
                v[name] = i[0] + i[1]
            elif op == "maxpool":
                v[name] = F.max_pool2d(i[0], int(a["k"]), int(a.get("s", 1)), int(a.get("p", 0)))
            elif op == "avgpool":
                v[name] = F.adaptive_avg_pool2d(i[0], 1) if glob else F.avg_pool2d(i[0], int(a["k"]), int(a.get("s", 1)), int(a.get("p", 0)))
            elif op == "linear":
                v[name] = self.mods[name](torch.flatten(i[0], 1))
            out = v[name]
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--network", default="networks/small_resnet.net")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", default="")
    ap.add_argument("--random-input", type=int, default=0, metavar="S",
                    help="train on one random batch of 3 x S x S images instead of Fashion-MNIST (no data loading)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    net = Net(parse_net(args.network))
    if args.random_input:
        x_all = torch.rand(args.batch, 3, args.random_input, args.random_input)
        classes = net(x_all[:2]).shape[1]  # also materialises the lazy linear layer
        y_all = torch.randint(0, classes, (args.batch,))
    else:
        images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).astype(np.float32) / 256.0
        labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype(np.int64)
        x_all, y_all = torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)
        net(x_all[:2])  # materialise the lazy linear layer
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    net.train()
    n = x_all.shape[0] // args.batch
    start, seen = None, 0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start, seen = time.perf_counter(), 0
        i = step % n
        x, y = x_all[i * args.batch:(i + 1) * args.batch], y_all[i * args.batch:(i + 1) * args.batch]
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        seen += args.batch
    dt = time.perf_counter() - start
    result = {"format": "octet-pytorch-speed", "version": 1, "framework": "pytorch", "torch": torch.__version__,
              "threads": args.threads, "batch": args.batch,
              "steps": args.steps, "images_per_second": seen / dt}
    print(json.dumps(result))
    if args.json:
        json.dump(result, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
