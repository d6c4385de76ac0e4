# CanKD† (inheriting strategy): as its _base_ config, with the student's
# neck and head (bbox_head) starting from the teacher's weights
# (InheritTeacherHook logs what each module inherited; every tensor is
# copied, none skipped: neck 16/16, bbox_head 35/35).
# Paper: 38.5 -> 42.4 AP.
_base_ = './cankd_fcos-r101-caffe_fcos-r50-caffe_fpn_2x_coco.py'

# custom_hooks replaces the base's list: keep the check hook.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook'),
    dict(
        type='mmrazor.InheritTeacherHook',
        modules=['neck', 'bbox_head']),
]
