# Copyright (c) cankd contributors. All rights reserved.
"""tools/_robustness.py, the logic of tools/test_robustness.py: names and
severities are checked with the valid
ones listed, a corruption imagecorruptions cannot compute is named before
anything runs, the corrupted pipeline really corrupts the images, and
mPC / rPC are the hand-computed numbers."""
import math
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config


ROOT = Path(__file__).resolve().parents[2]
STUDENT_CFG = ROOT / 'configs' / 'demo' / 'retinanet_r18-w16_fpn64_fashion.py'


@pytest.fixture(scope='module')
def robustness(tool_module):
    return tool_module('tools/_robustness.py')


def test_groups_expand_in_order_and_once(robustness):
    assert len(robustness.resolve_corruptions(['benchmark'])) == 15
    assert len(robustness.resolve_corruptions(['all'])) == 19
    assert robustness.resolve_corruptions(['holdout']) == [
        'speckle_noise', 'gaussian_blur', 'spatter', 'saturate']
    assert robustness.resolve_corruptions(['shot_noise', 'noise']) == [
        'shot_noise', 'gaussian_noise', 'impulse_noise']


def test_unknown_corruption_lists_the_valid_ones(robustness):
    with pytest.raises(ValueError) as error:
        robustness.resolve_corruptions(['gaussian_noise', 'gausian_blur'])
    message = str(error.value)
    assert "'gausian_blur'" in message
    for valid in ('gaussian_blur', 'jpeg_compression', 'saturate',
                  'benchmark', 'holdout'):
        assert valid in message


@pytest.mark.parametrize('severities', [[0], [1, 6], [-1], []])
def test_severity_outside_1_to_5_lists_the_valid_ones(robustness,
                                                     severities):
    with pytest.raises(ValueError, match='severities are 1, 2, 3, 4, 5'):
        robustness.check_severities(severities)
    assert robustness.check_severities([3, 1, 3]) == [3, 1]


def test_a_broken_corruption_is_named_before_running(robustness,
                                                    monkeypatch):
    import imagecorruptions

    def broken(image, severity):
        raise TypeError("gaussian() got an unexpected keyword 'multichannel'")

    monkeypatch.setitem(imagecorruptions.corruption_dict, 'motion_blur',
                        broken)
    robustness.check_corruptions_work(['gaussian_noise', 'contrast'],
                                      [1, 5])
    with pytest.raises(robustness.CorruptionUnavailableError) as error:
        robustness.check_corruptions_work(
            ['gaussian_noise', 'motion_blur'], [2])
    message = str(error.value)
    assert 'motion_blur: TypeError' in message and 'multichannel' in message
    assert '--corruptions gaussian_noise)' in message  # what still works


def test_corrupt_is_inserted_after_loading_and_corrupts_the_image(
        robustness):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    dataset_cfg = Config.fromfile(STUDENT_CFG).test_dataloader.dataset
    pipeline = robustness.corrupted_pipeline(dataset_cfg.pipeline,
                                             'contrast', 5)
    assert [t['type'] for t in pipeline[:2]] == ['LoadImageFromFile',
                                                  'mmdet.Corrupt']
    assert len(pipeline) == len(dataset_cfg.pipeline) + 1
    clean = DATASETS.build(dict(dataset_cfg, indices=1))[0]['inputs']
    corrupted = DATASETS.build(dict(dataset_cfg, pipeline=pipeline,
                                    indices=1))[0]['inputs']
    assert clean.shape == corrupted.shape
    # Contrast 5 pulls every pixel towards the mean: less spread.
    assert corrupted.float().std() < 0.6 * clean.float().std()
    with pytest.raises(ValueError, match='no image-loading transform'):
        robustness.corrupted_pipeline([dict(type='PackDetInputs')],
                                      'contrast', 1)


def hand_made_results(robustness):
    return robustness.RobustnessResults(
        metric='coco/bbox_mAP', clean=0.400,
        corrupted={'gaussian_noise': {1: 0.300, 3: 0.100},
                   'contrast': {1: 0.350, 3: 0.250}},
        all_metrics={})


def test_mpc_and_rpc_are_the_hand_computed_values(robustness):
    results = hand_made_results(robustness)
    # (0.300 + 0.100 + 0.350 + 0.250) / 4 = 0.250; only evaluated pairs
    # count (mmdet's robustness_eval.py would divide by 5 severities).
    assert results.mpc == pytest.approx(0.250)
    assert results.rpc == pytest.approx(0.625)
    assert robustness.mean_performance({'fog': {5: 0.2}}) == \
        pytest.approx(0.2)
    assert math.isnan(robustness.relative_performance(0.1, 0.0))
    with pytest.raises(ValueError):
        robustness.mean_performance({})


def test_table_shows_every_value_and_the_summary(robustness):
    table = robustness.format_table(hand_made_results(robustness))
    lines = table.splitlines()
    assert lines[0] == '| corruption | sev 1 | sev 3 | mean |'
    assert lines[2] == '| gaussian_noise | 30.0 | 10.0 | 20.0 |'
    assert lines[3] == '| contrast | 35.0 | 25.0 | 30.0 |'
    assert 'clean bbox_mAP: 40.0' in table
    assert 'mean over 4 corrupted evaluations of 2 corruption(s)): 25.0' \
        in table
    assert 'rPC (mPC / clean): 62.5 %' in table
    zero_clean = hand_made_results(robustness)._replace(clean=0.0)
    assert 'n/a' in robustness.format_table(zero_clean)
    assert zero_clean.to_dict()['rPC'] is None
    assert np.isclose(hand_made_results(robustness).to_dict()['mPC'], 0.25)


def test_the_table_metric_is_the_evaluators_headline_in_percent(robustness):
    detector = dict(type='mmdet.CocoMetric', metric='bbox')
    assert robustness.table_metric(detector) == ('coco/bbox_mAP', 100.)
    assert robustness.table_metric(detector, 'coco/bbox_mAP_50') == \
        ('coco/bbox_mAP_50', 100.)
    masks_only = dict(type='CocoMetric', metric=['segm'])
    assert robustness.table_metric(masks_only) == ('coco/segm_mAP', 100.)
    assert robustness.table_metric(dict(type='IoUMetric',
                                        iou_metrics=['mIoU'])) == \
        ('mIoU', 1.)
    assert robustness.table_metric([dict(type='mmpretrain.Accuracy',
                                         topk=(1, 5))]) == \
        ('accuracy/top1', 1.)


def test_an_unknown_evaluator_needs_the_metric_named(robustness):
    with pytest.raises(ValueError, match='VOCMetric has no headline metric '
                       'cankd knows.*choose the key to tabulate with '
                       '--metric'):
        robustness.table_metric(dict(type='VOCMetric'))
    assert robustness.table_metric(dict(type='VOCMetric'), 'pascal_voc/mAP') \
        == ('pascal_voc/mAP', 1.)
