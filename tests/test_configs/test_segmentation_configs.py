# Copyright (c) cankd contributors. All rights reserved.
"""The segmentation configs of the paper (configs/mmseg/) and the demo's:
each builds offline from the installed mmseg's own configs, its distilled
pair matches after the connector, its teacher checkpoint is mmseg's model
zoo entry, and it keeps the paper's recipe. Every config is built once, and
run on a 64x64 image (stride 8: an 8x8 feature)."""
from pathlib import Path

import mmseg
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cankd.utils.build import build_model_offline
from cankd.utils.distill_pairs import (check_distill_pairs,
                                       inspect_distill_pairs)

ROOT = Path(__file__).resolve().parents[2]
SEG_CONFIGS = ROOT / 'configs' / 'mmseg'
DEMO_CONFIGS = ROOT / 'configs' / 'demo'
MMSEG_CONFIGS = Path(mmseg.__file__).parent / '.mim' / 'configs'
IMAGE_SIZE = (64, 64)

PSP101 = 'pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py'
DLV3_101 = 'deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py'
PSP18 = 'pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
DLV3_18 = 'deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
DLV3_MNV2 = ('mobilenet_v2/'
             'mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-512x1024.py')

# config -> (teacher, student, student layer, student channels, loss_weight)
PAPER = {
    'cankd_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024.py':
    (PSP101, PSP18, 'backbone.layer4', 512, 10),
    'cankd_pspnet-r101-d8_deeplabv3-r18-d8_4xb2-80k_cityscapes-512x1024.py':
    (PSP101, DLV3_18, 'backbone.layer4', 512, 10),
    'cankd-mu10_pspnet-r101-d8_deeplabv3-r18-d8_4xb2-80k_cityscapes-'
    '512x1024.py': (PSP101, DLV3_18, 'backbone.layer4', 512, 20),
    'cankd_deeplabv3-r101-d8_deeplabv3-r18-d8_4xb2-80k_cityscapes-512x1024.py':
    (DLV3_101, DLV3_18, 'backbone.layer4', 512, 10),
    'cankd_deeplabv3-r101-d8_deeplabv3-mobilenetv2-d8_4xb2-80k_cityscapes-'
    '512x1024.py': (DLV3_101, DLV3_MNV2, 'backbone.layer7', 320, 10),
}
DEMO = 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py'


def zoo_weights() -> dict:
    """mmseg config path (as in ``mmseg::``) -> its metafile ``Weights``."""
    weights = {}
    for metafile in MMSEG_CONFIGS.glob('*/metafile.yaml'):
        for entry in yaml.safe_load(metafile.read_text())['Models']:
            if 'Weights' in entry:
                config = entry['Config'].removeprefix('configs/')
                weights[config] = entry['Weights']
    return weights


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine, two OpenMP threads
    run these small forwards 10-20x slower as soon as anything else runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_segmentation_config_is_covered():
    assert sorted(p.name for p in SEG_CONFIGS.glob('*.py')) == sorted(PAPER)


@pytest.fixture(scope='module', params=sorted(PAPER))
def paper_config(request):
    """Name, config, algorithm and its distilled pairs, measured once."""
    cfg = Config.fromfile(SEG_CONFIGS / request.param)
    algorithm = build_model_offline(cfg)
    pairs = inspect_distill_pairs(algorithm, IMAGE_SIZE)
    return request.param, cfg, algorithm, pairs


def test_pair_matches_after_the_connector(paper_config):
    name, cfg, algorithm, pairs = paper_config
    _, _, layer, channels, loss_weight = PAPER[name]
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair.problems() == []
    assert pair.student.source == layer
    assert pair.teacher.source == 'backbone.layer4'
    assert pair.student.shape == pair.teacher.shape == (1, 2048, 8, 8)
    assert pair.student.stride == pair.teacher.stride == 8
    assert type(pair.loss).__name__ == 'CanLoss'
    assert pair.loss.in_channels == 2048
    assert pair.loss.loss_weight == loss_weight
    # The 1x1 connector: student channels -> 2048, no norm, no activation.
    connector = algorithm.distiller.connectors['s_bb'].conv_module
    assert tuple(connector.conv.weight.shape) == (2048, channels, 1, 1)
    assert connector.conv.bias is not None
    assert not connector.with_norm and not connector.with_activation


