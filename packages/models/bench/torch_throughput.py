#!/usr/bin/env python3
"""PyTorch CPU training throughput of the same small CNN and MLP as @selmix/models (for bench/throughput.ts).

Prints one JSON object per line: {"model", "inputShape", "batch", "threads", "median", "min", "max", "reps",
"cpuMedian"} (cpuMedian: images per second of process CPU time, which a busy machine distorts less), one per
(spec, batch, thread count). With --info, prints one JSON object describing torch and the BLAS it runs on instead.
Architectures match packages/models/src/models/{cnn,mlp}.ts: conv3x3(+bias) -> ReLU -> maxpool2 with 32/64/128
channels, flatten, dense 128 -> ReLU, head; MLP flatten -> 256 -> 128 -> head. SGD momentum 0.9, softmax CE.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import time

import torch
import torch.nn as nn


def cnn(h, w, c, k):
    oh, ow = h, w
    for _ in range(3):
        oh, ow = oh // 2, ow // 2
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(oh * ow * 128, 128), nn.ReLU(), nn.Linear(128, k),
    )


def mlp(h, w, c, k):
    return nn.Sequential(nn.Flatten(), nn.Linear(h * w * c, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, k))


def measure(name, net, shape, batch, seconds, reps):
    h, w, c = shape
    torch.manual_seed(0)
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    rates = []
    cpu_rates = []
    for _ in range(reps):
        n = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while True:
            step()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        rates.append(n * batch / dt)
        cpu_rates.append(n * batch / max(time.process_time() - c0, 1e-9))
    return {
        "model": name, "inputShape": list(shape), "batch": batch, "threads": torch.get_num_threads(),
        "median": statistics.median(rates), "min": min(rates), "max": max(rates), "reps": reps,
        "cpuMedian": statistics.median(cpu_rates),
    }


def blas_info():
    """Which BLAS this process really uses: the shared libraries mapped after a matrix product, the build's
    BLAS_INFO, and Debian's libblas.so.3 alternative. kind is openblas, mkl, blis, atlas, reference or unknown."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if re.search(r"(blas|mkl|blis|atlas)[^/]*\.so", path):
                mapped.add(os.path.realpath(path))
    config = torch.__config__.show()
    build = re.search(r"BLAS_INFO=([^,\s]+)", config)
    alternative = None
    if shutil.which("update-alternatives"):
        q = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"], capture_output=True, text=True)
        m = re.search(r"^Value: (.+)$", q.stdout, re.M)
        alternative = m.group(1).strip() if m else None
    text = " ".join(sorted(mapped)) + " " + (build.group(1) if build else "")
    kind = "unknown"
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in text:
            kind = name
            break
    else:
        if any(re.search(r"/blas/libblas\.so", p) for p in mapped):
            kind = "reference"
    return {"torch": torch.__version__, "build": build.group(1) if build else None, "mapped": sorted(mapped),
            "alternative": alternative, "kind": kind, "cpus": os.cpu_count()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--info", action="store_true")
    p.add_argument("--batch", default="64", help="comma-separated batch sizes")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", default=str(os.cpu_count() or 1), help="comma-separated thread counts")
    p.add_argument("--models", default="cnn:32x32x3,cnn:28x28x1,mlp:28x28x1")
    a = p.parse_args()
    if a.info:
        print(json.dumps(blas_info()), flush=True)
        return
    for spec in a.models.split(","):
        name, dims = spec.split(":")
        shape = tuple(int(d) for d in dims.split("x"))
        for batch in (int(b) for b in a.batch.split(",")):
            for threads in (int(t) for t in a.threads.split(",")):
                torch.set_num_threads(threads)
                torch.manual_seed(0)
                net = (cnn if name == "cnn" else mlp)(*shape, 10)
                print(json.dumps(measure(name, net, shape, batch, a.seconds, a.reps)), flush=True)


if __name__ == "__main__":
    main()
