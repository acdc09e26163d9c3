#!/usr/bin/env python3
"""PyTorch CPU training throughput of the same small CNN and MLP as @selmix/models (for bench/throughput.ts).

Prints one JSON object per line: {"model", "inputShape", "batch", "threads", "median", "min", "max", "reps"}.
Architectures match packages/models/src/models/{cnn,mlp}.ts: conv3x3(+bias) -> ReLU -> maxpool2 with 32/64/128
channels, flatten, dense 128 -> ReLU, head; MLP flatten -> 256 -> 128 -> head. SGD momentum 0.9, softmax CE.
"""
import argparse
import json
import os
import statistics
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
    for _ in range(reps):
        n = 0
        t0 = time.perf_counter()
        while True:
            step()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        rates.append(n * batch / dt)
    return {
        "model": name, "inputShape": list(shape), "batch": batch, "threads": torch.get_num_threads(),
        "median": statistics.median(rates), "min": min(rates), "max": max(rates), "reps": reps,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--models", default="cnn:32x32x3,cnn:28x28x1,mlp:28x28x1")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for spec in a.models.split(","):
        name, dims = spec.split(":")
        shape = tuple(int(d) for d in dims.split("x"))
        net = (cnn if name == "cnn" else mlp)(*shape, 10)
        print(json.dumps(measure(name, net, shape, a.batch, a.seconds, a.reps)), flush=True)


if __name__ == "__main__":
    main()
