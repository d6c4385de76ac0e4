# CanKD on FPN levels 0-3 of a CNN detector with FpnTeacherDistill (the
# teacher runs backbone + neck only). Levels are neck outputs by index;
# DistillationCheckHook checks before training that the teacher has weights
# and that each student level meets a teacher level of the same stride.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # loss_weight=10 is the paper's mu = 5: CanLoss halves the MSE.
        distill_losses={
            f'loss_can_fpn{i}': dict(
                type='CanLoss', in_channels=256, loss_weight=10)
            for i in range(4)
        },
        loss_forward_mappings={
            f'loss_can_fpn{i}': dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=i),
                t_feature=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(4)
        }))

find_unused_parameters = True
custom_hooks = [dict(type='mmrazor.DistillationCheckHook')]
