# Copyright (c) cankd contributors. All rights reserved.
"""A CPU-sized reproduction of the paper's detection claim.

On the Fashion-MNIST mosaics (real product photos, tools/data), the detection
demo's MobileNetV2 RetinaNet teacher is distilled into the same ResNet-18/16
RetinaNet student by CanKD, by MMRazor's PKD, by MMRazor's MGD (P3-P6, each
with the loss weights of its RetinaNet config) and by ACAM-KD (cankd's
unofficial re-implementation, the paper's M = 6, alpha = lambda = 1), and the
student is also trained without distillation. Every method runs the same
schedule for every seed with ``tools/dist_train.sh``; the student's COCO bbox
mAP on the 100 validation mosaics (evaluated by the training run's
validations, every ``--val-interval`` iterations and at the end) and the
training time per iteration are reported as mean ± sample std over seeds.

Finished runs are kept in the work dir and reused, so an interrupted run
continues where it stopped. The table, the command, the versions and the
hardware are written into docs/benchmarks.md (``--docs``) between markers,
with two plots (``--plot-dir``): validation mAP against iteration (mean and
band over seeds) and the final mAP per method (mean, error bars).

    python tools/demo/reproduce_detection.py [--seeds 0 1 2] \\
        [--iters 600] [--methods none cankd pkd mgd acamkd] [--gpus 2]
"""
import os.path as osp

# The demo's workflow and configs are the reproduction's.
from _reproduction import Method, Task, main
from detection_demo import (CANKD_CFG, CONFIGS, STUDENT_CFG, TEACHER_CFG,
                            fetch_data, schedule, train_teacher)

PAIR = 'retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'

DETECTION = Task(
    name='reproduce_detection',
    methods={
        'none': Method('student, no KD', STUDENT_CFG, False, 'mmdet'),
        'cankd': Method('student, CanKD', CANKD_CFG, True,
                        "cankd's, checked against the paper's formula"),
        'pkd': Method('student, PKD (MMRazor)',
                      osp.join(CONFIGS, f'pkd_{PAIR}'), True, "MMRazor's"),
        'mgd': Method('student, MGD (MMRazor)',
                      osp.join(CONFIGS, f'mgd_{PAIR}'), True, "MMRazor's"),
        'acamkd': Method(
            'student, ACAM-KD (unofficial)',
            osp.join(CONFIGS, f'acamkd_{PAIR}'), True,
            "cankd's unofficial re-implementation (no official code)"),
    },
    metrics=(('coco/bbox_mAP', 'bbox mAP'), ('coco/bbox_mAP_50', 'mAP@50')),
    teacher='teacher (MobileNetV2, {iters} iterations)',
    digits=3,
    samples='8 images',
    measured='COCO bbox on the 100 validation mosaics at the end of '
    'training',
    schedule=schedule,
    fetch_data=fetch_data,
    teacher_config=TEACHER_CFG,
    # The demo's teacher, in one process as the demo trains it.
    train_teacher=lambda work, args: train_teacher(work, args.teacher_iters),
    defaults=dict(iters=600, val_interval=100, teacher_iters=1600))

if __name__ == '__main__':
    main(DETECTION)
