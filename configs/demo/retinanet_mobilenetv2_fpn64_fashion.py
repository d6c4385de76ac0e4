# Demo teacher trained on the mosaics.
_base_ = ['./_base_/fashion_det_data.py', './_base_/demo_detectors.py']
model = {{_base_.teacher_model}}
# mmdet's RetinaNet optimiser at a demo learning rate: the students' AdamW
# recipe is for their random initialisation; the teacher starts from
# ImageNet weights.
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