def test_pair_without_connector_is_refused(paper_config):
    name, _, algorithm, (pair, ) = paper_config
    channels = PAPER[name][3]
    # What the student's layer recorded in the forward pass above, before
    # the connector: the check would refuse it.
    raw = algorithm.distiller.get_record(recorder='bb', from_student=True)
    assert tuple(raw.shape) == (1, channels, 8, 8)
    unmapped = pair._replace(student=pair.student._replace(
        shape=tuple(raw.shape), connector=None))
    (problem, ) = unmapped.problems()
    assert 'their channels differ' in problem
    assert (f"type='ConvModuleConnector', in_channel={channels}, "
            'out_channel=2048, kernel_size=1' in problem)


def test_models_and_teacher_checkpoint_come_from_mmseg(paper_config):
    name, cfg, *_ = paper_config
    teacher, student, *_ = PAPER[name]
    assert cfg.model.teacher.cfg_path == f'mmseg::{teacher}'
    assert cfg.model.architecture.cfg_path == f'mmseg::{student}'
    assert cfg.model.teacher_ckpt == zoo_weights()[teacher]


def test_paper_recipe(paper_config):
    cfg = paper_config[1]
    assert cfg.model.type == 'SingleTeacherDistill'
    assert cfg.custom_imports.imports == ['cankd']
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005)
    (scheduler, ) = cfg.param_scheduler
    assert scheduler.type == 'PolyLR' and scheduler.end == 80000
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.auto_scale_lr.base_batch_size == 8
    crop = [t for t in cfg.train_pipeline if t.type == 'RandomCrop']
    assert crop[0].crop_size == (512, 1024)
    assert cfg.train_dataloader.dataset.type == 'CityscapesDataset'
    assert cfg.val_cfg == dict(type='mmrazor.SingleTeacherDistillValLoop')
    assert cfg.custom_hooks == [
        dict(type='mmrazor.DistillationCheckHook', image_size=(512, 1024))
    ]


def test_demo_config_pairs_match():
    cfg = Config.fromfile(DEMO_CONFIGS / DEMO)
    algorithm = build_model_offline(cfg)
    (pair, ) = check_distill_pairs(algorithm, IMAGE_SIZE)
    assert pair.student.source == 'backbone.layer4'
    assert pair.teacher.source == 'backbone.layer7'
    assert pair.student.shape == pair.teacher.shape == (1, 320, 8, 8)
    connector = algorithm.distiller.connectors['s_bb'].conv_module.conv
    assert tuple(connector.weight.shape) == (320, 128, 1, 1)
    assert cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'


def test_every_trainable_parameter_gets_a_gradient(paper_config):
    """One training step's loss reaches every student, connector and
    CanLoss parameter: DDP needs no find_unused_parameters."""
    _, cfg, algorithm, _ = paper_config
    assert cfg.find_unused_parameters is False
    torch.manual_seed(0)
    samples = []
    for _ in range(2):
        labels = torch.randint(0, 19, (1, *IMAGE_SIZE))
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=labels),
            metainfo=dict(img_shape=IMAGE_SIZE, pad_shape=IMAGE_SIZE)))
    algorithm.train()
    try:
        losses = algorithm(torch.randn(2, 3, *IMAGE_SIZE), samples,
                           mode='loss')
        assert {'distill.loss_can', 'student.decode.loss_ce'} <= set(losses)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        algorithm.zero_grad()
        total.backward()
        missing = [name for name, param in algorithm.named_parameters()
                   if param.requires_grad and param.grad is None]
        assert missing == []
        assert not any(p.requires_grad
                       for p in algorithm.teacher.parameters())
    finally:
        algorithm.zero_grad(set_to_none=True)
        algorithm.eval()
