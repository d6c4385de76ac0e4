# Copyright (c) cankd contributors. All rights reserved.
"""CanLoss inside MMRazor's real distillers: a RetinaNet student learns from
a wider RetinaNet teacher through ConfigurableDistiller and
FpnTeacherDistill, with mmengine's OptimWrapper."""
import copy

import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from cankd.models import CanLoss

LEVELS = range(4)  # P3-P6, as the paper distils RetinaNet


def can_kd_distiller(loss_weight: float = 10.0) -> dict:
    """A ConfigurableDistiller with one CanLoss per FPN level."""
    recorders = {
        f'fpn{i}': dict(type='ModuleOutputs', source=f'neck.fpn_convs.{i}.conv')
        for i in LEVELS
    }
    return dict(
        type='ConfigurableDistiller',
        student_recorders=recorders,
        teacher_recorders=copy.deepcopy(recorders),
        distill_losses={
            f'loss_can_fpn{i}': dict(
                type='CanLoss', in_channels=16, loss_weight=loss_weight)
            for i in LEVELS
        },
        loss_forward_mappings={
            f'loss_can_fpn{i}': dict(
                s_feature=dict(from_student=True, recorder=f'fpn{i}'),
                t_feature=dict(from_student=False, recorder=f'fpn{i}'))
            for i in LEVELS
        })


@pytest.fixture
def algorithm(tiny_retinanet):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            _scope_='mmrazor',
        type='FpnTeacherDistill',
            architecture=tiny_retinanet(width=8),
            teacher=tiny_retinanet(width=16),
            distiller=can_kd_distiller()))
    model.init_weights()
    return model


@pytest.fixture
def batch():
    torch.manual_seed(1)
    return demo_mm_inputs(
        batch_size=2, image_shapes=[(3, 96, 96)] * 2, num_items=[3, 2],
        num_classes=3)


def test_distiller_builds_one_can_loss_per_level(algorithm):
    losses = algorithm.distiller.distill_losses
    assert sorted(losses) == [f'loss_can_fpn{i}' for i in LEVELS]
    assert all(isinstance(loss, CanLoss) for loss in losses.values())


@pytest.mark.slow
def test_train_steps_reduce_the_distillation_loss_and_spare_the_teacher(
        algorithm, batch):
    teacher_before = copy.deepcopy(algorithm.teacher.state_dict())
    theta_before = algorithm.distiller.distill_losses[
        'loss_can_fpn0'].theta.weight.detach().clone()
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(
            [p for p in algorithm.parameters() if p.requires_grad],
            lr=0.01, momentum=0.9))
    algorithm.train()

    history = []
    for _ in range(8):
        log_vars = algorithm.train_step(batch, optim_wrapper)
        history.append(
            sum(v.item() for k, v in log_vars.items()
                if k.startswith('distill.')))

    assert {f'distill.loss_can_fpn{i}' for i in LEVELS} <= set(log_vars)
    assert all(torch.isfinite(torch.tensor(history)))
    assert history[-1] < 0.8 * history[0], history
    for name, tensor in algorithm.teacher.state_dict().items():
        assert torch.equal(tensor, teacher_before[name]), name
    theta_after = algorithm.distiller.distill_losses['loss_can_fpn0'].theta
    assert not torch.equal(theta_after.weight, theta_before)
