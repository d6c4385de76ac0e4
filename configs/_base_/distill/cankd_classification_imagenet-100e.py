# CanKD on the last backbone stage (see cankd_classification.py) with
# mmpretrain's ImageNet data (8 GPUs x 32 images, 224 crops), its 100-epoch
# schedule (SGD lr 0.1, momentum 0.9, wd 1e-4, x0.1 at epochs 30, 60, 90)
# and runtime: the paper's classification recipe (supplementary §9).
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py',
    './cankd_classification.py',
]

# mmpretrain's data_preprocessor names no type (its classifiers add one);
# the Runner hands it to SingleTeacherDistill, which needs it named.
data_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor')
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# --auto-scale-lr rescales lr linearly for another total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=256)
