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
6. draws the CanKD student's prediction on a street frame.

val is a copy of train: the numbers measure how well each model fits the
six photos, not how it generalises.

    python tools/demo/segmentation_demo.py [--work-dir work_dirs/demo_seg]
        [--iters N] [--teacher-iters N]
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
TEACHER_CFG = osp.join(CONFIGS, 'pspnet_mobilenetv2-d8_cityscapes-mini.py')
STUDENT_CFG = osp.join(CONFIGS, 'deeplabv3_r18-w16-d8_cityscapes-mini.py')
CANKD_CFG = osp.join(
    CONFIGS, 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py')
STREET_FRAME = ('data/cityscapes_mini/leftImg8bit/val/street/'
                'street_000000_000100_leftImg8bit.png')


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
        f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}', 'randomness.seed=0'
    ]


def evaluate(config: str, checkpoint: str, work_dir: str) -> dict:
    out = osp.join(work_dir, 'metrics.json')
    run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir',
         work_dir, '--out', out])
    with open(out) as f:
        return json.load(f)


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
    py = sys.executable
    # torchrun's processes: one thread each, the machine's cores shared.
    dist = dict(PORT=os.environ.get('PORT', '29518'))
    start = time.time()
    times = {}

    step('1/6 data: real street photos (cityscapes_mini), MobileNetV2 '
         'weights')
    for script in ('fetch_real_photos.py', 'fetch_mobilenet_v2.py'):
        run([py, osp.join('tools', 'data', script)])

    teacher_ckpt = osp.join(work, 'teacher.pth')
    if osp.isfile(teacher_ckpt):
        step(f'2/6 teacher: cached at {teacher_ckpt}')
    else:
        step('2/6 teacher: PSPNet MobileNetV2-d8 (ImageNet backbone)')
        teacher_dir = osp.join(work, 'teacher_run')
        times['teacher'] = run([
            'bash', 'tools/dist_train.sh', TEACHER_CFG,
            str(args.gpus), *train_args(teacher_dir, args.teacher_iters)
        ], env=dist)
        shutil.copyfile(last_checkpoint(teacher_dir), teacher_ckpt)

    step(f'3/6 CanKD: distil the student in {args.gpus} processes')
    cankd_dir = osp.join(work, 'cankd')
    times['cankd'] = run([
        'bash', 'tools/dist_train.sh', CANKD_CFG,
        str(args.gpus), *train_args(cankd_dir, args.iters),
        f'model.teacher_ckpt={teacher_ckpt}'
    ], env=dist)
    step('3/6 baseline: the same student and schedule without distillation')
    baseline_dir = osp.join(work, 'baseline')
    times['baseline'] = run([
        'bash', 'tools/dist_train.sh', STUDENT_CFG,
        str(args.gpus), *train_args(baseline_dir, args.iters)
    ], env=dist)

    step('4/6 convert the distillation checkpoint to a student checkpoint')
    student_ckpt = osp.join(work, 'student_cankd.pth')
    run([py, 'tools/model_converters/convert_kd_ckpt_to_student.py',
         last_checkpoint(cankd_dir), '--out-path', student_ckpt])

    step('5/6 evaluate on the 6 photos (mIoU over car, truck, bus)')
    results = {
        'teacher (PSPNet MobileNetV2)': evaluate(
            TEACHER_CFG, teacher_ckpt, osp.join(work, 'eval_teacher')),
        'student, no KD': evaluate(STUDENT_CFG, last_checkpoint(baseline_dir),
                                   osp.join(work, 'eval_baseline')),
        'student, CanKD': evaluate(STUDENT_CFG, student_ckpt,
                                   osp.join(work, 'eval_cankd')),
    }

    step('6/6 draw the CanKD student\'s prediction on a street frame')
    picture = osp.join(work, 'cankd_student_segmentation.png')
    run([py, 'tools/demo/draw_segmentation.py', STUDENT_CFG, student_ckpt,
         '--image', STREET_FRAME, '--out', picture])

    print(f'\nStudents (DeepLabV3 ResNet-18/16-d8, random init): '
          f'{args.iters} iterations x {args.gpus} processes x 2 crops of '
          '256x256, same seed and schedule. Evaluated on the 6 training '
          'photos (val = train): a fit, not generalisation.')
    print('\n| model | mIoU | mAcc | aAcc | train time |')
    print('|---|---|---|---|---|')
    train_time = {'teacher (PSPNet MobileNetV2)': times.get('teacher'),
                  'student, no KD': times['baseline'],
                  'student, CanKD': times['cankd']}
    for name, metrics in results.items():
        seconds = train_time[name]
        print(f"| {name} | {metrics['mIoU']:.2f} | {metrics['mAcc']:.2f} | "
              f"{metrics['aAcc']:.2f} | "
              f"{'cached' if seconds is None else f'{seconds:.0f} s'} |")
    print(f'\npicture: {picture} (only car, truck and bus are labelled: '
          'the models never saw a background class and paint one of the '
          'three everywhere)')
    print(f'total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
