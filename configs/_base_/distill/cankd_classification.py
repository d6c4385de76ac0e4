# CanKD on the last backbone stage of an mmpretrain classifier with
# SingleTeacherDistill (the whole teacher runs). Distilled: backbone.layer4
# (stride 32; 512 channels on ResNet-18 and ResNet-34). A pair whose
# channels differ adds a 1x1 connector (see the MobileNetV1 pair).
# A pair's config adds architecture, teacher and teacher_ckpt to `model`;
# cankd_classification_imagenet-100e.py gives data, schedule and loops.
custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4')),
        teacher_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4')),
        # loss_weight=10 is the paper's mu = 5: CanLoss halves the MSE.
        distill_losses=dict(
            loss_can=dict(type='CanLoss', in_channels=512, loss_weight=10)),
        loss_forward_mappings=dict(
            loss_can=dict(
                s_feature=dict(from_student=True, recorder='bb'),
                t_feature=dict(from_student=False, recorder='bb')))))

# Every student and CanLoss parameter receives a gradient each step (the
# teacher is frozen): DDP needs no search for unused ones.
find_unused_parameters = False
# Stride-32 backbones: the check runs both models once at ImageNet's crop.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(224, 224))
]
