# Copyright (c) cankd contributors. All rights reserved.
"""The losses ``benchmark_loss.py`` and ``complexity.py`` compare: CanLoss
(each affinity), its dense formulation, MMRazor's PKD, MGD and CWD, and the
floor of CanLoss (its four 1×1 convs alone)."""
from typing import Dict, Sequence

import torch
import torch.nn as nn
from cankd.models import CanLoss

from _dense_can_loss import DenseCanLoss

# name -> (column title, time grows with pixels^exponent)
METHODS = {
    'can_dot_product': ('CanLoss dot', 1),
    'can_gaussian': ('CanLoss gauss', 2),
    'can_embedded_gaussian': ('CanLoss emb-gauss', 2),
    'dense': ('DenseCanLoss', 2),
    'pkd': ('PKD', 1),
    'mgd': ('MGD', 1),
    'cwd': ('CWD', 1),
    'floor': ('floor (4 convs)', 1),
}


class MGD(nn.Module):
    """MMRazor's MGD as its config builds it: an ``MGDConnector``
    (random mask + two 3×3 convs) on the student, then ``MGDLoss``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        from mmrazor.models.architectures.connectors import MGDConnector
        from mmrazor.models.losses import MGDLoss
        self.connector = MGDConnector(
            student_channels=channels, teacher_channels=channels,
            lambda_mgd=0.65)
        self.loss = MGDLoss(alpha_mgd=0.00002)

    def forward(self, s_feature, t_feature):
        return self.loss(self.connector(s_feature), t_feature)


class ConvFloor(nn.Module):
    """The four 1×1 convs of a CanLoss (θ, φ, g and the conv of W_z), with
    the same inputs, shapes and gradients as inside CanLoss, and nothing
    else: the cost CanLoss cannot go below."""

    def __init__(self, can_loss: CanLoss) -> None:
        super().__init__()
        self.can_loss = can_loss

    def forward(self, s_feature, t_feature):
        can = self.can_loss
        query = can.theta(s_feature)  # (B, C', H, W), like the attended Y
        out = can.w_z[0](query)
        return out.sum() + can.phi(t_feature).sum() + can.g(t_feature).sum()


def make_can_loss(channels: int, affinity: str, seed: int) -> CanLoss:
    torch.manual_seed(seed)
    loss = CanLoss(channels, affinity=affinity)
    # W_z's norm starts at zero (S* = S at step 0), which would hide the
    # attention from the loss; give it trained-looking values instead.
    nn.init.normal_(loss.w_z[1].weight, 1.0, 0.1)
    nn.init.normal_(loss.w_z[1].bias, 0.0, 0.1)
    return loss


def build_methods(channels: int, names: Sequence[str] = tuple(METHODS),
                  seed: int = 0) -> Dict[str, nn.Module]:
    """Every compared loss module, in train mode, on CPU."""
    from mmrazor.models.losses import ChannelWiseDivergence, PKDLoss
    can = make_can_loss(channels, 'dot_product', seed)
    modules = {}
    for name in names:
        if name == 'can_dot_product':
            modules[name] = can
        elif name.startswith('can_'):
            modules[name] = make_can_loss(channels, name[4:], seed)
        elif name == 'dense':
            modules[name] = DenseCanLoss(can)  # same parameters as `can`
        elif name == 'pkd':
            modules[name] = PKDLoss()
        elif name == 'mgd':
            torch.manual_seed(seed)
            modules[name] = MGD(channels)
        elif name == 'cwd':
            modules[name] = ChannelWiseDivergence(tau=1.0)
        elif name == 'floor':
            modules[name] = ConvFloor(can)
        else:
            raise ValueError(f'unknown method {name!r}')
    return {name: module.train() for name, module in modules.items()}
