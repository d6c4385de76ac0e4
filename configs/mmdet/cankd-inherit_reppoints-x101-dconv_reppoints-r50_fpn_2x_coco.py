# CanKD† (inheriting strategy): as its _base_ config, with the student's
# neck and head (bbox_head) starting from the teacher's weights
# (InheritTeacherHook logs what each module inherited; every tensor is
# copied, none skipped: neck 24/24, bbox_head 29/29).
# Paper: 38.6 -> 42.6 AP.
_base_ = './cankd_reppoints-x101-dconv_reppoints-r50_fpn_2x_coco.py'

# custom_hooks replaces the base's list: keep the check hook.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook'),
    dict(
        type='mmrazor.InheritTeacherHook',
        modules=['neck', 'bbox_head']),
]
