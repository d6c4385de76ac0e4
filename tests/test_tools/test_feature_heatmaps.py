# Copyright (c) cankd contributors. All rights reserved.
"""tools/visualizations/feature_maps.py and feature_heatmaps.py:
the heatmap of a feature map peaks where its energy is, and the CLI draws
the demo config's distilled levels into a grid of the expected size."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from cankd.utils.build import build_model_offline

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'visualizations' / 'feature_heatmaps.py'
CONFIG = (ROOT / 'configs' / 'demo' /
          'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')


@pytest.fixture(scope='module')
def maps(tool_module):
    return tool_module('tools/visualizations/feature_maps.py')


@pytest.mark.parametrize('reduction', ['mean_abs', 'l2'])
def test_heatmap_peaks_where_the_energy_is(maps, reduction):
    torch.manual_seed(0)
    feature = 0.1 * torch.randn(1, 8, 8, 8)
    feature[:, :, 6:, 6:] += torch.tensor([5.0, -5.0] * 4)[None, :, None,
                                                            None]
    heatmap = maps.feature_heatmap(feature, reduction)
    assert heatmap.shape == (8, 8) and heatmap.dtype == np.float32
    assert heatmap.min() == 0.0 and heatmap.max() == 1.0
    row, col = np.unravel_index(heatmap.argmax(), heatmap.shape)
    assert row >= 6 and col >= 6
    assert heatmap[:4, :4].max() < 0.2  # the far corner is cold


def test_heatmap_is_aligned_with_the_image_inside_the_padding(maps):
    # A 32x32 input holding a 24x32 image (8 rows of padding at the
    # bottom); stride 8. The hot cell is the image's bottom-right one; the
    # padding row below is hotter still but is cropped away.
    feature = torch.zeros(1, 4, 4, 4)
    feature[0, :, 2, 3] = 1.0
    feature[0, :, 3, :] = 9.0
    heatmap = maps.feature_heatmap(
        feature, 'mean_abs', input_size=(32, 32), valid_size=(24, 32),
        out_size=(48, 64))
    assert heatmap.shape == (48, 64)
    assert 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    row, col = np.unravel_index(heatmap.argmax(), heatmap.shape)
    assert row >= 32 and col >= 48  # bottom-right quarter of the image
    assert heatmap[:16, :32].max() < 0.1


def test_constant_feature_gives_a_zero_heatmap(maps):
    assert not maps.normalise(np.full((3, 3), 7.0)).any()
    assert not maps.feature_heatmap(torch.ones(2, 5, 5)).any()


def test_grid_has_the_announced_shape(maps):
    image = np.zeros((30, 40, 3), np.uint8)
    cell = maps.overlay(image, np.ones((30, 40), np.float32))
    assert cell.shape == (30, 40, 3)
    assert (cell[..., 2] > cell[..., 0]).all()  # hot is red, not blue
    grid = maps.compose_grid([[cell] * 3] * 2, [['a', 'b']] * 3,
                             [['row'], ['row']], 'header', 'footer')
    assert grid.shape[:2] == maps.grid_shape(2, 3, (30, 40))


def test_select_state_dict_takes_the_prefix_or_everything(maps):
    kd = dict(state_dict={'architecture.a': 1, 'teacher.a': 2})
    assert maps.select_state_dict(kd, 'teacher.') == {'a': 2}
    assert maps.select_state_dict({'a': 3}, 'teacher.') == {'a': 3}


def test_cli_draws_every_distilled_level(maps, tmp_path):
    algorithm = build_model_offline(Config.fromfile(str(CONFIG)))
    kd_ckpt, student_ckpt = tmp_path / 'kd.pth', tmp_path / 'student.pth'
    torch.save(dict(state_dict=algorithm.state_dict(), meta={}), kd_ckpt)
    torch.save(dict(state_dict=algorithm.architecture.state_dict()),
               student_ckpt)
    image = np.full((128, 128, 3), 40, np.uint8)
    cv2.rectangle(image, (70, 20), (110, 90), (200, 180, 160), -1)
    cv2.imwrite(str(tmp_path / 'image.png'), image)
    out = tmp_path / 'heatmaps.png'
    result = subprocess.run(
        [sys.executable, str(TOOL), str(CONFIG), str(tmp_path / 'image.png'),
         '--out', str(out), '--checkpoint', str(kd_ckpt),
         '--baseline-student', str(student_ckpt), '--cell-size', '64'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert 'saved' in result.stdout and '4 levels x 3 columns' in \
        result.stdout
    for i in range(4):  # the demo distils neck outputs 0-3
        assert f'loss_can_fpn{i}' in result.stdout
    grid = cv2.imread(str(out))
    assert grid.shape[:2] == maps.grid_shape(4, 3, (64, 64))
    assert not list(tmp_path.glob('.heatmaps.png.*'))  # atomic write
