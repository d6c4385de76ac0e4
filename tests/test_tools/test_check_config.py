# Copyright (c) cankd contributors. All rights reserved.
"""``tools/analysis/check_config.py``: the pre-flight users run before a
multi-day job. It prints every distilled pair, names every problem with the
exact fix, lists the modules a recorder can hold, and dry-runs real training
steps offline."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
DEMO_CFG = DEMO / 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'
PKD_CFG = DEMO / 'pkd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'


def check_config(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, 'tools/analysis/check_config.py',
         str(config), '--image-size', '128', '128', *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))


def child_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / 'child.py'
    path.write_text(f"_base_ = '{DEMO_CFG}'\n{body}")
    return path


def test_prints_every_pair_with_its_weight_and_passes():
    result = check_config(DEMO_CFG)
    assert result.returncode == 0, result.stderr
    for level, size in enumerate((16, 8, 4, 2)):
        row = next(line for line in result.stdout.splitlines()
                   if line.startswith(f'loss_can_fpn{level} '))
        assert f'(1, 64, {size}, {size})' in row
        assert ' CanLoss ' in row and ' 10 ' in row
    assert 'teacher_ckpt: work_dirs/demo/teacher.pth' in result.stdout
    assert result.stdout.rstrip().endswith('pairs: OK')


def test_mmrazor_style_mappings_are_checked_too():
    result = check_config(PKD_CFG)
    assert result.returncode == 0, result.stderr
    assert 'loss_pkd_fpn3' in result.stdout and 'PKDLoss' in result.stdout


def test_a_stride_mismatch_names_the_teacher_output_to_use(tmp_path):
    shifted = child_config(
        tmp_path,
        'model = dict(distiller=dict(loss_forward_mappings=dict(\n'
        '    loss_can_fpn0=dict(t_feature=dict(data_idx=1)))))\n')
    result = check_config(shifted)
    assert result.returncode == 1
    assert ("ERROR: loss_can_fpn0 pairs student recorder 'fpn[0]'"
            in result.stderr)
    assert 'their strides differ' in result.stderr
    assert ("teacher output 0 of recorder 'fpn' has stride 8: set "
            'loss_forward_mappings.loss_can_fpn0.t_feature.data_idx=0'
            in result.stderr)


def test_a_channel_mismatch_prints_the_connector_to_add(tmp_path):
    narrow = child_config(
        tmp_path, 'model = dict(architecture=dict(neck=dict(out_channels=32),'
        ' bbox_head=dict(in_channels=32, feat_channels=32)))\n')
    result = check_config(narrow)
    assert result.returncode == 1
    assert 'their channels differ' in result.stderr
    assert ("connectors=dict(s_loss_can_fpn0=dict(type='ConvModuleConnector'"
            ', in_channel=32, out_channel=64' in result.stderr)


def test_an_index_past_the_outputs_says_how_many_there_are(tmp_path):
    past = child_config(
        tmp_path,
        'model = dict(distiller=dict(loss_forward_mappings=dict(\n'
        '    loss_can_fpn3=dict(s_feature=dict(data_idx=5)))))\n')
    result = check_config(past)
    assert result.returncode == 1
    assert "holds 5 outputs, indices 0-4, but data_idx=5" in result.stderr
    assert 'AssertionError' not in result.stderr


def test_a_recorder_source_that_is_not_a_module_lists_the_closest(tmp_path):
    typo = child_config(
        tmp_path, "model = dict(distiller=dict(student_recorders=dict("
        "fpn=dict(source='nek'))))\n")
    result = check_config(typo)
    assert result.returncode == 1
    assert "'nek' is not a module of RetinaNet" in result.stderr
    assert 'neck' in result.stderr


def test_list_modules_shows_both_models_with_data_idx_and_stride():
    result = check_config(DEMO_CFG, '--list-modules')
    assert result.returncode == 0, result.stderr
    student, teacher = result.stdout.split('\nstudent (')[1].split(
        '\nteacher (')
    assert 'backbone.layer4' in student
    assert 'backbone.conv2' in teacher or 'backbone.layer7' in teacher
    neck_rows = [line.split() for line in student.splitlines()
                 if line.startswith('neck ')]
    assert [row[1] for row in neck_rows] == ['0', '1', '2', '3', '4']
    assert [row[-2] for row in neck_rows] == ['8', '16', '32', '64', '128']


def test_dry_run_trains_on_the_configs_data_and_reports(tmp_path):
    # Random images: tests/test_configs/test_every_config.py, every config.
    result = check_config(DEMO_CFG, '--train-steps', '2', '--use-data',
                          '--cfg-options', 'model.teacher_ckpt=None')
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'THE TEACHER IS RANDOM (model.teacher_ckpt is not set)' in out
    assert 'step 1:' in out and 'step 2:' in out
    assert 'distill.loss_can_fpn3' in out
    assert 'teacher unchanged: yes' in out
    assert 'every connector and loss parameter received a gradient' in out
    assert out.rstrip().endswith('dry run: OK')


def test_dry_run_refuses_a_broken_pair(tmp_path):
    shifted = child_config(
        tmp_path,
        'model = dict(distiller=dict(loss_forward_mappings=dict(\n'
        '    loss_can_fpn0=dict(t_feature=dict(data_idx=1)))))\n')
    result = check_config(shifted, '--train-steps', '2')
    assert result.returncode == 1
    assert 'their strides differ' in result.stderr
    assert 'step 1' not in result.stdout


def test_a_misspelt_loss_argument_is_an_error_naming_it():
    result = check_config(
        DEMO_CFG, '--cfg-options',
        'model.distiller.distill_losses.loss_can_fpn0.loss_wieght=20')
    assert result.returncode == 1
    assert "unexpected keyword argument 'loss_wieght'" in result.stderr
    assert 'Traceback' not in result.stderr


TWO_STAGE_CFG = """
_base_ = ['mmdet::_base_/default_runtime.py']
faster_rcnn = dict(
    cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    pretrained=False)
