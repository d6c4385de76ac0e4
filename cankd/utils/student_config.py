# Copyright (c) cankd contributors. All rights reserved.
"""The plain config of the student of a distillation config.

A converted student checkpoint carries this config in ``meta['cfg']``, so
that it is used like any mmdet/mmseg checkpoint: ``DetInferencer(weights=
...)`` and ``MMSegInferencer(None, weights=...)`` without a config, in an
interpreter that never imports cankd. It holds the student model and what
the student needs at test time (data, pipeline, evaluator, loops, runtime);
no teacher, no distiller, and ``custom_imports`` of cankd only where the
student itself is built of a module cankd registers (its MobileNetV1).
"""
import copy
from typing import Optional

from mmengine.config import Config, ConfigDict

from .model_config import load_cfg_path_model, package_of

# Top-level keys of a distillation config that a plain student needs at
# test time. Everything else (the distiller, the teacher, training schedule
# and optimiser, custom hooks of the distillation, custom_imports) belongs
# to the distillation run. Variables such as data_root are already inlined
# where they were used.
STUDENT_TEST_KEYS = (
    'default_scope', 'env_cfg', 'log_level', 'log_processor',
    'default_hooks', 'visualizer', 'vis_backends', 'backend_args',
    'test_pipeline', 'test_dataloader', 'test_evaluator', 'test_cfg',
    'val_dataloader', 'val_evaluator', 'val_cfg', 'tta_model', 'tta_pipeline')

# The loops a plain model runs instead of MMRazor's distillation loops
# (which also evaluate the teacher).
_PLAIN_LOOPS = dict(val_cfg='ValLoop', test_cfg='TestLoop')


def resolve_student_model_cfg(architecture: dict) -> ConfigDict:
    """The model config that a distiller builds as its student.

    ``architecture`` is either a full model config (returned as is) or
    ``dict(cfg_path='mmdet::...py', <keys>)``: the ``model`` of that config
    with the extra keys merged over it exactly as training builds it
    (:func:`cankd.utils.model_config.load_cfg_path_model`), in the scope of
    its package.

    Args:
        architecture (dict): ``model.architecture`` of a distillation
            config.

    Returns:
        ConfigDict: A plain model config, buildable by ``MODELS.build``.
    """
    architecture = copy.deepcopy(dict(architecture))
    if architecture.get('cfg_path') is None:
        return ConfigDict(architecture)
    model, _ = load_cfg_path_model(architecture)
    # get_model builds in the scope of the package the config comes from.
    model.setdefault('_scope_', package_of(architecture['cfg_path']))
    return model


def student_config(distill_cfg: Config) -> Config:
    """The plain config of the student of a distillation config.

    Args:
        distill_cfg (Config): A distillation config, whose ``model`` has an
            ``architecture``.

    Returns:
        Config: ``model`` (the student) and the :data:`STUDENT_TEST_KEYS`
        of ``distill_cfg``, with MMRazor's distillation loops replaced by
        the plain ones.

    Raises:
        ValueError: ``distill_cfg.model`` has no ``architecture``.
    """
    model_cfg = distill_cfg.get('model') or {}
    if 'architecture' not in model_cfg:
        raise ValueError(
            'Not a distillation config: its model has no `architecture` '
            f'(model type {model_cfg.get("type")!r}).')
    student = resolve_student_model_cfg(model_cfg['architecture'])
    algorithm_preprocessor = _algorithm_data_preprocessor(distill_cfg)
    if 'data_preprocessor' not in student and algorithm_preprocessor:
        # The algorithm normalised the student's inputs; keep doing so.
        student.data_preprocessor = algorithm_preprocessor
    plain = {
        key: copy.deepcopy(distill_cfg[key])
        for key in STUDENT_TEST_KEYS if key in distill_cfg
    }
    for key, loop in _PLAIN_LOOPS.items():
        if key in plain and 'Distill' in str(plain[key].get('type', '')):
            plain[key] = dict(type=loop)
    scope = student.get('_scope_')
    if scope and plain.get('default_scope') in (None, 'mmrazor'):
        plain['default_scope'] = scope
    if _uses_cankd_modules(student):
        plain['custom_imports'] = dict(
            imports=['cankd'], allow_failed_imports=False)
    plain['model'] = student
    return Config(plain)


def _uses_cankd_modules(model_cfg) -> bool:
    """Whether any ``type`` in the model config is a module of cankd's
    (which an interpreter finds only after importing cankd)."""
    from ..models.backbones import __all__ as cankd_modules
    if isinstance(model_cfg, dict):
        if model_cfg.get('type') in cankd_modules:
            return True
        return any(_uses_cankd_modules(v) for v in model_cfg.values())
    if isinstance(model_cfg, (list, tuple)):
        return any(_uses_cankd_modules(v) for v in model_cfg)
    return False


def _algorithm_data_preprocessor(distill_cfg: Config) -> Optional[dict]:
    preprocessor = distill_cfg.model.get('data_preprocessor') or \
        distill_cfg.get('data_preprocessor')
    return copy.deepcopy(preprocessor) if preprocessor else None
