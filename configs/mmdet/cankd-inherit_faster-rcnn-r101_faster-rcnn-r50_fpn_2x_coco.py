# CanKD† (inheriting strategy): as its _base_ config, with the student's
# neck, RPN head and RoI head starting from the teacher's weights
# (InheritTeacherHook logs what each module inherited; every tensor is
# copied, none skipped: neck 16/16, rpn_head 6/6, roi_head 8/8).
# Paper: 38.4 -> 40.7 AP.
_base_ = './cankd_faster-rcnn-r101_faster-rcnn-r50_fpn_2x_coco.py'

# custom_hooks replaces the base's list: keep the check hook.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook'),
    dict(
        type='mmrazor.InheritTeacherHook',
        modules=['neck', 'rpn_head', 'roi_head']),
]
