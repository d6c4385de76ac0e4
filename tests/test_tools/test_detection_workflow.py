# Copyright (c) cankd contributors. All rights reserved.
"""The user's whole detection workflow on real photos, on CPU: distil with
``tools/dist_train.sh`` in 2 processes, resume an interrupted run, convert
the checkpoint, and evaluate the student with ``tools/test.py``."""
import json
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from cankd.utils.build import build_model_offline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
REAL_PHOTOS = ROOT / 'data' / 'real_photos'

# The demo configs, pointed at the 11 real photos (12 classes) and shrunk.
REAL_PHOTOS_DATA = f'''
classes = ('animal', 'bottle', 'bus', 'car', 'chair',
           'highland_6539_self_stick_notes',
           'kong_air_dog_squeakair_tennis_ball', 'mead_index_cards',
           'person', 'shelf', 'sofa', 'truck')
_data = dict(data_root='{REAL_PHOTOS}/', metainfo=dict(classes=classes),
             ann_file='annotations.json', data_prefix=dict(img='images/'))
_load = [dict(type='LoadImageFromFile'),
         dict(type='LoadAnnotations', with_bbox=True),
         dict(type='Resize', scale=(256, 192), keep_ratio=True)]
train_dataloader = dict(batch_size=2, dataset=dict(
    _data, pipeline=_load + [dict(type='PackDetInputs')]))
val_dataloader = dict(batch_size=2, dataset=dict(
    _data, pipeline=_load + [dict(type='PackDetInputs', meta_keys=(
        'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='{REAL_PHOTOS}/annotations.json')
test_evaluator = val_evaluator
train_cfg = dict(max_iters=4, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2),
                     logger=dict(interval=1))
'''


def write_config(folder: Path, name: str, base: str, body: str) -> str:
    path = folder / name
    path.write_text(f"_base_ = '{DEMO / base}'\n{body}\n{REAL_PHOTOS_DATA}")
    return str(path)


@pytest.fixture(scope='module')
def workflow(tmp_path_factory, run_command):
    if not (REAL_PHOTOS / 'annotations.json').is_file():
        run_command(sys.executable, 'tools/data/fetch_real_photos.py')
    folder = tmp_path_factory.mktemp('workflow')
    classes = 'bbox_head=dict(num_classes=12)'
    cankd_cfg = write_config(
        folder, 'cankd_real_photos.py',
        'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py',
        f'model = dict(architecture=dict({classes}), '
        f'teacher=dict({classes}))')
    # A 4-iteration student scores below the default threshold.
    student_cfg = write_config(
        folder, 'student_real_photos.py', 'retinanet_r18-w16_fpn64_fashion.py',
        f'model = dict({classes}, test_cfg=dict(score_thr=0.0))')
    # Any teacher weights do to exercise the workflow; no training needed.
    teacher = build_model_offline(Config.fromfile(cankd_cfg)).teacher
    teacher_ckpt = str(folder / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()),
               teacher_ckpt)
    work_dir = folder / 'cankd'
    log = run_command('bash', 'tools/dist_train.sh', cankd_cfg, 2,
                      '--work-dir', work_dir, '--cfg-options',
                      f'model.teacher_ckpt={teacher_ckpt}', PORT='29531')
    return dict(folder=folder, cankd_cfg=cankd_cfg, student_cfg=student_cfg,
                teacher_ckpt=teacher_ckpt, work_dir=work_dir, log=log)


@pytest.mark.slow
def test_two_process_distillation_writes_checkpoints(workflow):
    assert 'distributed training on CPU with gloo, world size 2' in \
        workflow['log']
    assert 'Distributed training: True' in workflow['log']
    assert 'distill.loss_can_fpn0' in workflow['log']
    assert 'Distilled pairs:' in workflow['log']
    for name in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint'):
        assert (workflow['work_dir'] / name).is_file(), name
    ckpt = torch.load(workflow['work_dir'] / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 4


@pytest.mark.slow
def test_resume_continues_to_the_requested_iteration(workflow, run_command):
    log = run_command(sys.executable, 'tools/train.py',
                      workflow['cankd_cfg'], '--work-dir',
                      str(workflow['work_dir']), '--resume', '--cfg-options',
                      'train_cfg.max_iters=6',
                      f'model.teacher_ckpt={workflow["teacher_ckpt"]}')
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    ckpt = torch.load(workflow['work_dir'] / 'iter_6.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 6


@pytest.mark.slow
def test_converted_student_loads_strictly_and_is_evaluated(
        workflow, run_command):
    kd_ckpt = workflow['work_dir'] / 'iter_4.pth'
    # MMRazor's form: --out-path is a folder, the file <stem>_student.pth.
    out = run_command(sys.executable,
                      'tools/model_converters/convert_kd_ckpt_to_student.py',
                      str(kd_ckpt), '--out-path', str(workflow['folder']))
    assert 'dropped' in out and 'teacher.* tensors' in out
    student_ckpt = workflow['folder'] / 'iter_4_student.pth'
    # A real Runner checkpoint: its meta now holds the student's config.
    meta = torch.load(student_ckpt, weights_only=True)['meta']
    assert Config.fromstring(meta['cfg'], '.py').model.type == 'RetinaNet'
    assert 'custom_imports' not in meta['cfg']

    student = build_model_offline(Config.fromfile(workflow['student_cfg']))
    load_checkpoint(student, str(student_ckpt), strict=True)

    metrics_file = workflow['folder'] / 'metrics.json'
    run_command(sys.executable, 'tools/test.py', workflow['student_cfg'],
                str(student_ckpt), '--work-dir',
                str(workflow['folder'] / 'test'), '--out', str(metrics_file))
    metrics = json.loads(metrics_file.read_text())
    assert {'coco/bbox_mAP', 'coco/bbox_mAP_50'} <= set(metrics)
    assert 0.0 <= metrics['coco/bbox_mAP'] <= 1.0
