# Copyright (c) cankd contributors. All rights reserved.
"""Every detection pair of the paper has a config (each is built, checked
and dry-run by test_every_config.py)."""
from pathlib import Path

CONFIGS = sorted((Path(__file__).resolve().parents[2] / 'configs' /
                  'mmdet').glob('*.py'))


def test_every_paper_detection_pair_has_a_config():
    names = {p.stem for p in CONFIGS}
    expected = [
        'retinanet-r101_retinanet-r50', 'faster-rcnn-r101_faster-rcnn-r50',
        'fcos-r101', 'cascade-mask-rcnn-x101-64x4d_faster-rcnn-r50',
        'retinanet-x101-64x4d_retinanet-r50', 'reppoints-x101',
        'fcos-x101-64x4d_retinanet-r50', 'dino-4scale-r101',
        'grounding-dino-r101', 'objects365v2',
        'mask-rcnn-swin-s_retinanet-r50'
    ]
    for pair in expected:
        assert any(pair in n and n.startswith('cankd_') for n in names), pair
    assert sum(n.startswith('cankd-inherit_') for n in names) == 6
