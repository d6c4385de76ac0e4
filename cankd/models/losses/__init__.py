# Copyright (c) cankd contributors. All rights reserved.
from .can_loss import CanLoss

__all__ = ['CanLoss']
