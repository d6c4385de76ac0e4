# Copyright (c) cankd contributors. All rights reserved.
"""Every config under configs/ builds as training builds it: through
mmengine's Runner, up to and including ``init_weights``, with downloads
faked (addresses recorded, random weights of the right shapes) but not
skipped: a missing package, a misspelt scheme or an unknown
``torchvision://`` name fails here as it would for a user. Every
distillation config then passes the pair check and a 2-step dry run, and no
config of ours leaves a helper variable in the merged config."""
import ast
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from cankd.utils.distill_pairs import check_distill_pairs
from cankd.utils.inherit import inherit_from_teacher
from cankd.utils.preflight import dry_run

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
NEEDS_HUB = 'grounding-dino'
IMAGE_SIZE = (128, 128)
# DINO keeps its 900 best encoder positions: at 128x128 there are 340.
DETR_IMAGE_SIZE = (256, 256)

# Top-level keys that mmengine's Runner (or a tool of ours) reads. A config
# file of ours assigns nothing else: a value a user may change lives in the
# key the model reads.
RUNNER_KEYS = {
    'model', 'custom_imports', 'custom_hooks', 'default_hooks',
    'default_scope', 'env_cfg', 'log_processor', 'log_level', 'load_from',
    'resume', 'train_dataloader', 'val_dataloader', 'test_dataloader',
    'train_cfg', 'val_cfg', 'test_cfg', 'val_evaluator', 'test_evaluator',
    'optim_wrapper', 'param_scheduler', 'auto_scale_lr', 'vis_backends',
    'visualizer', 'randomness', 'find_unused_parameters', 'model_wrapper_cfg',
    'work_dir', 'launcher', 'data_preprocessor'
}
# The demo configs share their data settings and detectors as variables.
DEMO = ROOT / 'configs' / 'demo'


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config_id(path: Path) -> str:
    return str(path.relative_to(ROOT / 'configs'))


def shrink_segmentation_crop(cfg: Config) -> None:
    """Pad inputs to the test's image size, not Cityscapes' 512x1024."""
    model = cfg.model.get('architecture', cfg.model)
    if 'decode_head' in model or 'mmseg::' in str(model.get('cfg_path')):
        cfg.merge_from_dict(
            {'model.architecture.data_preprocessor.size': IMAGE_SIZE}
            if 'architecture' in cfg.model else
            {'model.data_preprocessor.size': IMAGE_SIZE})


@pytest.mark.slow
@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_through_init_weights_and_trains(
        path, tmp_path, fake_downloads):
    if NEEDS_HUB in path.name:
        pytest.skip('GroundingDINO builds its text encoder from the Hugging '
                    'Face hub (bert-base-uncased), unreachable offline')
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path)
    teacher_ckpt = cfg.model.get('teacher_ckpt')
    if teacher_ckpt and '://' not in teacher_ckpt:
        # The demo's teacher is trained by the demo itself.
        cfg.model.teacher_ckpt = None
    shrink_segmentation_crop(cfg)

    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()

    if teacher_ckpt and '://' in teacher_ckpt:
        assert teacher_ckpt in fake_downloads
    if not hasattr(model, 'distiller'):
        return
    # DETRs need a larger image; ACAM-KD's attention at P7 (stride 128)
    # has no gradient for its query and key over a single pixel.
    size = DETR_IMAGE_SIZE if ('dino' in path.name
                               or 'acamkd' in path.name) else IMAGE_SIZE
    pairs = check_distill_pairs(model, size)
    if path.parent.name == 'mmdet':
        check_paper_detection_pairs(cfg, model, pairs, path)
    # Batch 2: segmentation heads pool to 1x1 under train-mode BatchNorm.
    report = dry_run(model, cfg, steps=2, batch_size=2, image_size=size)
    assert report.failures() == []


def check_paper_detection_pairs(cfg, model, pairs, path):
    """3-4 neck levels of 256 channels, in increasing stride; a "†"
    config inherits every tensor of the modules it names."""
    assert len(pairs) == len(cfg.model.distiller.distill_losses) >= 3
    assert all(pair.student.channels == 256 for pair in pairs)
    strides = [pair.student.stride for pair in pairs]
    assert strides == sorted(strides) and len(set(strides)) == len(strides)
    inherit = [h for h in cfg.custom_hooks
               if h.type.endswith('InheritTeacherHook')]
    # cankd-inherit_..., acamkd-inherit_...: the method, then the strategy.
    method = path.name.split('_', 1)[0]
    assert method.endswith('-inherit') == bool(inherit)
    if inherit:
        reports = inherit_from_teacher(model.student, model.teacher,
                                       inherit[0].modules)
        assert all(r.loaded == r.total for r in reports), [
            r.summary() for r in reports
        ]


def test_paper_teacher_downloads_are_recorded_by_the_fake(fake_downloads):
    from mmengine.runner import load_checkpoint
    from torch import nn
    layer = nn.Conv2d(3, 4, 1)
    before = layer.weight.detach().clone()

    load_checkpoint(layer, 'https://example.org/weights.pth')
    load_checkpoint(layer, 'torchvision://resnet50')

    assert fake_downloads == ['https://example.org/weights.pth',
                              'torchvision://resnet50']
    assert not torch.equal(layer.weight, before)


def test_an_unknown_torchvision_name_fails_like_for_a_user(fake_downloads):
    from mmengine.runner import load_checkpoint
    from torch import nn
    with pytest.raises(KeyError, match='resnet5O'):
        load_checkpoint(nn.Conv2d(3, 4, 1), 'torchvision://resnet5O')


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if DEMO not in p.parents] +
    sorted((ROOT / 'configs' / '_base_' / 'distill').glob('*.py')),
    ids=config_id)
def test_config_files_assign_only_keys_the_runner_reads(path):
    tree = ast.parse(path.read_text())
    assigned = {
        target.id
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == []
    assert assigned - RUNNER_KEYS - {'_base_'} == set()
