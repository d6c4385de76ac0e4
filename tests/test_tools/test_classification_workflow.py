# Copyright (c) cankd contributors. All rights reserved.
"""The user's whole classification workflow on real product photos, on CPU,
with mmpretrain models: distil the MobileNetV1 student of the demo's
MobileNetV2 -> MobileNetV1 pair with ``tools/dist_train.sh`` in 2 processes,
convert the checkpoint, load the student strictly into its plain
mmpretrain config, evaluate it with ``tools/test.py`` (top-1 on the
held-out val images of data/fashion_cls)."""
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
DATA = ROOT / 'data' / 'fashion_cls'

CANKD = 'cankd_mobilenetv2_mobilenet-v1-w0.5_fashion-cls.py'
STUDENT = 'mobilenet-v1-w0.5_fashion-cls.py'
TEACHER = 'mobilenetv2_fashion-cls.py'
# Exercises the workflow, not accuracy (the teacher is untrained).
ITERS = 4


def write_config(folder: Path, base: str, body: str = '') -> str:
    """A demo config with absolute data paths, ``ITERS`` iterations of 2
    processes x 8 images, checkpoints every 2, and ``body``."""
    path = folder / base
    path.write_text(f'''_base_ = '{DEMO / base}'
{body}
data_root = '{DATA}/'
train_dataloader = dict(batch_size=8, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={ITERS}, val_interval=1000)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
''')
    return str(path)


@pytest.fixture(scope='module')
def folder(tmp_path_factory, run_command):
    if not (DATA / 'meta' / 'val.txt').is_file():
        run_command(sys.executable, 'tools/data/make_fashion_imagenet.py')
    return tmp_path_factory.mktemp('cls_workflow')


@pytest.fixture(scope='module')
def distilled(folder, run_command):
    # Any teacher weights do to exercise the workflow: random, seed 0.
    torch.manual_seed(0)
    teacher = build_model_offline(Config.fromfile(write_config(
        folder, TEACHER, 'model = dict(backbone=dict(init_cfg=None))')))
    teacher.init_weights()
    teacher_ckpt = folder / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()),
               teacher_ckpt)
    work_dir = folder / 'cankd'
    log = run_command('bash', 'tools/dist_train.sh',
                      write_config(folder, CANKD), 2, '--work-dir', work_dir,
                      '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}',
                      PORT='29543')
    return dict(work_dir=work_dir, log=log)


@pytest.mark.slow
def test_two_process_distillation_of_a_classifier(distilled):
    log = distilled['log']
    assert 'distributed training on CPU with gloo, world size 2' in log
    # MobileNetV1's last block (512 channels) through the connector, the
    # MobileNetV2's last stage (1280 channels).
    assert 'bb (backbone.layer13)' in log and 's_bb 512->1280' in log
    assert 'bb (backbone.conv2)' in log
    assert 'distill.loss_can' in log and 'student.loss' in log
    ckpt = torch.load(distilled['work_dir'] / f'iter_{ITERS}.pth',
                      weights_only=True)
    assert ckpt['meta']['iter'] == ITERS
    assert 'distiller.connectors.s_bb.conv_module.conv.weight' in \
        ckpt['state_dict']


@pytest.mark.slow
def test_converted_student_loads_strictly_and_is_evaluated(
        distilled, folder, run_command):
    student_ckpt = folder / 'student.pth'
    out = run_command(
        sys.executable,
        'tools/model_converters/convert_kd_ckpt_to_student.py',
        distilled['work_dir'] / f'iter_{ITERS}.pth', '--out-path',
        student_ckpt)
    assert 'teacher.* tensors' in out and 'distiller.* tensors' in out

    student_cfg = write_config(folder, STUDENT)
    student = build_model_offline(Config.fromfile(student_cfg))
    load_checkpoint(student, str(student_ckpt), strict=True)
    # The config the checkpoint carries builds the same student (it imports
    # cankd for MobileNetV1).
    meta_cfg = Config.fromstring(
        torch.load(student_ckpt, weights_only=True)['meta']['cfg'], '.py')
    assert meta_cfg.custom_imports.imports == ['cankd']
    assert meta_cfg.model.backbone.type == 'MobileNetV1'

    metrics_file = folder / 'metrics.json'
    run_command(sys.executable, 'tools/test.py', student_cfg, student_ckpt,
                '--work-dir', folder / 'test', '--out', metrics_file)
    metrics = json.loads(metrics_file.read_text())
    assert set(metrics) == {'accuracy/top1'}
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0


def test_a_detection_recorder_name_on_a_classifier_names_its_modules():
    cfg = Config.fromfile(DEMO / CANKD)
    cfg.model.distiller.student_recorders.bb.source = 'neck.fpn_convs.3'
    with pytest.raises(ValueError) as error:
        build_model_offline(cfg)
    assert ("recorder source 'neck.fpn_convs.3' is not a module of "
            'ImageClassifier. Closest module names: neck.gap') in \
        str(error.value)
