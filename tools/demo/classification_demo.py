# Copyright (c) cankd contributors. All rights reserved.
"""The classification demo: the whole CanKD workflow on real product photos,
on a CPU: the paper's ResNet-50 -> MobileNetV1 ImageNet pair in miniature,
with a pretrained teacher.

1. builds data/fashion_cls (tools/data/make_fashion_imagenet.py: 1,000
   train and 500 held-out val images of 128x128, one Fashion-MNIST photo
   each, ImageNet's folder layout);
2. fine-tunes a MobileNetV2 teacher (ImageNet backbone) on it (cached);
3. distils a MobileNetV1-0.5 student (random init) with CanKD on the last
   backbone stage, 512 -> 1280 channels through the 1x1 connector, in 2
   processes (``tools/dist_train.sh``), and trains the same student without
   distillation, also in 2 processes, for comparison;
4. converts the distillation checkpoint to a plain student checkpoint;
5. evaluates teacher and students with ``tools/test.py`` (top-1 on the
   held-out val images).

    python tools/demo/classification_demo.py [--work-dir work_dirs/demo_cls]
        [--iters N] [--teacher-iters N]
"""
import os.path as osp
import time
from typing import List

from _workflow import (PY, ROOT, cached_teacher, demo_arguments, dist_train,
                       evaluate_all, print_table, run, step, train_students)

CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER_CFG = osp.join(CONFIGS, 'mobilenetv2_fashion-cls.py')
STUDENT_CFG = osp.join(CONFIGS, 'mobilenet-v1-w0.5_fashion-cls.py')
CANKD_CFG = osp.join(CONFIGS,
                     'cankd_mobilenetv2_mobilenet-v1-w0.5_fashion-cls.py')


def schedule(iters: int) -> List[str]:
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]


def main() -> None:
    args, work = demo_arguments(
        __doc__.split('\n')[0], 'work_dirs/demo_cls', 300, 200)
    start = time.time()

    step('1. data: the Fashion-MNIST mini-ImageNet (data/fashion_cls), '
         'MobileNetV2 weights')
    for script in ('make_fashion_imagenet.py', 'fetch_mobilenet_v2.py'):
        run([PY, osp.join('tools', 'data', script)])

    teacher_seconds = cached_teacher(
        work, lambda work_dir: dist_train(TEACHER_CFG, work_dir, args.gpus,
                                          schedule(args.teacher_iters)))
    students = train_students(work, CANKD_CFG, STUDENT_CFG, args.gpus,
                              schedule(args.iters))

    step('5. evaluate on the 500 held-out val images (top-1)')
    teacher = 'teacher (MobileNetV2, ImageNet backbone)'
    results = evaluate_all(work, teacher, TEACHER_CFG, STUDENT_CFG, students)

    print(f'\nStudents (MobileNetV1-0.5, random init): {args.iters} '
          f'iterations x {args.gpus} processes x 16 images, same seed and '
          'schedule; teacher: '
          f'{args.teacher_iters} iterations. Val: 500 held-out images.')
    print_table(
        results, {'accuracy/top1': 'top-1 (%)'},
        students.training_seconds(teacher, teacher_seconds), digits=2)
    print(f'total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
