# Copyright (c) cankd contributors. All rights reserved.
"""The detection demo: the whole CanKD workflow on real photos, on a CPU.

1. builds the Fashion-MNIST mosaic set and the real-photo set (tools/data);
2. trains a MobileNetV2 RetinaNet teacher on the mosaics (cached);
3. distils a ResNet-18/16 RetinaNet student with CanKD in 2 processes
   (``tools/dist_train.sh``), and trains the same student without
   distillation, also in 2 processes, for comparison;
4. converts the distillation checkpoint to a plain student checkpoint;
5. evaluates teacher and students with ``tools/test.py`` (COCO bbox mAP);
6. draws the distilled student's detections on validation mosaics, and the
   feature heatmaps of teacher, student and distilled student.

    python tools/demo/detection_demo.py [--work-dir work_dirs/demo] [--iters N]
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER_CFG = osp.join(CONFIGS, 'retinanet_mobilenetv2_fpn64_fashion.py')
STUDENT_CFG = osp.join(CONFIGS, 'retinanet_r18-w16_fpn64_fashion.py')
CANKD_CFG = osp.join(CONFIGS,
                     'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')


def step(message: str) -> None:
    print(f'\n\033[1m[demo] {message}\033[0m', flush=True)


def run(cmd: List[str], env: Optional[dict] = None) -> float:
    """Run a command in the repository root, streaming its output."""
    print('$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    subprocess.run(cmd, cwd=ROOT, check=True,
                   env=dict(os.environ, **(env or {})))
    return time.time() - start


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_args(work_dir: str, iters: int) -> List[str]:
    return [
        '--work-dir', work_dir, '--cfg-options',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.1.end={iters}'
    ]


def evaluate(config: str, checkpoint: str, work_dir: str) -> dict:
    out = osp.join(work_dir, 'metrics.json')
    run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir',
         work_dir, '--out', out])
    with open(out) as f:
        return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--iters', type=int, default=300,
                        help='training iterations of each student')
    parser.add_argument('--teacher-iters', type=int, default=400)
    parser.add_argument('--gpus', type=int, default=2,
                        help='processes of the distillation run')
    args = parser.parse_args()
    work = osp.join(ROOT, args.work_dir)
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    times = {}

    step('1/7 data: real photos, Fashion-MNIST mosaics, MobileNetV2 weights')
    for script in ('fetch_real_photos.py', 'make_fashion_mosaics.py',
                   'fetch_mobilenet_v2.py'):
        run([py, osp.join('tools', 'data', script)])

    teacher_ckpt = osp.join(work, 'teacher.pth')
    if osp.isfile(teacher_ckpt):
        step(f'2/7 teacher: cached at {teacher_ckpt}')
    else:
        step('2/7 teacher: MobileNetV2 RetinaNet on the mosaics')
        teacher_dir = osp.join(work, 'teacher_run')
        times['teacher'] = run(
            [py, 'tools/train.py', TEACHER_CFG,
             *train_args(teacher_dir, args.teacher_iters)])
        shutil.copyfile(last_checkpoint(teacher_dir), teacher_ckpt)

    port = dict(PORT=os.environ.get('PORT', '29517'))
    step(f'3/7 CanKD: distil the student in {args.gpus} processes')
    cankd_dir = osp.join(work, 'cankd')
    times['cankd'] = run([
        'bash', 'tools/dist_train.sh', CANKD_CFG,
        str(args.gpus), *train_args(cankd_dir, args.iters),
        f'model.teacher_ckpt={teacher_ckpt}'
    ], env=port)
    step('3/7 baseline: the same student and schedule without distillation')
    baseline_dir = osp.join(work, 'baseline')
    times['baseline'] = run([
        'bash', 'tools/dist_train.sh', STUDENT_CFG,
        str(args.gpus), *train_args(baseline_dir, args.iters)
    ], env=port)

    step('4/7 convert the distillation checkpoint to a student checkpoint')
    student_ckpt = osp.join(work, 'student_cankd.pth')
    run([py, 'tools/model_converters/convert_kd_ckpt_to_student.py',
         last_checkpoint(cankd_dir), '--out-path', student_ckpt])

    step('5/7 evaluate on the validation mosaics (COCO bbox)')
    results = {
        'teacher (MobileNetV2)': evaluate(TEACHER_CFG, teacher_ckpt,
                                          osp.join(work, 'eval_teacher')),
        'student, no KD': evaluate(STUDENT_CFG, last_checkpoint(baseline_dir),
                                   osp.join(work, 'eval_baseline')),
        'student, CanKD': evaluate(STUDENT_CFG, student_ckpt,
                                   osp.join(work, 'eval_cankd')),
    }

    step('6/7 draw the CanKD student\'s detections')
    picture = osp.join(work, 'cankd_student_detections.png')
    run([py, 'tools/demo/draw_detections.py', STUDENT_CFG, student_ckpt,
         '--out', picture])

    step('7/7 what distillation changed: feature heatmaps per distilled level')
    heatmaps = osp.join(work, 'feature_heatmaps.png')
    run([py, 'tools/visualizations/feature_heatmaps.py', CANKD_CFG,
         osp.join('data', 'fashion_det', 'val', '000001.png'), '--out',
         heatmaps, '--checkpoint', last_checkpoint(cankd_dir),
         '--baseline-student', last_checkpoint(baseline_dir),
         '--teacher-checkpoint', teacher_ckpt])

    print(f'\nStudents: {args.iters} iterations x {args.gpus} processes x 8 '
          'images, same seed and schedule; validation: 100 mosaics.')
    print('\n| model | bbox mAP | mAP@50 | train time |')
    print('|---|---|---|---|')
    train_time = {'teacher (MobileNetV2)': times.get('teacher'),
                  'student, no KD': times['baseline'],
                  'student, CanKD': times['cankd']}
    for name, metrics in results.items():
        seconds = train_time[name]
        print(f"| {name} | {metrics['coco/bbox_mAP']:.3f} | "
              f"{metrics['coco/bbox_mAP_50']:.3f} | "
              f"{'cached' if seconds is None else f'{seconds:.0f} s'} |")
    print(f'\npictures: {picture}\n          {heatmaps}')


if __name__ == '__main__':
    main()
