# Copyright (c) cankd contributors. All rights reserved.
"""Let ``architecture``/``teacher`` overrides beside ``cfg_path`` take effect.

MMRazor builds ``dict(cfg_path=..., **keys)`` with ``mmengine.hub.get_model``,
which passes the keys as ``default_args``: they never override what the
loaded config has (``bbox_head=dict(num_classes=20)`` built 80 classes).
This shim builds such dicts from :func:`cankd.utils.model_config.
load_cfg_path_model` instead: overrides merged with mmengine's rules, unknown
keys refused, ``pretrained`` loading the model-zoo weights as before.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

_MARK = '__cankd_cfg_path_overrides__'


def _build_with_overrides(original):

    def build(cfg, registry, default_args=None):
        if not (cfg.get('cfg_path') and not cfg.get('type')):
            return original(cfg, registry, default_args)
        from mmengine.runner import load_checkpoint

        from ..utils.model_config import load_cfg_path_model, package_of
        model_cfg, weights = load_cfg_path_model(cfg)
        with DefaultScope.overwrite_default_scope(
                package_of(cfg['cfg_path'])):
            model = MMENGINE_MODELS.build(model_cfg, default_args=default_args)
        if weights:
            load_checkpoint(model, weights)
            # As get_model does: the Runner must not re-initialise it.
            model.is_init = True
        return model

    setattr(build, _MARK, True)
    return build


def patch_cfg_path_overrides() -> bool:
    """Route MMRazor's ``cfg_path`` builds through the override merge.

    Idempotent; does nothing if MMRazor no longer builds ``cfg_path`` dicts
    through its registry's build function.

    Returns:
        bool: Whether this call applied the patch.
    """
    from mmrazor.registry import MODELS, registry
    if getattr(MODELS.build_func, _MARK, False):
        return False
    if MODELS.build_func is not getattr(registry,
                                        'build_razor_model_from_cfg', None):
        return False  # Another build function: not the one we mend.
    MODELS.build_func = _build_with_overrides(MODELS.build_func)
    return True
