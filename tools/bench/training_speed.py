#!/usr/bin/python3
"""Training speed of the same network three ways, measured in one run on this machine:
octet-train integer (WAGEUBN), octet-train FP32 twin, and PyTorch FP32 (when Debian's
python3-torch is installed; the row is skipped otherwise). Not a test: a benchmark to rerun.

  /usr/bin/python3 tools/bench/training_speed.py --threads 2 [--images 6400] [--json out.json]
  /usr/bin/python3 tools/bench/training_speed.py --threads 2 --imagenet DIR [--image-size 224]
      [--batch 32] [--images 96] [--epochs 2] [--modes int8]
  /usr/bin/python3 tools/bench/training_speed.py --threads 2 --modes int8 --ranks 1,2 --no-torch

--ranks K1,K2,...: the integer rows again under `mpirun -np K` (data-parallel, docs/user-guide.md),
each rank with max(1, threads / K) threads, so every row uses the same cores (mpirun --bind-to
none). Their last columns: rank 0's share of the training time in MPI_Allreduce (waiting for the
other ranks included), and the MB and calls it reduced per step.

Every row trains with the same batch and thread count: on the same Fashion-MNIST images, or with
--imagenet on an ImageNet-layout folder (default network resnet18.net; octet-train decodes and
augments the JPEGs, PyTorch trains on random in-memory 3 x S x S tensors, so it does no decoding).
The octet rows come from octet-train's log: images/s of the training loop of the last epoch
(with --epochs 2 or more, the steady state after the first epoch's page faults); the PyTorch
row from tools/bench/pytorch_train.py (after 5 warm-up steps, or 1 with --imagenet).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def octet_row(binary, mode, args, ranks=0):
    threads = max(1, args.threads // ranks) if ranks else args.threads
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.json")
        # --bind-to none: for 2 ranks or fewer Open MPI binds each rank to one core, which would run
        # a rank's threads on one core (half the speed of the same run without mpirun).
        launcher = ["mpirun", "-q", "--oversubscribe", "--bind-to", "none", "-np", str(ranks)] if ranks else []
        cmd = launcher + [binary, "--network", args.network, "--mode", mode, "--epochs", str(args.epochs),
               "--batch", str(args.batch), "--threads", str(threads), "--train-limit", str(args.images),
               "--test-limit", "32" if args.imagenet else "256", "--progress-every", "1000000", "--log", log,
               "--no-plot"]
        if args.imagenet:
            cmd += ["--imagenet", args.imagenet, "--image-size", str(args.image_size)]
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        rec = json.load(open(log))["epochs"][-1]  # octet-train-log version 2: the last epoch
    engine = f"octet-train {mode}" + (f", {ranks} rank{'s' if ranks > 1 else ''} x {threads}" if ranks else "")
    row = {"engine": engine, "images": args.images, "images_per_second": rec["images_per_second"],
           "seconds": rec["seconds"], "ranks": ranks or 1, "threads_per_rank": threads,
           "digest": rec["state_digest"]}
    if "allreduce" in rec:  # data-parallel: rank 0's time in MPI_Allreduce and the bytes it reduced per step
        row["allreduce_seconds"] = rec["allreduce"]["seconds"]
        row["allreduce_bytes_per_step"] = rec["allreduce"]["bytes_per_step"]
        row["allreduce_calls_per_step"] = rec["allreduce"]["calls_per_step"]
    return row


def torch_row(args):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("training_speed: python3-torch is not installed; skipping the PyTorch row", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "torch.json")
        steps = max(1, args.images // args.batch)
        cmd = [sys.executable, os.path.join(ROOT, "tools/bench/pytorch_train.py"), "--network", args.network,
               "--threads", str(args.threads), "--batch", str(args.batch), "--steps", str(steps), "--json", out]
        if args.imagenet:
            cmd += ["--random-input", str(args.image_size), "--warmup", "1"]
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rec = json.load(open(out))
    return {"engine": f"pytorch {rec['torch']} fp32", "images": steps * args.batch,
            "images_per_second": rec["images_per_second"], "seconds": steps * args.batch / rec["images_per_second"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory holding bin/octet-train")
    ap.add_argument("--network", default="", help="default: small_resnet.net, resnet18.net with --imagenet")
    ap.add_argument("--imagenet", default="", help="an ImageNet-layout folder (train/<class>/*.JPEG, val/...)")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--epochs", type=int, default=1, help="octet rows report the last epoch")
    ap.add_argument("--modes", default="int8,fp32", help="octet-train modes to run (int8, fp32)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--images", type=int, default=6400, help="training images per engine")
    ap.add_argument("--ranks", default="", help="also run int8 under mpirun -np K for each K (e.g. 1,2)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch row")
    ap.add_argument("--json", default="", help="also write the rows here")
    args = ap.parse_args()
    if not args.network:
        args.network = os.path.join(ROOT, "networks", "resnet18.net" if args.imagenet else "small_resnet.net")
    binary = os.path.join(args.build, "bin", "octet-train")
    if not os.access(binary, os.X_OK):
        sys.exit(f"training_speed: {binary}: not built (cmake --build build --target octet-train)")
    rows = [octet_row(binary, mode, args) for mode in args.modes.split(",") if mode]
    for k in [int(k) for k in args.ranks.split(",") if k]:
        rows.append(octet_row(binary, "int8", args, ranks=k))
    t = None if args.no_torch else torch_row(args)
    if t:
        rows.append(t)
    ref = t["images_per_second"] if t else None
    size = f", {args.image_size}x{args.image_size} from {args.imagenet}" if args.imagenet else ""
    print(f"\n{os.path.basename(args.network)}{size}, batch {args.batch}, {args.threads} threads, "
          f"{os.cpu_count()} CPUs ({platform_cpu()})")
    print(f"{'engine':<34}{'images':>8}{'seconds':>10}{'img/s':>10}{'vs pytorch':>12}  {'state digest':<17}"
          f"{'allreduce':>10}{'MB/step':>9}{'calls':>7}")
    for r in rows:
        rel = f"{r['images_per_second'] / ref:.2f}x" if ref else "-"
        comm = (f"{100 * r['allreduce_seconds'] / max(r['seconds'], 1e-9):>9.1f}%{r['allreduce_bytes_per_step'] / 1e6:>9.2f}"
                f"{r['allreduce_calls_per_step']:>7.0f}" if "allreduce_seconds" in r else "")
        print(f"{r['engine']:<34}{r['images']:>8}{r['seconds']:>10.2f}{r['images_per_second']:>10.1f}{rel:>12}"
              f"  {r.get('digest', '-'):<17}{comm}")
    if args.json:
        json.dump({"format": "octet-training-speed", "version": 1, "network": args.network, "imagenet": args.imagenet or None,
                   "image_size": args.image_size if args.imagenet else None, "threads": args.threads, "batch": args.batch, "rows": rows},
                  open(args.json, "w"), indent=2)


def platform_cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
