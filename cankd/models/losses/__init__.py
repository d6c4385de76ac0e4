# Copyright (c) cankd contributors. All rights reserved.
from .acam_loss import ACAMLoss
from .can_loss import CanLoss

__all__ = ['ACAMLoss', 'CanLoss']
