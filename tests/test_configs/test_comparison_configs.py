# Copyright (c) cankd contributors. All rights reserved.
"""The MMRazor PKD and MGD configs and the ACAM-KD config (cankd's unofficial
re-implementation) the CPU reproduction compares CanKD with: the demo pair,
the same FPN levels, each method's losses, and a real training step that
reaches them (and, for ACAM-KD, changes the mask generators)."""
from pathlib import Path

import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmrazor.models.losses import MGDLoss, PKDLoss

from cankd.models import ACAMLoss

from cankd.utils.build import build_model_offline

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'demo'
PAIR = 'retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'


@pytest.mark.parametrize('method,loss_type,key', [
    ('pkd', PKDLoss, 'pkd'), ('mgd', MGDLoss, 'mgd'),
    ('acamkd', ACAMLoss, 'acam')
])
def test_config_trains_the_demo_pair_with_its_loss(method, loss_type, key):
    torch.manual_seed(0)
    model = build_model_offline(Config.fromfile(DEMO / f'{method}_{PAIR}'))
    losses = model.distiller.distill_losses
    assert sorted(losses) == [f'loss_{key}_fpn{i}' for i in range(4)]
    assert all(type(loss) is loss_type for loss in losses.values())

    batch = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 128)] * 2,
                           num_items=[3, 2], num_classes=10)
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=0.01))
    before = {n: p.detach().clone() for n, p in losses.named_parameters()}
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    for i in range(4):
        value = log_vars[f'distill.loss_{key}_fpn{i}']
        assert torch.isfinite(value) and value > 0
    # ACAM-KD's mask generators are the algorithm's parameters: the
    # optimiser steps the selection units of every level.
    units = [n for n in before if n.endswith(('_tokens', '_units'))]
    assert len(units) == (8 if method == 'acamkd' else 0)
    for name in units:
        assert not torch.equal(losses.get_parameter(name), before[name])
