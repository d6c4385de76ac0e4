# Copyright (c) cankd contributors. All rights reserved.
"""Build the model of a config without downloading anything."""
import copy

from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn


def build_model_offline(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` without loading any checkpoint.

    ``teacher_ckpt`` is dropped and weights are never initialised (which is
    where pretrained backbones would be fetched), so configs pointing at
    model-zoo URLs build on a machine without internet.

    Args:
        cfg (Config): A training config.

    Returns:
        nn.Module: The model, randomly initialised.
    """
    import cankd  # noqa: F401  (custom_imports of the config)
    model_cfg = copy.deepcopy(cfg.model)
    if 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    from mmrazor.registry import MODELS
    return MODELS.build(model_cfg)
