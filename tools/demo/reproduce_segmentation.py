# Copyright (c) cankd contributors. All rights reserved.
"""A CPU-sized reproduction of the paper's segmentation claim, measured on
held-out images.

On the Fashion-MNIST segmentation mosaics (real product photos, 400 train
and 100 held-out val canvases, tools/data), the segmentation demo's PSPNet
MobileNetV2-d8 teacher (ImageNet backbone) is distilled into the same
DeepLabV3 ResNet-18/16-d8 student (random init) by CanKD (backbone output
through the 1x1 connector, mu = 5), by MMRazor's MGD (backbone output,
alpha 2e-5, lambda 0.75: the MGD paper's segmentation values) and by
MMRazor's CWD (logits, tau 1, loss weight 5: MMRazor's Cityscapes config),
the paper's segmentation comparators; and the student is also trained
without distillation. Every method runs the same schedule for every seed
with ``tools/dist_train.sh``; the student's mIoU on the 100 held-out
canvases (the training run's validations, every ``--val-interval``
iterations and at the end) and the training time per iteration are
reported as mean ± sample std over seeds.

Finished runs are reused (an interrupted run continues where it stopped);
the table, the command, the versions, the hardware and two plots (mIoU
against iteration, final mIoU per method) are written into
docs/benchmarks.md between markers.

    python tools/demo/reproduce_segmentation.py [--seeds 0 1 2] \\
        [--iters 400] [--methods none cankd mgd cwd] [--gpus 2]
"""
import os.path as osp

# The demo's workflow and configs are the reproduction's.
from _reproduction import Method, Task, main
from segmentation_demo import (CANKD_CFG, CONFIGS, STUDENT_CFG, TEACHER_CFG,
                               fetch_data, schedule, train_teacher)

PAIR = 'pspnet-mnv2-d8_deeplabv3-r18-w16-d8_fashion-seg.py'

SEGMENTATION = Task(
    name='reproduce_segmentation',
    methods={
        'none': Method('student, no KD', STUDENT_CFG, False, 'mmseg'),
        'cankd': Method('student, CanKD', CANKD_CFG, True,
                        "cankd's, checked against the paper's formula"),
        'mgd': Method('student, MGD (MMRazor)',
                      osp.join(CONFIGS, f'mgd_{PAIR}'), True, "MMRazor's"),
        'cwd': Method('student, CWD (MMRazor)',
                      osp.join(CONFIGS, f'cwd_{PAIR}'), True, "MMRazor's"),
    },
    metrics=(('mIoU', 'mIoU'), ('mAcc', 'mAcc'), ('aAcc', 'aAcc')),
    teacher='teacher (PSPNet MobileNetV2, {iters} iterations)',
    digits=2,
    samples='8 canvases',
    measured='mmseg IoU on the 100 held-out val canvases (11 classes with '
    'the background) at the end of training',
    schedule=schedule,
    fetch_data=fetch_data,
    teacher_config=TEACHER_CFG,
    # The demo's teacher, in --gpus processes as the demo trains it.
    train_teacher=lambda work, args: train_teacher(work, args.teacher_iters,
                                                   args.gpus),
    defaults=dict(iters=400, val_interval=100, teacher_iters=1200))

if __name__ == '__main__':
    main(SEGMENTATION)
