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


def minimal_loop(x, y, arch, bs, epochs, lr, device, arch_kwargs, wd=5e-4, augment=True):
    """The peer of the fastai Learner: the same training in plain PyTorch (shuffled batches, the package's batch
    augmentation, AdamW, one-cycle, bf16 autocast on CUDA). Returns the fastest epoch after the first (seconds) and
    the peak CUDA memory (MiB; NaN on the CPU)."""
    from spectral_align.data import BatchAugment
    from spectral_align.models import build_model
    torch.manual_seed(0)
    model = build_model(arch, 10, x.shape[1], **arch_kwargs).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd, betas=(0.9, 0.99), eps=1e-5)
    n_batches = len(x) // bs
    # (at least 8 steps: OneCycleLR needs a warm-up phase of one step or more; only a dry run has fewer batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(epochs * n_batches, 8), pct_start=0.25)
    aug, amp, times = (BatchAugment(seed=0) if augment else None), device.type == "cuda", []
    for _ in range(epochs):
        model.train()
        t = clock(device)
        perm = torch.randperm(len(x), device=device)
        for i in range(n_batches):
            idx = perm[i * bs:(i + 1) * bs]
            xb, yb = x[idx], y[idx]
            if aug is not None: xb, yb = aug((xb, yb))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(); sched.step()
        times.append(clock(device) - t)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")
    return min(times[1:] or times), peak