model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=faster_rcnn,
    teacher=faster_rcnn,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            rpn=dict(type='ModuleOutputs', source='rpn_head.rpn_cls'),
            logits=dict(type='ModuleOutputs',
                        source='roi_head.bbox_head.fc_cls')),
        teacher_recorders=dict(
            rpn=dict(type='ModuleOutputs', source='rpn_head.rpn_cls'),
            logits=dict(type='ModuleOutputs',
                        source='roi_head.bbox_head.fc_cls')),
        distill_losses=dict(
            loss_rpn=dict(type='PKDLoss'),
            loss_kl=dict(type='KLDivergence', tau=1)),
        loss_forward_mappings=dict(
            loss_rpn=dict(
                preds_S=dict(from_student=True, recorder='rpn'),
                preds_T=dict(from_student=False, recorder='rpn')),
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
"""


def test_a_two_stage_detectors_heads_are_checked_and_roi_outputs_refused(
        tmp_path):
    # The whole detector runs (its RPN needs the image meta); the RPN's dense
    # maps pair, the RoI head's per-proposal rows never do.
    config = tmp_path / 'faster_rcnn_kd.py'
    config.write_text(TWO_STAGE_CFG)
    result = check_config(config)
    assert result.returncode == 1
    rpn_row = next(line for line in result.stdout.splitlines()
                   if line.startswith('loss_rpn '))
    # The RPN's first call (record_idx 0) scores P2, stride 4.
    assert '(1, 3, 32, 32) / (1, 3, 32, 32)  4 ' in rpn_row
    assert rpn_row.split()[-1] == 'yes'
    assert ("ERROR: loss_kl pairs student recorder 'logits' (source "
            "'roi_head.bbox_head.fc_cls'" in result.stderr)
    assert 'the two sides describe different boxes' in result.stderr
    assert 'configs/_base_/distill/cankd_fpn.py' in result.stderr
    assert 'Traceback' not in result.stderr


def test_a_detr_heads_per_query_outputs_are_refused(tmp_path):
    # Each DETR selects (DINO) or learns its own queries: query i of the
    # student and of the teacher are different boxes, whatever the shapes.
    config = tmp_path / 'dino_head_kd.py'
    config.write_text(
        f"_base_ = '{ROOT / 'configs' / 'mmdet'}/cankd_dino-4scale-r101_"
        "dino-4scale-r50_channelmapper_12e_coco.py'\n"
        "queries = dict(type='ModuleOutputs', "
        "source='bbox_head.cls_branches.5')\n"
        'model = dict(teacher_ckpt=None, distiller=dict(\n'
        '    student_recorders=dict(cls=queries),\n'
        '    teacher_recorders=dict(cls=queries),\n'
        "    distill_losses=dict(_delete_=True, loss_kl=dict("
        "type='KLDivergence', tau=1)),\n"
        '    loss_forward_mappings=dict(_delete_=True, loss_kl=dict(\n'
        "        preds_S=dict(from_student=True, recorder='cls'),\n"
        "        preds_T=dict(from_student=False, recorder='cls')))))\n")
    # 256 x 256 (the last --image-size counts): DINO selects 900 queries
    # from its encoder's tokens, more than a 128 x 128 image has.
    result = check_config(config, '--image-size', '256', '256')
    assert result.returncode == 1
    assert '(1, 900, 80) / (1, 900, 80)' in result.stdout
    assert ("ERROR: loss_kl pairs student recorder 'cls' (source "
            "'bbox_head.cls_branches.5'" in result.stderr)
    assert "each detector's queries are its own" in result.stderr
    assert 'the two sides describe different boxes' in result.stderr
    assert 'Traceback' not in result.stderr
