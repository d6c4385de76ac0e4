# The segmentation demo's teacher alone: PSPNet, MobileNetV2-d8 (ImageNet
# weights), on the Fashion-MNIST segmentation mosaics.
_base_ = './_base_/fashion_seg.py'

model = {{_base_.teacher_model}}
# The paper's optimiser (SGD, momentum 0.9, wd 5e-4, poly) at a demo
# learning rate: the students' AdamW recipe is for random initialisation.
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4))
