# The CanKD distiller for CNN detectors, and nothing else: no data, no
# schedule, no optimiser. FpnTeacherDistill runs the teacher's backbone and
# neck only; one CanLoss (256 channels, loss_weight=10: the paper's mu = 5,
# CanLoss halves the MSE) per neck output 0-3, student output i against
# teacher output i. DistillationCheckHook checks before the first iteration
# that the teacher loaded weights and that every pair has equal strides and
# channels (tools/analysis/check_config.py runs the same check offline).
#
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
# Every value lives in the key the model reads: to change it, override that
# key, e.g. all four weights at once:
#   model = dict(distiller=dict(distill_losses={
#       f'loss_can_fpn{i}': dict(loss_weight=20) for i in range(4)}))
# docs/adding_a_pair.md shows other level sets, stride shifts and connectors.
custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses=dict(
            loss_can_fpn0=dict(type='CanLoss', in_channels=256,
                               loss_weight=10),
            loss_can_fpn1=dict(type='CanLoss', in_channels=256,
                               loss_weight=10),
            loss_can_fpn2=dict(type='CanLoss', in_channels=256,
                               loss_weight=10),
            loss_can_fpn3=dict(type='CanLoss', in_channels=256,
                               loss_weight=10)),
        loss_forward_mappings=dict(
            loss_can_fpn0=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=0),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=0)),
            loss_can_fpn1=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=1),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=1)),
            loss_can_fpn2=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=2),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=2)),
            loss_can_fpn3=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=3),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=3)))))

custom_hooks = [dict(type='mmrazor.DistillationCheckHook')]
# Some detectors leave parameters without a gradient in a step (e.g. a
# head's branch with no positive sample): DDP must look for them.
find_unused_parameters = True
