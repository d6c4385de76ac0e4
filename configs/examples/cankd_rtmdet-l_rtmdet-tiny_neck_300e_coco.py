# Worked example: a modern detector that keeps its own recipe. RTMDet-l
# (51.3 AP) -> RTMDet-tiny (41.1 AP) with everything of mmdet's
# rtmdet_tiny_8xb32-300e_coco.py kept as it is: AdamW, 300 epochs, cached
# mosaic/mixup with the pipeline switch at epoch 280, the EMA hook.
# Distilled: the three CSPNeXtPAFPN outputs (strides 8, 16, 32); the tiny
# student has 96 channels, the teacher 256, so each level has a 1x1
# connector 96 -> 256. loss_weight=10 is the paper's mu = 5.
# The distiller is written out here: mmengine cannot inherit two configs
# that both define `model`, so a config that keeps a detector's recipe
# wraps that detector's model itself.
# Note: RTMDet uses SyncBN, which needs CUDA when training in several
# processes.
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'

custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    architecture=_base_.model,
    teacher=dict(cfg_path='mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_l_8xb32-300e_coco/rtmdet_l_8xb32-300e_coco_20220719_112030-5a0be7c4.pth',  # noqa: E501
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck')),
        connectors={
            f's_neck{i}': dict(
                type='ConvModuleConnector', in_channel=96, out_channel=256,
                kernel_size=1, norm_cfg=None, act_cfg=None)
            for i in range(3)
        },
        distill_losses={
            f'loss_can_neck{i}': dict(
                type='CanLoss', in_channels=256, loss_weight=10)
            for i in range(3)
        },
        loss_forward_mappings={
            f'loss_can_neck{i}': dict(
                s_feature=dict(
                    from_student=True, recorder='neck', data_idx=i,
                    connector=f's_neck{i}'),
                t_feature=dict(
                    from_student=False, recorder='neck', data_idx=i))
            for i in range(3)
        }))

# RTMDet's own hooks (EMA, pipeline switch) stay; the pre-flight check joins.
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='mmrazor.DistillationCheckHook', image_size=(320, 320)),
]
find_unused_parameters = True
