# Copyright (c) cankd contributors. All rights reserved.
"""The detection demo: the whole CanKD workflow on real photos, on a CPU.

1. builds the Fashion-MNIST mosaic set and the real-photo set (tools/data);
2. trains a MobileNetV2 RetinaNet teacher on the mosaics (cached);
3. distils a ResNet-18/16 RetinaNet student with CanKD in 2 processes
   (``tools/dist_train.sh``), and trains the same student without
   distillation, also in 2 processes, for comparison;
4. converts the distillation checkpoint to a plain student checkpoint;
5. evaluates teacher and students with ``tools/test.py`` (COCO bbox mAP);
6. draws the distilled student's detections on validation mosaics, and 7.
   the feature heatmaps of teacher, student and distilled student;
8. draws the confusion matrices of teacher, no-KD and CanKD students side
   by side (``tools/visualizations/confusion_matrices.py``);
9. exports the CanKD student to ONNX (mmdeploy, static 128x128 input) and
   evaluates it with onnxruntime beside PyTorch.

    python tools/demo/detection_demo.py [--work-dir work_dirs/demo] \\
        [--iters 600] [--teacher-iters 1600]
"""
import os.path as osp
from typing import List, Optional

from _workflow import (EVAL_DIRS, PREDICTIONS, PY, ROOT, cached_teacher,
                       demo_arguments, evaluate_all, export_onnx,
                       last_checkpoint, print_table, run, step, train_students)

CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER_CFG = osp.join(CONFIGS, 'retinanet_mobilenetv2_fpn64_fashion.py')
STUDENT_CFG = osp.join(CONFIGS, 'retinanet_r18-w16_fpn64_fashion.py')
CANKD_CFG = osp.join(CONFIGS,
                     'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')


def schedule(iters: int) -> List[str]:
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'param_scheduler.1.end={iters}']


def fetch_data() -> None:
    """Real photos, Fashion-MNIST mosaics and MobileNetV2 weights."""
    for script in ('fetch_real_photos.py', 'make_fashion_mosaics.py',
                   'fetch_mobilenet_v2.py'):
        run([PY, osp.join('tools', 'data', script)])


def train_teacher(work: str, iters: int) -> Optional[float]:
    """``work/teacher.pth``: the MobileNetV2 teacher, trained once."""
    return cached_teacher(work, lambda work_dir: run([
        PY, 'tools/train.py', TEACHER_CFG, '--work-dir', work_dir,
        '--cfg-options', *schedule(iters)
    ]))


def main() -> None:
    args, work = demo_arguments(
        __doc__.split('\n')[0], 'work_dirs/demo', 600, 1600,
        gpus_help='processes of each student run')

    step('1. data: real photos, Fashion-MNIST mosaics, MobileNetV2 weights')
    fetch_data()
    teacher_seconds = train_teacher(work, args.teacher_iters)
    students = train_students(work, CANKD_CFG, STUDENT_CFG, args.gpus,
                              schedule(args.iters))

    step('5. evaluate on the validation mosaics (COCO bbox)')
    teacher = 'teacher (MobileNetV2)'
    results = evaluate_all(work, teacher, TEACHER_CFG, STUDENT_CFG, students,
                           predictions=True)

    step('6. draw the CanKD student\'s detections')
    picture = osp.join(work, 'cankd_student_detections.png')
    run([PY, 'tools/demo/draw_detections.py', STUDENT_CFG, students.converted,
         '--out', picture])

    step('7. what distillation changed: feature heatmaps per distilled level')
    heatmaps = osp.join(work, 'feature_heatmaps.png')
    run([PY, 'tools/visualizations/feature_heatmaps.py', CANKD_CFG,
         osp.join('data', 'fashion_det', 'val', '000001.png'), '--out',
         heatmaps, '--checkpoint', last_checkpoint(students.cankd_dir),
         '--baseline-student', last_checkpoint(students.baseline_dir),
         '--teacher-checkpoint', osp.join(work, 'teacher.pth')])

    step('8. confusion matrices of teacher and students, side by side')
    matrices = osp.join(work, 'confusion_matrices.png')
    run([PY, 'tools/visualizations/confusion_matrices.py', STUDENT_CFG,
         *(f'{model}={osp.join(work, folder, PREDICTIONS)}'
           for model, folder in EVAL_DIRS.items()), '--out', matrices])

    step('9. export the CanKD student to ONNX and run it with onnxruntime')
    onnx = export_onnx(work, STUDENT_CFG, students.converted)
    results['student, CanKD, ONNX Runtime'] = onnx['metrics']['onnxruntime']

    print(f'\nStudents (RetinaNet ResNet-18/16, random init, AdamW): '
          f'{args.iters} iterations x {args.gpus} processes x 8 images, same '
          'seed and schedule; teacher (ImageNet backbone, SGD): '
          f'{args.teacher_iters} iterations. Validation: 100 held-out '
          'mosaics.')
    print_table(
        results, {'coco/bbox_mAP': 'bbox mAP', 'coco/bbox_mAP_50': 'mAP@50'},
        students.training_seconds(teacher, teacher_seconds), digits=3)
    print(f'\nONNX ({onnx["onnx"]}): max |delta| vs PyTorch: score '
          f'{onnx["max_abs"]["score"]:.1e}, box {onnx["max_abs"]["box"]:.1e} '
          'px')
    print(f'\npictures: {picture}\n          {heatmaps}\n'
          f'          {matrices}')


if __name__ == '__main__':
    main()
