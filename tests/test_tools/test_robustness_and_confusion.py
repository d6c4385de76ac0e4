# Copyright (c) cankd contributors. All rights reserved.
"""tools/test_robustness.py and the confusion matrices on a
converted demo student (a randomly initialised CanKD model through the
real converter), on 16 of the demo's validation mosaics: the robustness
table for one corruption and severity, the bad-input errors, predictions
from ``tools/test.py --out PREDICTIONS.pkl`` that mmdet's own
confusion_matrix.py reads as shipped, and our side-by-side picture."""
import json
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
STUDENT_CFG = DEMO / 'retinanet_r18-w16_fpn64_fashion.py'
KD_CFG = DEMO / 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'
ROBUSTNESS = ROOT / 'tools' / 'test_robustness.py'
MATRICES = ROOT / 'tools' / 'visualizations' / 'confusion_matrices.py'
IMAGES = 16
SUBSET = f'test_dataloader.dataset.indices={IMAGES}'


@pytest.fixture(scope='module')
def student(tmp_path_factory, converted_student):
    folder = tmp_path_factory.mktemp('robustness')
    classes = Config.fromfile(DEMO / '_base_' / 'fashion_det_data.py').classes
    return dict(folder=folder,
                converted=converted_student(folder, KD_CFG, classes),
                kd=folder / 'iter_4.pth')


def run_tool(*cmd, timeout=600):
    """The tool's exit code and output (stdout + stderr)."""
    result = subprocess.run(
        [sys.executable, *map(str, cmd)], cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, env=dict(os.environ, OMP_NUM_THREADS='1'))
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_one_corruption_one_severity_table(student):
    out = student['folder'] / 'robustness.json'
    code, log = run_tool(
        ROBUSTNESS, STUDENT_CFG, student['converted'], '--corruptions',
        'gaussian_noise', '--severities', '3', '--metric',
        'coco/bbox_mAP_50', '--work-dir', student['folder'] / 'rob', '--out',
        out, '--cfg-options', SUBSET)
    assert code == 0, log[-5000:]
    results = json.loads(out.read_text())
    assert results['metric'] == 'coco/bbox_mAP_50'
    assert list(results['corrupted']) == ['gaussian_noise']
    corrupted = results['corrupted']['gaussian_noise']['3']
    assert results['mPC'] == pytest.approx(corrupted)
    assert set(results['all_metrics']) == {'clean', 'gaussian_noise'}
    assert results['all_metrics']['clean']['0']['coco/bbox_mAP_50'] == \
        results['clean']
    assert '| corruption | sev 3 | mean |' in log
    cell = f'{corrupted * 100:.1f}'
    assert f'| gaussian_noise | {cell} | {cell} |' in log
    assert 'mPC (bbox_mAP_50, mean over 1 corrupted evaluations' in log


@pytest.mark.slow
def test_distillation_checkpoint_is_refused_with_the_converter(student):
    code, log = run_tool(
        ROBUSTNESS, STUDENT_CFG, student['kd'], '--corruptions', 'contrast',
        '--severities', '1', '--work-dir', student['folder'] / 'kd',
        '--cfg-options', SUBSET)
    assert code != 0
    assert 'is a distillation checkpoint' in log
    assert ('python tools/model_converters/convert_kd_ckpt_to_student.py '
            f'{student["kd"]}') in log
    assert 'Traceback' not in log


def test_unknown_corruption_is_an_error_listing_the_valid_ones():
    # Severities are checked the same way (tests/test_utils/
    # test_robustness.py); both before anything is built or loaded.
    code, log = run_tool(ROBUSTNESS, STUDENT_CFG, 'any.pth', '--corruptions',
                         'fgo', timeout=120)
    assert code != 0 and 'Traceback' not in log
    assert "ERROR: Unknown corruption 'fgo'. Valid corruptions: " \
        'gaussian_noise, shot_noise' in log


