# Copyright (c) cankd contributors. All rights reserved.
"""How ``benchmark_loss.py`` measures one forward + backward step of a loss:
its wall time, and its peak memory above what existed before the step
(``torch.cuda`` statistics on a GPU; ``torch.profiler`` or
:class:`PeakMemoryTracker` on a CPU). Needs torch alone."""
import contextlib
import os
import sys
import time
import weakref
from typing import Dict

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakMemoryTracker(TorchDispatchMode):
    """Peak of the bytes of live tensor storages allocated inside the mode.

    Every ATen call (forward, and backward: the autograd engine dispatches
    through the same modes) is seen; an output whose storage is not one of
    the call's inputs' storages and not already tracked is a new allocation.
    Its size is added to the live total and removed when the storage is
    freed (``weakref.finalize`` on the storage, whose Python object lives as
    long as the storage does). Tensors that existed before the mode
    (inputs, parameters) are not counted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._tracked: Dict[int, weakref.finalize] = {}

    def _freed(self, ptr: int, nbytes: int) -> None:
        self.live -= nbytes
        self._tracked.pop(ptr, None)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = {
            t.untyped_storage().data_ptr()
            for t in tree_flatten((args, kwargs))[0]
            if isinstance(t, torch.Tensor)
        }
        out = func(*args, **kwargs)
        for tensor in tree_flatten(out)[0]:
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            ptr, nbytes = storage.data_ptr(), storage.nbytes()
            if nbytes == 0 or ptr in inputs or ptr in self._tracked:
                continue  # a view, an in-place result, or already counted
            self._tracked[ptr] = weakref.finalize(storage, self._freed, ptr,
                                                  nbytes)
            self.live += nbytes
            self.peak = max(self.peak, self.live)
        return out


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def step(module: nn.Module, s_feature, t_feature):
    """One training step of the loss: forward and backward."""
    for param in module.parameters():
        param.grad = None
    s_feature.grad = None
    loss = module(s_feature, t_feature)
    loss.backward()
    return loss


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (Kineto logs every profiler start/stop)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def profiler_peak(fn):
    """Run ``fn`` under ``torch.profiler`` (``profile_memory=True``);
    return (its result, peak bytes allocated above the start on the CPU)."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU],
                                  profile_memory=True) as prof:
        out = fn()
    events = sorted(
        (e for e in prof.profiler.kineto_results.events()
         if e.name() == '[memory]' and e.device_type() == DeviceType.CPU),
        key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return out, peak


def measure_memory(module, s_feature, t_feature, device, cpu_memory):
    """Run one step; return (peak bytes, loss value, student gradient)."""
    for param in module.parameters():  # freed before, not during, the step
        param.grad = None
    s_feature.grad = None
    if device == 'cuda':
        sync(device)
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        loss = step(module, s_feature, t_feature)
        sync(device)
        peak = torch.cuda.max_memory_allocated() - before
    elif cpu_memory == 'profiler':
        loss, peak = profiler_peak(
            lambda: step(module, s_feature, t_feature))
    else:
        with PeakMemoryTracker() as tracker:
            loss = step(module, s_feature, t_feature)
        peak = tracker.peak
    return peak, loss.item(), s_feature.grad.detach().clone()


def timed_step(module, s_feature, t_feature, device) -> float:
    sync(device)
    start = time.perf_counter()
    step(module, s_feature, t_feature)
    sync(device)
    return time.perf_counter() - start


def _release(module, s_feature, device) -> None:
    for param in module.parameters():
        param.grad = None
    s_feature.grad = None
    if device == 'cuda':
        torch.cuda.empty_cache()
