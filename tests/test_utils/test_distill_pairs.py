# Copyright (c) cankd contributors. All rights reserved.
"""Distilled levels are paired by stride: a config pairing a teacher's P3
with a student's P2 is refused before training, naming both recorders."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmrazor.registry import MODELS

from cankd.utils.distill_pairs import (check_distill_pairs, format_pairs_table,
                                       inspect_distill_pairs)


def fpn_distill(student, teacher, in_channels=16):
    return dict(
        _scope_='mmrazor',
        type='FpnTeacherDistill',
        architecture=student,
        teacher=teacher,
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(
                fpn=dict(type='ModuleOutputs', source='neck')),
            teacher_recorders=dict(
                fpn=dict(type='ModuleOutputs', source='neck')),
            distill_losses={
                f'loss_can_fpn{i}': dict(type='CanLoss',
                                         in_channels=in_channels)
                for i in range(2)
            },
            loss_forward_mappings={
                f'loss_can_fpn{i}': dict(
                    s_feature=dict(from_student=True, recorder='fpn',
                                   data_idx=i),
                    t_feature=dict(from_student=False, recorder='fpn',
                                   data_idx=i))
                for i in range(2)
            }))


def test_matching_levels_report_shapes_strides_and_channels(tiny_retinanet):
    algorithm = MODELS.build(
        fpn_distill(tiny_retinanet(8), tiny_retinanet(16)))
    pairs = check_distill_pairs(algorithm, image_size=(128, 128))
    assert [p.loss_name for p in pairs] == ['loss_can_fpn0', 'loss_can_fpn1']
    assert [(p.student.stride, p.teacher.stride) for p in pairs] == [(8, 8),
                                                                     (16, 16)]
    assert pairs[0].student.shape == (1, 16, 16, 16)
    assert pairs[0].student.source == 'neck'
    table = format_pairs_table(pairs)
    assert 'loss_can_fpn1' in table and 'yes' in table and 'NO' not in table


def test_levels_of_different_strides_are_refused(tiny_retinanet):
    # Student FPN starts at P2, teacher at P3: index 0 pairs P2 with P3.
    algorithm = MODELS.build(
        fpn_distill(tiny_retinanet(8, start_level=0), tiny_retinanet(16)))
    with pytest.raises(
            ValueError,
            match=r"loss_can_fpn0 pairs student recorder 'fpn\[0\]' \(source "
            r"'neck', shape \(1, 16, 32, 32\), stride 4\) with teacher "
            r"recorder 'fpn\[0\]' \(source 'neck', shape \(1, 16, 16, 16\), "
            r'stride 8\): their strides differ'):
        check_distill_pairs(algorithm, image_size=(128, 128))


def test_in_channels_must_match_the_teacher(tiny_retinanet):
    algorithm = MODELS.build(
        fpn_distill(tiny_retinanet(8), tiny_retinanet(16), in_channels=32))
    pairs = inspect_distill_pairs(algorithm, image_size=(128, 128))
    assert 'in_channels=32 but teacher' in pairs[0].problems()[0]
    assert 'NO' in format_pairs_table(pairs)


def test_a_stride_mismatch_names_the_index_with_the_right_stride(
        tiny_retinanet):
    # Student P2-P6 against teacher P3-P7: the student's P3 is output 1.
    algorithm = MODELS.build(
        fpn_distill(tiny_retinanet(8, start_level=0), tiny_retinanet(16)))
    problem = inspect_distill_pairs(algorithm, (128, 128))[0].problems()[0]
    assert ("Fix: student output 1 of recorder 'fpn' has stride 8: set "
            'loss_forward_mappings.loss_can_fpn0.s_feature.data_idx=1'
            in problem)


def test_mmrazor_style_arguments_are_paired_by_from_student(tiny_retinanet):
    cfg = fpn_distill(tiny_retinanet(8), tiny_retinanet(16))
    cfg['distiller']['distill_losses'] = dict(
        loss_pkd=dict(type='PKDLoss', loss_weight=6))
    cfg['distiller']['loss_forward_mappings'] = dict(loss_pkd=dict(
        preds_T=dict(from_student=False, recorder='fpn', data_idx=1),
        preds_S=dict(from_student=True, recorder='fpn', data_idx=1)))
    pairs = check_distill_pairs(MODELS.build(cfg), image_size=(128, 128))
    assert [(p.loss_name, p.student.label, p.teacher.label, p.loss_weight)
            for p in pairs] == [('loss_pkd', 'fpn[1]', 'fpn[1]', 6)]


def test_no_pair_at_all_is_an_error(tiny_retinanet):
    cfg = fpn_distill(tiny_retinanet(8), tiny_retinanet(16))
    cfg['distiller']['distill_losses'] = {}
    cfg['distiller']['loss_forward_mappings'] = {}
    with pytest.raises(ValueError, match='No distillation loss compares'):
        check_distill_pairs(MODELS.build(cfg), image_size=(128, 128))


def test_a_recorded_output_changed_in_place_is_reported(tiny_retinanet):
    # backbone.layer1.0.bn2's output receives `out += identity` in the
    # BasicBlock: what a recorder holds is no longer what bn2 produced.
    cfg = fpn_distill(tiny_retinanet(8), tiny_retinanet(8))
    cfg['distiller']['student_recorders'] = dict(
        bn=dict(type='ModuleOutputs', source='backbone.layer1.0.bn2'))
    cfg['distiller']['teacher_recorders'] = dict(
        bn=dict(type='ModuleOutputs', source='backbone.layer1.0.bn2'))
    cfg['distiller']['distill_losses'] = dict(
        loss_can=dict(type='CanLoss', in_channels=8))
    cfg['distiller']['loss_forward_mappings'] = dict(loss_can=dict(
        s_feature=dict(from_student=True, recorder='bn'),
        t_feature=dict(from_student=False, recorder='bn')))
    with pytest.raises(ValueError, match=r"recorded output of "
                       r"'backbone.layer1.0.bn2' is modified in place"):
        check_distill_pairs(MODELS.build(cfg), image_size=(128, 128))


def test_a_segmentors_logits_are_checked_through_the_whole_network():
    # MMRazor's CWD distils decode_head.conv_seg, which extract_feat never
    # runs: the check runs the whole segmentor for it.
    config = (Path(__file__).resolve().parents[2] / 'configs' / 'demo' /
              'cwd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_fashion-seg.py')
    model = Config.fromfile(config).model
    model.pop('teacher_ckpt')  # random weights: shapes are what is checked
    algorithm = MODELS.build(model)
    pair, = check_distill_pairs(algorithm, image_size=(64, 64))
    assert pair.student.source == pair.teacher.source == 'decode_head.conv_seg'
    assert pair.student.shape == pair.teacher.shape == (1, 11, 8, 8)
