"""PyTorch peer of bench_train's BM_DinoStep: the same CNN encoder, DINO head, loss, AdamW, EMA
teacher and centre update, on random tensors, with the same batch, tile size and thread count.

Prints JSON {"batch_size", "tile_size", "threads", "steps", "seconds_per_step"}.
Run with /usr/bin/python3 (Debian's python3-torch).
"""

import argparse
import copy
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def group_count(channels):
    groups = min(8, channels)
    while channels % groups:
        groups -= 1
    return groups


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        stages = [(3, c, 1), (c, 2 * c, 2), (2 * c, 4 * c, 2), (4 * c, 8 * c, 2), (8 * c, 8 * c, 1)]
        layers = []
        for cin, cout, stride in stages:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                       nn.GroupNorm(group_count(cout), cout), nn.GELU()]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body((x - 0.5) / 0.25).mean((2, 3))


class Head(nn.Module):
    def __init__(self, dim, hidden, bottleneck, prototypes):
        super().__init__()
        self.hidden1 = nn.Linear(dim, hidden)
        self.hidden2 = nn.Linear(hidden, hidden)
        self.bottleneck = nn.Linear(hidden, bottleneck)
        self.prototypes = nn.Parameter(torch.randn(prototypes, bottleneck))

    def forward(self, x):
        x = F.gelu(self.hidden2(F.gelu(self.hidden1(x))))
        x = F.normalize(self.bottleneck(x), dim=1)
        return x @ F.normalize(self.prototypes, dim=1).t()


def dino_loss(sa, sb, ta, tb, center, tt=0.04, ts=0.1):
    qa = F.softmax((ta - center) / tt, 1)
    qb = F.softmax((tb - center) / tt, 1)
    return 0.5 * (-(qa * F.log_softmax(sb / ts, 1)).sum(1).mean()
                  - (qb * F.log_softmax(sa / ts, 1)).sum(1).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tile-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    width, hidden, bottleneck, prototypes = 16, 256, 64, 256
    student = nn.Sequential(Encoder(width), Head(8 * width, hidden, bottleneck, prototypes))
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.04)
    center = torch.zeros(prototypes)
    shape = (args.batch_size, 3, args.tile_size, args.tile_size)
    views_a, views_b = torch.rand(shape), torch.rand(shape)

    def step():
        nonlocal center
        with torch.no_grad():
            ta, tb = teacher(views_a), teacher(views_b)
        loss = dino_loss(student(views_a), student(views_b), ta, tb, center)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for pt, ps in zip(teacher.parameters(), student.parameters()):
                pt.mul_(0.996).add_(ps.detach(), alpha=0.004)
            center = center * 0.9 + torch.cat([ta, tb]).mean(0) * 0.1
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"batch_size": args.batch_size, "tile_size": args.tile_size,
                      "threads": args.threads, "steps": args.steps,
                      "seconds_per_step": seconds}))


if __name__ == "__main__":
    main()
