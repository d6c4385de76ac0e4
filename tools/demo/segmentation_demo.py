# Copyright (c) cankd contributors. All rights reserved.
"""The segmentation demo: the whole CanKD workflow on real street photos,
on a CPU.

1. builds data/cityscapes_mini (6 real photos, Cityscapes trainIds car,
   truck, bus; everything else unlabelled) and fetches the ImageNet
   MobileNetV2 weights (tools/data);
2. trains a PSPNet MobileNetV2-d8 teacher on it (cached);
3. distils a DeepLabV3 ResNet-18/16-d8 student (random init) with CanKD on
   the backbone output, 128 -> 320 channels through the 1x1 connector, in 2
   processes (``tools/dist_train.sh``), and trains the same student without
   distillation, also in 2 processes, for comparison;
4. converts the distillation checkpoint to a plain student checkpoint;
5. evaluates teacher and students with ``tools/test.py`` (mIoU);
6. draws the CanKD student's prediction on a street frame;
7. exports the CanKD student to ONNX (mmdeploy, dynamic shape: the photos
   have two sizes) and evaluates it with onnxruntime beside PyTorch.

val is a copy of train: the numbers measure how well each model fits the
six photos, not how it generalises.

    python tools/demo/segmentation_demo.py [--work-dir work_dirs/demo_seg]
        [--iters N] [--teacher-iters N]
"""
import argparse
import os
import os.path as osp
import time
from typing import List

from _workflow import (PY, ROOT, cached_teacher, dist_train, evaluate_all,
                       export_onnx, print_table, run, step, train_students)

CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER_CFG = osp.join(CONFIGS, 'pspnet_mobilenetv2-d8_cityscapes-mini.py')
STUDENT_CFG = osp.join(CONFIGS, 'deeplabv3_r18-w16-d8_cityscapes-mini.py')
CANKD_CFG = osp.join(
    CONFIGS, 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py')
STREET_FRAME = ('data/cityscapes_mini/leftImg8bit/val/street/'
                'street_000000_000100_leftImg8bit.png')


def schedule(iters: int) -> List[str]:
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}', 'randomness.seed=0'
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo_seg')
    parser.add_argument('--iters', type=int, default=80,
                        help='training iterations of each student')
    parser.add_argument('--teacher-iters', type=int, default=80)
    parser.add_argument('--gpus', type=int, default=2,
                        help='processes of each training run')
    args = parser.parse_args()
    work = osp.join(ROOT, args.work_dir)
    os.makedirs(work, exist_ok=True)
    start = time.time()

    step('1. data: real street photos (cityscapes_mini), MobileNetV2 '
         'weights')
    for script in ('fetch_real_photos.py', 'fetch_mobilenet_v2.py'):
        run([PY, osp.join('tools', 'data', script)])

    teacher_seconds = cached_teacher(
        work, lambda work_dir: dist_train(TEACHER_CFG, work_dir, args.gpus,
                                          schedule(args.teacher_iters)))
    students = train_students(work, CANKD_CFG, STUDENT_CFG, args.gpus,
                              schedule(args.iters))

    step('5. evaluate on the 6 photos (mIoU over car, truck, bus)')
    teacher = 'teacher (PSPNet MobileNetV2)'
    results = evaluate_all(work, teacher, TEACHER_CFG, STUDENT_CFG, students)

    step('6. draw the CanKD student\'s prediction on a street frame')
    picture = osp.join(work, 'cankd_student_segmentation.png')
    run([PY, 'tools/demo/draw_segmentation.py', STUDENT_CFG,
         students.converted, '--image', STREET_FRAME, '--out', picture])

    step('7. export the CanKD student to ONNX and run it with onnxruntime')
    onnx = export_onnx(work, STUDENT_CFG, students.converted, dynamic=True)
    results['student, CanKD, ONNX Runtime'] = onnx['metrics']['onnxruntime']

    print(f'\nStudents (DeepLabV3 ResNet-18/16-d8, random init): '
          f'{args.iters} iterations x {args.gpus} processes x 2 crops of '
          '256x256, same seed and schedule. Evaluated on the 6 training '
          'photos (val = train): a fit, not generalisation.')
    print_table(
        results, {'mIoU': 'mIoU', 'mAcc': 'mAcc', 'aAcc': 'aAcc'},
        {teacher: teacher_seconds, 'student, no KD': students.baseline_seconds,
         'student, CanKD': students.cankd_seconds}, digits=2)
    print(f'\npicture: {picture} (only car, truck and bus are labelled: '
          'the models never saw a background class and paint one of the '
          'three everywhere)')
    print(f'ONNX ({onnx["onnx"]}): max |delta logit| vs PyTorch '
          f'{onnx["max_abs"]["logit"]:.1e}')
    print(f'total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
