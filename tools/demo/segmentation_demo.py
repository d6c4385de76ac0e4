# Copyright (c) cankd contributors. All rights reserved.
"""The segmentation demo: the whole CanKD workflow on real product photos,
on a CPU, measured on held-out images.

1. builds data/fashion_seg (tools/data/make_fashion_mosaics.py: 400 train
   and 100 held-out val canvases of 128x128, each with 2-5 Fashion-MNIST
   photos and their exact masks; 11 classes with the background) and
   fetches the ImageNet MobileNetV2 weights (tools/data);
2. trains a PSPNet MobileNetV2-d8 teacher (ImageNet backbone, SGD) on it
   in 2 processes (cached);
3. distils a DeepLabV3 ResNet-18/16-d8 student (random init, AdamW) with
   CanKD on the backbone output, 128 -> 320 channels through the 1x1
   connector, in 2 processes (``tools/dist_train.sh``), and trains the same
   student without distillation, also in 2 processes, for comparison;
4. converts the distillation checkpoint to a plain student checkpoint;
5. evaluates teacher and students with ``tools/test.py`` (mIoU on the 100
   held-out canvases);
6. draws the CanKD student's prediction beside the ground truth;
7. exports the CanKD student to ONNX (mmdeploy) and evaluates it with
   onnxruntime beside PyTorch.

(``tests/test_tools/test_segmentation_workflow.py`` runs the same workflow
on the six real street photos of data/cityscapes_mini.)

    python tools/demo/segmentation_demo.py [--work-dir work_dirs/demo_seg]
        [--iters N] [--teacher-iters N]
"""
import os.path as osp
import time
from typing import List, Optional

from _workflow import (PY, ROOT, cached_teacher, demo_arguments, dist_train,
                       evaluate_all, export_onnx, print_table, run, step,
                       train_students)

CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER_CFG = osp.join(CONFIGS, 'pspnet_mobilenetv2-d8_fashion-seg.py')
STUDENT_CFG = osp.join(CONFIGS, 'deeplabv3_r18-w16-d8_fashion-seg.py')
CANKD_CFG = osp.join(
    CONFIGS, 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_fashion-seg.py')
VAL_CANVAS = 'data/fashion_seg/img_dir/val/000001.png'


def schedule(iters: int) -> List[str]:
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]


def fetch_data() -> None:
    """The segmentation mosaics and the MobileNetV2 weights."""
    for script in ('make_fashion_mosaics.py', 'fetch_mobilenet_v2.py'):
        run([PY, osp.join('tools', 'data', script)])


def train_teacher(work: str, iters: int, gpus: int) -> Optional[float]:
    """``work/teacher.pth``: the PSPNet MobileNetV2 teacher, trained once
    in ``gpus`` processes."""
    return cached_teacher(
        work, lambda work_dir: dist_train(TEACHER_CFG, work_dir, gpus,
                                          schedule(iters)))


def main() -> None:
    args, work = demo_arguments(
        __doc__.split('\n')[0], 'work_dirs/demo_seg', 400, 1200)
    start = time.time()

    step('1. data: Fashion-MNIST segmentation mosaics (data/fashion_seg), '
         'MobileNetV2 weights')
    fetch_data()
    teacher_seconds = train_teacher(work, args.teacher_iters, args.gpus)
    students = train_students(work, CANKD_CFG, STUDENT_CFG, args.gpus,
                              schedule(args.iters))

    step('5. evaluate on the 100 held-out val canvases (mIoU, 11 classes)')
    teacher = 'teacher (PSPNet MobileNetV2)'
    results = evaluate_all(work, teacher, TEACHER_CFG, STUDENT_CFG, students)

    step('6. draw the CanKD student\'s prediction on a held-out canvas')
    picture = osp.join(work, 'cankd_student_segmentation.png')
    run([PY, 'tools/demo/draw_segmentation.py', STUDENT_CFG,
         students.converted, '--image', VAL_CANVAS, '--out', picture])

    step('7. export the CanKD student to ONNX and run it with onnxruntime')
    onnx = export_onnx(work, STUDENT_CFG, students.converted, dynamic=True)
    results['student, CanKD, ONNX Runtime'] = onnx['metrics']['onnxruntime']

    print(f'\nStudents (DeepLabV3 ResNet-18/16-d8, random init, AdamW): '
          f'{args.iters} iterations x {args.gpus} processes x 8 canvases of '
          f'128x128, same seed and schedule; teacher (SGD): '
          f'{args.teacher_iters} iterations. Evaluated on 100 held-out '
          'canvases.')
    print_table(
        results, {'mIoU': 'mIoU', 'mAcc': 'mAcc', 'aAcc': 'aAcc'},
        students.training_seconds(teacher, teacher_seconds), digits=2)
    print(f'\npicture: {picture}')
    print(f'ONNX ({onnx["onnx"]}): max |delta logit| vs PyTorch '
          f'{onnx["max_abs"]["logit"]:.1e}')
    print(f'total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
