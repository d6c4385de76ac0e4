# Copyright (c) cankd contributors. All rights reserved.
"""The student's own config, which a converted checkpoint carries in
``meta['cfg']``: the model the distiller built, and what the student needs
at test time, nothing of the distillation."""
from pathlib import Path

from mmengine.config import Config

from cankd.utils.student_config import (resolve_student_model_cfg,
                                        student_config)

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'demo'
DET_KD = DEMO / 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'
DET_STUDENT = DEMO / 'retinanet_r18-w16_fpn64_fashion.py'
SEG_KD = DEMO / 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py'
SEG_STUDENT = DEMO / 'deeplabv3_r18-w16-d8_cityscapes-mini.py'


def assert_is_the_plain_student(kd_path, student_path):
    student = student_config(Config.fromfile(kd_path))
    plain = Config.fromfile(student_path)
    assert student.model.to_dict() == plain.model.to_dict()
    for key in ('test_dataloader', 'test_evaluator', 'val_dataloader',
                'val_evaluator', 'default_scope', 'visualizer'):
        assert student[key] == plain[key], key
    # MMRazor's distillation val loop evaluates the teacher too.
    assert student.val_cfg == dict(type='ValLoop')
    text = student.pretty_text
    for distillation_only in ('custom_imports', 'cankd', 'teacher',
                              'distiller', 'Distill', 'mmrazor',
                              'optim_wrapper', 'train_dataloader'):
        assert distillation_only not in text, distillation_only
    # The text is what meta['cfg'] holds: it must parse back to itself.
    assert Config.fromstring(text, '.py').model.to_dict() == \
        plain.model.to_dict()


def test_detection_student_config_is_the_plain_student_config():
    assert_is_the_plain_student(DET_KD, DET_STUDENT)


def test_segmentation_student_config_is_the_plain_student_config():
    assert_is_the_plain_student(SEG_KD, SEG_STUDENT)


def test_cfg_path_student_gets_the_packages_model_with_the_extra_keys():
    model = resolve_student_model_cfg(
        dict(
            cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
            pretrained=False,
            bbox_head=dict(num_classes=3),
            backbone=dict(init_cfg=None),
            # mmengine's merge rules: _delete_ replaces the whole dict.
            neck=dict(_delete_=True, type='FPN', in_channels=[256, 512],
                      out_channels=8, num_outs=2)))
    assert model.type == 'RetinaNet' and model._scope_ == 'mmdet'
    assert model.bbox_head.num_classes == 3
    assert model.bbox_head.type == 'RetinaHead'
    assert model.backbone.init_cfg is None and model.backbone.depth == 50
    assert model.neck == dict(type='FPN', in_channels=[256, 512],
                              out_channels=8, num_outs=2)
    assert model.data_preprocessor.type == 'DetDataPreprocessor'
    assert 'cfg_path' not in model and 'pretrained' not in model


def test_cfg_path_student_sets_the_default_scope_of_its_package():
    distill_cfg = Config(
        dict(
            default_scope='mmrazor',
            custom_imports=dict(imports=['cankd']),
            model=dict(
                type='mmrazor.FpnTeacherDistill',
                architecture=dict(
                    cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'),
                teacher=dict(
                    cfg_path='mmdet::retinanet/retinanet_r101_fpn_1x_coco.py'),
                teacher_ckpt='teacher.pth')))
    student = student_config(distill_cfg)
    assert student.default_scope == 'mmdet'
    assert set(student) == {'default_scope', 'model'}
    assert student.model.backbone.depth == 50


def test_student_built_of_cankds_mobilenet_v1_imports_cankd():
    """The classification demo's student is mmpretrain's classifier with
    cankd's MobileNetV1: its plain config must import cankd to be built,
    and holds nothing else of the distillation."""
    student = student_config(Config.fromfile(
        DEMO / 'cankd_mobilenetv2_mobilenet-v1-w0.5_fashion-cls.py'))
    assert student.custom_imports == dict(imports=['cankd'],
                                          allow_failed_imports=False)
    assert student.default_scope == 'mmpretrain'
    assert student.model.type == 'ImageClassifier'
    assert student.model.backbone == dict(type='MobileNetV1',
                                          widen_factor=0.5)
    assert student.model.head.num_classes == 10
    assert student.val_cfg == dict(type='ValLoop')
    for distillation_only in ('teacher', 'distiller', 'Distill', 'mmrazor'):
        assert distillation_only not in student.pretty_text
