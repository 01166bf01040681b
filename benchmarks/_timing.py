"""Timing helpers shared by the training benchmarks (imported by the scripts in this folder)."""
import time

import torch
from fastai.callback.core import Callback


def sync(device):
    "Wait for the device's queued work (CUDA); nothing to wait for on the CPU."
    if device.type == "cuda": torch.cuda.synchronize(device)


def clock(device) -> float:
    "Wall time on CUDA (after synchronising); on CPU this process's CPU time, which other processes' load barely changes."
    sync(device)
    return time.perf_counter() if device.type == "cuda" else time.process_time()


class TrainTimer(Callback):
    "Wall time of the training phase of every epoch (device synchronised), skipping validation."
    order = 100
    def __init__(self, device): self.device, self.times = device, []
    def before_train(self): self._t = clock(self.device)
    def after_train(self): self.times.append(clock(self.device) - self._t)
