# Copyright (c) cankd contributors. All rights reserved.
"""``architecture=dict(cfg_path=..., **overrides)`` (and ``teacher``): the
overrides reach the built model with mmengine's merge rules, and a key the
model cannot take is refused by name instead of silently ignored."""
import pytest
from mmengine.config import Config
from mmrazor.registry import MODELS

from cankd.utils.model_config import UnknownOverrideError, load_cfg_path_model

RETINANET_R50 = 'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'
# Small and offline: a ResNet-18 without its torchvision init.
SMALL = dict(backbone=dict(depth=18, init_cfg=None),
             neck=dict(in_channels=[64, 128, 256, 512]))


def algorithm(**overrides) -> dict:
    student = dict(cfg_path=RETINANET_R50, **SMALL)
    teacher = dict(cfg_path=RETINANET_R50, **SMALL)
    student.update(overrides.pop('student', {}))
    teacher.update(overrides.pop('teacher', {}))
    return dict(
        _scope_='mmrazor',
        type='FpnTeacherDistill',
        architecture=student,
        teacher=teacher,
        distiller=dict(type='ConfigurableDistiller'))


def test_num_classes_and_init_cfg_reach_the_student_and_the_teacher():
    model = MODELS.build(
        algorithm(student=dict(bbox_head=dict(num_classes=20)),
                  teacher=dict(bbox_head=dict(num_classes=7))))

    assert model.student.bbox_head.num_classes == 20
    assert model.teacher.bbox_head.num_classes == 7
    assert model.student.backbone.depth == 18
    # init_cfg=None replaced mmdet's torchvision://resnet50 init (ResNet
    # then falls back to its own Kaiming init).
    assert 'Pretrained' not in str(model.student.backbone.init_cfg)


def test_cfg_options_override_a_cfg_path_model():
    cfg = Config(dict(model=algorithm()))
    cfg.merge_from_dict({'model.architecture.bbox_head.num_classes': 3})

    model = MODELS.build(cfg.model)

    assert model.student.bbox_head.num_classes == 3


def test_the_data_preprocessor_can_be_overridden():
    model = MODELS.build(
        algorithm(student=dict(data_preprocessor=dict(pad_size_divisor=64))))

    assert model.student.data_preprocessor.pad_size_divisor == 64
    assert model.data_preprocessor.pad_size_divisor == 64


def test_delete_replaces_a_whole_dict():
    model = MODELS.build(
        algorithm(student=dict(neck=dict(
            _delete_=True, type='FPN', in_channels=[128, 256, 512],
            out_channels=256, start_level=0, add_extra_convs='on_input',
            num_outs=5), backbone=dict(out_indices=(1, 2, 3)))))

    assert model.student.neck.start_level == 0
    assert len(model.student.neck.lateral_convs) == 3


def test_an_unknown_top_level_key_is_refused_with_the_closest_name():
    with pytest.raises(UnknownOverrideError) as error:
        MODELS.build(algorithm(student=dict(bbox_hed=dict(num_classes=20))))

    message = str(error.value)
    assert "'bbox_hed'" in message and "'bbox_head'" in message
    assert RETINANET_R50 in message


def test_a_misspelt_argument_of_a_nested_module_is_refused():
    with pytest.raises(UnknownOverrideError,
                       match=r"'backbone.dept'.*Did you mean 'depth'"):
        MODELS.build(algorithm(teacher=dict(backbone=dict(dept=101))))


def test_a_constructor_argument_absent_from_the_config_is_accepted():
    # ResNet takes zero_init_residual; mmdet's config does not set it.
    model = MODELS.build(
        algorithm(student=dict(backbone=dict(zero_init_residual=False))))

    assert model.student.backbone.zero_init_residual is False


def test_pretrained_keeps_its_meaning():
    model_cfg, weights = load_cfg_path_model(
        dict(cfg_path=RETINANET_R50, pretrained=True))

    assert weights.startswith('https://download.openmmlab.com/')
    assert model_cfg.type == 'RetinaNet'
    assert load_cfg_path_model(dict(cfg_path=RETINANET_R50))[1] is None
