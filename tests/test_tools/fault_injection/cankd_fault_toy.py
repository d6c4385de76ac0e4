# Copyright (c) cankd contributors. All rights reserved.
"""A tiny model and dataset for the fault-injection tests, registered in
mmengine's registries (imported through ``custom_imports``).

The model carries a large parameter so that saving a checkpoint takes long
enough (tens of megabytes, fsynced) for a test to kill the job while the
temporary file is being written; ``step_sleep`` slows iterations down so
that a job can be killed between checkpoints.
"""
import time

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS


@MODELS.register_module()
class FaultToyModel(BaseModel):
    """A linear regressor plus a ``ballast`` parameter that joins the loss.

    Args:
        ballast (int): Number of extra parameters (float32).
        step_sleep (float): Seconds each training step sleeps.
    """

    def __init__(self, ballast: int = 4_000_000, step_sleep: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(8, 1)
        self.ballast = nn.Parameter(torch.zeros(ballast))
        self.step_sleep = step_sleep

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode != 'loss':
            return out
        if self.step_sleep:
            time.sleep(self.step_sleep)
        target = torch.stack(data_samples)
        loss = ((out - target)**2).mean() + 1e-3 * (self.ballast**2).mean()
        return dict(loss=loss)


@DATASETS.register_module()
class FaultToyDataset(torch.utils.data.Dataset):
    """``length`` fixed random samples (seeded, the same in every process).

    Args:
        length (int): Number of samples.
    """

    def __init__(self, length: int = 64):
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(length, 8, generator=generator)
        self.targets = torch.randn(length, 1, generator=generator)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.inputs[index],
                    data_samples=self.targets[index])