def random_checkpoint(config: Path, path: Path) -> Path:
    """A plain checkpoint of ``config``'s randomly initialised model."""
    import torch
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize('config, headline, images', [
    ('mobilenet-v1-w0.5_fashion-cls.py', 'top1', 32),
    ('deeplabv3_r18-w16-d8_fashion-seg.py', 'mIoU', 4),
])
def test_classifiers_and_segmentors_get_their_own_metric_in_percent(
        tmp_path, config, headline, images):
    # mmpretrain's top-1 and mmseg's mIoU are percentages already (COCO AP
    # is a fraction, x100); mmseg's metrics are numpy scalars in --out.
    out = tmp_path / 'robustness.json'
    code, log = run_tool(
        ROBUSTNESS, DEMO / config, random_checkpoint(DEMO / config,
                                                     tmp_path / 'model.pth'),
        '--corruptions', 'contrast', '--severities', '5', '--work-dir',
        tmp_path / 'work', '--out', out, '--cfg-options',
        f'test_dataloader.dataset.indices={images}')
    assert code == 0, log[-5000:]
    results = json.loads(out.read_text())
    clean = results['clean']
    assert 0.0 <= clean <= 100.0
    assert f'clean {headline}: {clean:.1f}' in log
    cell = f"{results['corrupted']['contrast']['5']:.1f}"
    assert f'| contrast | {cell} | {cell} |' in log


@pytest.fixture(scope='module')
def predictions(student):
    out = student['folder'] / 'predictions.pkl'
    metrics = student['folder'] / 'metrics.json'
    code, log = run_tool(
        ROOT / 'tools' / 'test.py', STUDENT_CFG, student['converted'],
        '--work-dir', student['folder'] / 'test', '--out', metrics, '--out',
        out, '--cfg-options', SUBSET)
    assert code == 0, log[-5000:]
    assert 'coco/bbox_mAP' in json.loads(metrics.read_text())
    return out


@pytest.mark.slow
def test_confusion_matrices_side_by_side(student, predictions):
    picture = student['folder'] / 'matrices.png'
    code, log = run_tool(MATRICES, STUDENT_CFG, f'no KD={predictions}',
                         f'CanKD={predictions}', '--out', picture,
                         '--score-thr', '0.05', '--cfg-options', SUBSET)
    assert code == 0, log[-5000:]
    assert picture.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert log.count('detections on background') == 2
    # mmdet's own script reads the same predictions as shipped.
    import mmdet
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                      'analysis_tools', 'confusion_matrix.py')
    code, log = run_tool(script, STUDENT_CFG, predictions,
                         student['folder'] / 'mmdet', '--cfg-options', SUBSET)
    assert code == 0, log[-5000:]
    assert (student['folder'] / 'mmdet' / 'confusion_matrix.png').is_file()


def test_matrix_of_perfect_and_confused_detections(tool_module):
    """Predictions made from the ground truth: all on the diagonal; with
    every label shifted by one: all off it. Shape: classes + background."""
    import torch
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    matrices = tool_module('tools/visualizations/confusion_matrix.py')
    detection_confusion_matrix = matrices.detection_confusion_matrix
    plot_confusion_matrices = matrices.plot_confusion_matrices
    init_default_scope('mmdet')
    dataset_cfg = Config.fromfile(STUDENT_CFG).test_dataloader.dataset
    dataset = DATASETS.build(dict(dataset_cfg, indices=8))
    classes = len(dataset.metainfo['classes'])

    def from_ground_truth(shift):
        predictions = []
        for i in range(len(dataset)):
            objects = dataset.get_data_info(i)['instances']
            labels = torch.tensor([o['bbox_label'] for o in objects])
            predictions.append(dict(pred_instances=dict(
                bboxes=torch.tensor([o['bbox'] for o in objects]),
                scores=torch.ones(len(objects)),
                labels=(labels + shift) % classes)))
        return predictions

    objects = np.bincount(
        [o['bbox_label'] for i in range(len(dataset))
         for o in dataset.get_data_info(i)['instances']], minlength=classes)
    perfect = detection_confusion_matrix(dataset, from_ground_truth(0))
    assert perfect.shape == (classes + 1, classes + 1)
    assert (np.diag(perfect)[:-1] == objects).all()
    assert perfect.sum() == objects.sum()
    confused = detection_confusion_matrix(dataset, from_ground_truth(1))
    assert np.trace(confused) == 0
    assert (confused[:-1, -1] == objects).all()  # each object missed
    assert (confused[np.arange(classes), (np.arange(classes) + 1) %
                     classes] == objects).all()
    with pytest.raises(ValueError, match='holds 7 predictions for a test '
                       'set of 8 images'):
        detection_confusion_matrix(dataset, from_ground_truth(0)[:7])
    with pytest.raises(ValueError, match=r'is \(3, 3\), not \(11, 11\)'):
        plot_confusion_matrices({'x': np.zeros((3, 3))},
                                dataset.metainfo['classes'], 'unused.png')
