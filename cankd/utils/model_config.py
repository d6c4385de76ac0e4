# Copyright (c) cankd contributors. All rights reserved.
"""What ``dict(cfg_path='mmdet::...', **overrides)`` stands for.

MMRazor hands such a dict to ``mmengine.hub.get_model``, which passes every
key beside ``cfg_path`` as ``default_args`` of the build: a default never
overrides what the loaded config has, so ``bbox_head=dict(num_classes=20)``
or ``backbone=dict(init_cfg=None)`` were silently ignored. Here the keys are
merged into the loaded model config with mmengine's own rules (nested dicts,
``_delete_=True``), and a key the model cannot take is an error.
"""
import difflib
import importlib
import inspect
from typing import Iterable, List, Optional, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.registry import MODELS, DefaultScope

#: Keys of a ``cfg_path`` dict that are not model overrides.
CFG_PATH_KEYS = ('cfg_path', 'pretrained')
_DELETE = '_delete_'


class UnknownOverrideError(KeyError):
    """An override names a key that the model config does not have and the
    module it configures does not take."""

    def __str__(self) -> str:  # KeyError would quote the whole message.
        return str(self.args[0])


def package_of(cfg_path: str) -> str:
    """``'mmdet'`` for ``'mmdet::retinanet/...py'``."""
    if '::' not in cfg_path:
        raise ValueError(
            f"cfg_path='{cfg_path}' names no package: write it as "
            "'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py' (or mmseg::, "
            'mmpretrain::).')
    return cfg_path.split('::')[0]


def load_cfg_path_model(cfg: dict) -> Tuple[ConfigDict, Optional[str]]:
    """Resolve ``dict(cfg_path=..., pretrained=..., **overrides)``.

    Args:
        cfg (dict): The model dict of a distillation config's
            ``architecture`` or ``teacher``.

    Returns:
        tuple[ConfigDict, str | None]: The model config of ``cfg_path`` with
        the overrides merged in (its ``data_preprocessor`` as
        ``mmengine.hub.get_model`` sets it), and the model-zoo weights to
        load when ``pretrained`` is true (else None).

    Raises:
        UnknownOverrideError: An override key the model config does not
            have and the configured module does not accept, naming the key,
            the closest existing keys, and how to replace a whole dict.
    """
    cfg_path = cfg['cfg_path']
    pretrained = bool(cfg.get('pretrained', False))
    package = package_of(cfg_path)
    with DefaultScope.overwrite_default_scope(package):
        loaded = get_config(cfg_path, pretrained)
        model = loaded.model
        if 'data_preprocessor' in loaded:
            model.data_preprocessor = loaded.data_preprocessor
        overrides = {k: v for k, v in cfg.items() if k not in CFG_PATH_KEYS}
        _register_package(package)
        with MODELS.switch_scope_and_registry(package) as registry:
            _check_override_keys(overrides, model, '', cfg_path, registry)
        model = ConfigDict(Config._merge_a_into_b(overrides, model))
    weights = loaded.get('model_path') if pretrained else None
    return model, weights


def _register_package(package: str) -> None:
    importlib.import_module(f'{package}.utils').register_all_modules(
        init_default_scope=False)


def _accepted_arguments(type_name, registry) -> Optional[Iterable[str]]:
    """Constructor arguments of a registered type; None when it takes
    ``**kwargs`` or cannot be resolved (nothing to check against)."""
    if not isinstance(type_name, str):
        cls = type_name
    else:
        cls = registry.get(type_name)
    if cls is None or not inspect.isclass(cls):
        return None
    params = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.name != 'self']


def _check_override_keys(overrides: dict, base: dict, where: str,
                         cfg_path: str, registry) -> None:
    """Refuse override keys that neither the base dict has nor its module
    accepts, recursively through nested module dicts."""
    if overrides.get(_DELETE):
        return  # A replacement: the user writes the whole dict.
    accepted = (_accepted_arguments(base.get('type'), registry)
                if 'type' in base else ())
    for key, value in overrides.items():
        if key == _DELETE:
            continue
        if key in base:
            if isinstance(value, dict) and isinstance(base[key], dict):
                _check_override_keys(value, base[key], _join(where, key),
                                     cfg_path, registry)
            continue
        if accepted is None or key in accepted or 'type' not in base:
            continue  # A constructor argument the config leaves at default.
        raise UnknownOverrideError(
            _unknown_key_message(key, where, base, accepted, cfg_path))


def _unknown_key_message(key: str, where: str, base: dict,
                         accepted: List[str], cfg_path: str) -> str:
    known = sorted(set(base) | set(accepted))
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close \
        else ''
    return (f"Override '{_join(where, key)}' of cfg_path='{cfg_path}': "
            f"{base.get('type')} has no argument '{key}'.{hint} Its config "
            f"has {', '.join(sorted(base))}. To replace "
            f"'{where or 'the model'}' as a whole (e.g. another type), give "
            'its dict _delete_=True.')


def _join(where: str, key: str) -> str:
    return f'{where}.{key}' if where else key
