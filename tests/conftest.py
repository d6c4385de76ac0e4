# Copyright (c) cankd contributors. All rights reserved.
"""Shared test fixtures: small real OpenMMLab models (built from mmdet's own
configs, shrunk to run in seconds on a CPU, never loading pretrained
weights), a runner for the repository's command-line tools and an importer
of their modules."""
import copy
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.hub import get_config


@pytest.fixture(scope='session')
def mmdet_retinanet_cfg():
    """mmdet's RetinaNet R50-FPN model config, unchanged."""
    return get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py').model


@pytest.fixture(scope='session')
def tiny_retinanet(mmdet_retinanet_cfg):
    """Build-cfg factory: a ResNet-18 RetinaNet of ``width`` base channels
    with a 16-channel FPN (P3-P7; P2-P6 with ``start_level=0``), 3 classes,
    random initialisation."""

    def make(width: int = 8, num_classes: int = 3,
             start_level: int = 1) -> dict:
        cfg = copy.deepcopy(mmdet_retinanet_cfg)
        cfg._scope_ = 'mmdet'
        cfg.backbone.update(
            depth=18, base_channels=width, init_cfg=None, frozen_stages=-1,
            norm_eval=False)
        cfg.neck.in_channels = [width * 2**i for i in range(4)]
        cfg.neck.out_channels = 16
        cfg.neck.start_level = start_level
        cfg.bbox_head.update(
            num_classes=num_classes, in_channels=16, feat_channels=16,
            stacked_convs=1)
        return cfg

    return make


@pytest.fixture(scope='session')
def run_command():
    """Run a command in the repository root as a user's shell would, with
    this interpreter's ``python`` and ``torchrun`` first on ``PATH``; fail
    the test with the tail of its output when it exits non-zero.

    One thread per process: on a shared 2-core machine a 2-thread OpenMP
    process slows down tenfold as soon as anything else runs.
    """
    root = Path(__file__).resolve().parents[1]

    def run(*cmd, timeout: int = 900, **env) -> str:
        result = subprocess.run(
            [str(part) for part in cmd], cwd=root, capture_output=True,
            text=True, timeout=timeout,
            env=dict(os.environ, PATH=f'{osp.dirname(sys.executable)}:'
                     f'{os.environ["PATH"]}', OMP_NUM_THREADS='1', **env))
        assert result.returncode == 0, (result.stdout[-3000:] +
                                        result.stderr[-5000:])
        return result.stdout + result.stderr

    return run


@pytest.fixture(scope='session')
def tool_module():
    """Import a module of ``tools/`` from its file, as its script sees it.

    The tools are scripts, not a package: a script imports cankd, libraries
    and the modules of its own folder. The modules tested this way import
    no module of their folder.

    Returns:
        Callable[[str], ModuleType]: Takes the path relative to the
        repository root, e.g. ``'tools/visualizations/feature_maps.py'``.
    """
    root = Path(__file__).resolve().parents[1]

    def load(relpath: str):
        name = '_tool_' + relpath.replace('/', '_')[:-len('.py')]
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, root / relpath)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dataclasses look their module up
            spec.loader.exec_module(module)
        return sys.modules[name]

    return load


@pytest.fixture(scope='session')
def converted_student():
    """Factory: save a randomly initialised distillation model's checkpoint
    as mmengine's Runner does (weights, the distillation config in meta,
    runtime state), convert it with the real converter, and return the
    student checkpoint's path:
    ``converted_student(folder, kd_config, classes) -> Path``."""
    import torch
    from mmengine.config import Config

    from cankd.utils.build import build_model_offline
    converter = (Path(__file__).resolve().parents[1] / 'tools' /
                 'model_converters' / 'convert_kd_ckpt_to_student.py')

    def convert(folder: Path, kd_config, classes) -> Path:
        cfg = Config.fromfile(str(kd_config))
        algorithm = build_model_offline(cfg)
        kd_ckpt = folder / 'iter_4.pth'
        torch.save(
            dict(
                state_dict=algorithm.state_dict(),
                meta=dict(cfg=cfg.pretty_text, iter=4, seed=0,
                          dataset_meta=dict(classes=classes)),
                optimizer=dict(state={}, param_groups=[])), kd_ckpt)
        subprocess.run([sys.executable, str(converter), str(kd_ckpt),
                        '--out-path', str(folder)], check=True, timeout=300)
        return folder / 'iter_4_student.pth'

    return convert


class _FakeDownload(dict):
    """What the fake download returns: no weights, and a mark that
    survives mmengine's key revision (``_metadata`` is carried over)."""
    _metadata = 'cankd-fake-download'


@pytest.fixture
def fake_downloads(monkeypatch):
    """Replace every checkpoint download (``http(s)://``, ``torchvision://``,
    ``open-mmlab://``...) by a fake that records the address and loads
    random weights of the receiving module's own shapes.

    A ``torchvision://`` name is still resolved through torchvision's
    model registry, and a local path is loaded for real: a missing package,
    a misspelt scheme or an unknown torchvision name fails as it would for
    a user. Yields the list of recorded addresses.
    """
    from mmengine.runner import checkpoint as ckpt

    recorded = []

    def fake_http(filename, map_location=None):
        recorded.append(filename)
        return _FakeDownload()

    def fake_torchvision(filename, map_location=None):
        name = filename.split('://', 1)[1]
        urls = ckpt.get_torchvision_models()
        if name not in urls:
            raise KeyError(f'{filename}: torchvision has no {name!r}')
        recorded.append(filename)
        return _FakeDownload()

    schemes = {}
    for prefix, loader in ckpt.CheckpointLoader._schemes.items():
        if loader.__name__ == 'load_from_local':
            schemes[prefix] = loader
        elif loader.__name__ == 'load_from_torchvision':
            schemes[prefix] = fake_torchvision
        else:
            schemes[prefix] = fake_http
    monkeypatch.setattr(ckpt.CheckpointLoader, '_schemes', schemes)

    real_with_prefix = ckpt._load_checkpoint_with_prefix
    real_load_state_dict = ckpt.load_state_dict

    def with_prefix(prefix, filename, map_location=None):
        loaded = ckpt._load_checkpoint(filename, map_location)
        if isinstance(loaded, _FakeDownload):
            return loaded
        return real_with_prefix(prefix, filename, map_location)

    def load_state_dict(module, state_dict, strict=False, logger=None):
        if getattr(state_dict, '_metadata', None) != _FakeDownload._metadata:
            return real_load_state_dict(module, state_dict, strict, logger)
        import torch
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for tensor in module.state_dict().values():
                if tensor.is_floating_point():
                    tensor.add_(0.01 * torch.randn(
                        tensor.shape, generator=generator))

    monkeypatch.setattr(ckpt, '_load_checkpoint_with_prefix', with_prefix)
    monkeypatch.setattr(ckpt, 'load_state_dict', load_state_dict)
    yield recorded


@pytest.fixture(scope='session')
def largest_tensor():
    """A dispatch mode that records the element count of the largest
    tensor any aten op makes: ``with largest_tensor() as probe: ...``, then
    ``probe.numel``. Shows whether a loss materialises a matrix."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class LargestTensor(TorchDispatchMode):

        def __init__(self):
            super().__init__()
            self.numel = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for tensor in torch.utils._pytree.tree_leaves(out):
                if isinstance(tensor, torch.Tensor):
                    self.numel = max(self.numel, tensor.numel())
            return out

    return LargestTensor
