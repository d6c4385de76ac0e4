# CanKD† (inheriting strategy): as its _base_ config, with the student's
# neck and RPN head starting from the teacher's weights
# (InheritTeacherHook logs what each module inherited; every tensor is
# copied, none skipped: neck 16/16, rpn_head 6/6).
# The teacher's CascadeRoIHead (three bbox heads and a mask head) has no
# tensor in common with Faster R-CNN's StandardRoIHead: not inherited.
# Paper: 38.4 -> 42.5 AP.
_base_ = './cankd_cascade-mask-rcnn-x101-64x4d_faster-rcnn-r50_fpn_2x_coco.py'

# custom_hooks replaces the base's list: keep the check hook.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook'),
    dict(
        type='mmrazor.InheritTeacherHook',
        modules=['neck', 'rpn_head']),
]
