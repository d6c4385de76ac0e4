# Copyright (c) cankd contributors. All rights reserved.
"""Shared test fixtures: small real OpenMMLab models (built from mmdet's own
configs, shrunk to run in seconds on a CPU, never loading pretrained
weights) and a runner for the repository's command-line tools."""
import copy
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
