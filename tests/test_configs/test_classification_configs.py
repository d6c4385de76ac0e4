# Copyright (c) cankd contributors. All rights reserved.
"""The classification configs of the paper (configs/mmpretrain/,
supplementary §9): each teacher checkpoint is mmpretrain's model-zoo entry
for the teacher config, and each keeps the paper's recipe (last backbone
stage, mu = 5, ImageNet bs 8x32, 100 epochs). Building, the pair check and
a dry run of every config are in test_every_config.py."""
from pathlib import Path

import mmpretrain
import pytest
import yaml
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
CLS_CONFIGS = ROOT / 'configs' / 'mmpretrain'
MMPRETRAIN_CONFIGS = Path(mmpretrain.__file__).parent / '.mim' / 'configs'

# config -> (teacher, student layer, connector channels or None)
PAPER = {
    'cankd_resnet34_resnet18_8xb32_in1k.py':
    ('resnet/resnet34_8xb32_in1k.py', 'backbone.layer4', None),
    'cankd_resnet50_mobilenet-v1_8xb32_in1k.py':
    ('resnet/resnet50_8xb32_in1k.py', 'backbone.layer13', (1024, 2048)),
}


def zoo_weights() -> dict:
    """mmpretrain config path (as in ``mmpretrain::``) -> its ``Weights``."""
    weights = {}
    for metafile in MMPRETRAIN_CONFIGS.glob('*/metafile.yml'):
        for entry in yaml.safe_load(metafile.read_text())['Models']:
            if 'Weights' in entry and 'Config' in entry:
                config = entry['Config'].removeprefix('configs/')
                weights[config] = entry['Weights']
    return weights


def test_every_classification_config_is_listed():
    pairs = {p.name for p in CLS_CONFIGS.glob('cankd*.py')}
    assert pairs == set(PAPER)


@pytest.mark.parametrize('name', sorted(PAPER))
def test_paper_pair_keeps_the_papers_recipe(name):
    teacher, student_layer, connector = PAPER[name]
    cfg = Config.fromfile(CLS_CONFIGS / name)
    model = cfg.model
    assert model.teacher.cfg_path == f'mmpretrain::{teacher}'
    assert model.teacher_ckpt == zoo_weights()[teacher]
    distiller = model.distiller
    assert distiller.student_recorders.bb.source == student_layer
    assert distiller.teacher_recorders.bb.source == 'backbone.layer4'
    loss = distiller.distill_losses.loss_can
    assert (loss.type, loss.loss_weight) == ('CanLoss', 10)  # mu = 5
    mapping = distiller.loss_forward_mappings.loss_can.s_feature
    if connector is None:
        assert 'connectors' not in distiller and 'connector' not in mapping
    else:
        in_channel, out_channel = connector
        s_bb = distiller.connectors.s_bb
        assert (s_bb.in_channel, s_bb.out_channel, s_bb.kernel_size) == \
            (in_channel, out_channel, 1)
        assert mapping.connector == 's_bb'
        assert loss.in_channels == out_channel
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=5, norm_type=2)
    # mmpretrain's ImageNet recipe: 8 GPUs x 32, 100 epochs, lr 0.1.
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    assert cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.data_preprocessor.type == 'mmpretrain.ClsDataPreprocessor'
    assert cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'
