#!/usr/bin/env python3
"""Writes the shipped SCALE-Sim topologies (topologies/*.csv) from the network descriptions
(networks/*.net), so both describe the same layers.

Conv format: one row per conv and linear node, `Layer name, IFMAP Height, IFMAP Width,
Filter Height, Filter Width, Channels, Num Filter, Strides,` with SCALE-Sim's trailing comma.
Padding is folded into the IFMAP size (H + 2p), as SCALE-Sim's own topologies do; SCALE-Sim
then computes the output as ceil((H + 2p - k + s) / s), which is one row/column more than
the network's floor((H + 2p - k) / s) + 1 wherever (H + 2p - k) is odd at stride 2.
The linear layer is a 1x1 conv over a 1x1 map with C*H*W channels.

GEMM format (small_resnet_gemm.csv): each conv/linear forward product as im2col
(M = output pixels, N = filters, K = k*k*C): exact MACs, no padding difference.

Usage: python3 tools/gen_topologies.py   (from the repository root; rewrites topologies/)
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = ["small_resnet", "resnet18", "resnet34", "resnet50"]


def parse_net(path):
    """Returns the conv/linear layers of a .net file with their input shapes (no validation:
    octet-netinfo validates the same files in the unit tests)."""
    shapes = {}
    layers = []
    for raw in open(path):
        line = raw.split("#", 1)[0].split()
        if not line or line[0] == "network":
            continue
        op, name, rest = line[0], line[1], line[2:]
        attrs = {k: int(v) for k, v in (t.split("=") for t in rest if "=" in t)}
        ins = [t for t in rest if "=" not in t and t != "global"]
        if op == "input":
            shapes[name] = tuple(int(x) for x in rest[0].split("x"))
            continue
        c, h, w = shapes[ins[0]]
        if op in ("conv", "maxpool", "avgpool") and "global" not in rest:
            k, s, p = attrs["k"], attrs.get("s", 1), attrs.get("p", 0)
            oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            out_c = attrs["out"] if op == "conv" else c
            if op == "conv":
                layers.append(dict(name=name, h=h, w=w, c=c, k=k, s=s, p=p, out=out_c, oh=oh, ow=ow))
            shapes[name] = (out_c, oh, ow)
        elif op == "avgpool":
            shapes[name] = (c, 1, 1)
        elif op == "linear":
            layers.append(dict(name=name, h=1, w=1, c=c * h * w, k=1, s=1, p=0, out=attrs["out"], oh=1, ow=1))
            shapes[name] = (attrs["out"], 1, 1)
        else:  # bnrelu, add
            shapes[name] = (c, h, w)
    return layers


def write(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(", ".join(str(x) for x in r) + ",\n")
    os.replace(tmp, path)


def main():
    out_dir = os.path.join(ROOT, "topologies")
    os.makedirs(out_dir, exist_ok=True)
    conv_header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
    for net in NETWORKS:
        layers = parse_net(os.path.join(ROOT, "networks", net + ".net"))
        rows = [(l["name"], l["h"] + 2 * l["p"], l["w"] + 2 * l["p"], l["k"], l["k"], l["c"], l["out"], l["s"])
                for l in layers]
        write(os.path.join(out_dir, net + ".csv"), conv_header, rows)
        if net == "small_resnet":
            gemm = [(l["name"], l["oh"] * l["ow"], l["out"], l["k"] * l["k"] * l["c"]) for l in layers]
            write(os.path.join(out_dir, net + "_gemm.csv"), "Layer Name, M, N, K,", gemm)
        print(f"{net}: {len(layers)} layers", file=sys.stderr)


if __name__ == "__main__":
    main()
