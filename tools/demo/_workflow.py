# Copyright (c) cankd contributors. All rights reserved.
"""What the demos share: run the real tools in subprocesses, train a teacher
once, train the CanKD and no-KD students alike, convert, evaluate, export
to ONNX.

The demos import it as ``_workflow``: run them as scripts
(``python tools/demo/<demo>.py``), which puts this folder on ``sys.path``.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PY = sys.executable
# Where evaluate(..., predictions=True) writes a model's predictions.
PREDICTIONS = 'predictions.pkl'
# The folder of each model's evaluation in a demo's work dir.
EVAL_DIRS = {'teacher': 'eval_teacher', 'student, no KD': 'eval_baseline',
             'student, CanKD': 'eval_cankd'}


def demo_arguments(description: str, work_dir: str, iters: int,
                   teacher_iters: int,
                   gpus_help: str = 'processes of each training run'
                   ) -> Tuple[argparse.Namespace, str]:
    """The options every demo takes.

    Args:
        description (str): The demo's one-line description.
        work_dir (str): Default work dir, relative to the repository.
        iters (int): Default training iterations of each student.
        teacher_iters (int): Default training iterations of the teacher.
        gpus_help (str): What ``--gpus`` sets in this demo.

    Returns:
        tuple[argparse.Namespace, str]: The options and the absolute work
        dir, created.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--work-dir', default=work_dir)
    parser.add_argument('--iters', type=int, default=iters,
                        help='training iterations of each student')
    parser.add_argument('--teacher-iters', type=int, default=teacher_iters)
    parser.add_argument('--gpus', type=int, default=2, help=gpus_help)
    args = parser.parse_args()
    work = osp.join(ROOT, args.work_dir)
    os.makedirs(work, exist_ok=True)
    return args, work


def step(message: str) -> None:
    """Print a demo step, bold, so it stands out of the training logs."""
    print(f'\n\033[1m[demo] {message}\033[0m', flush=True)


def run(cmd: List[str], env: Optional[dict] = None) -> float:
    """Run a command in the repository root, streaming its output.

    Returns:
        float: Wall time in seconds.
    """
    print('$ ' + ' '.join(cmd), flush=True)
    start = time.time()
    subprocess.run(cmd, cwd=ROOT, check=True,
                   env=dict(os.environ, **(env or {})))
    return time.time() - start


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def dist_train(config: str, work_dir: str, gpus: int,
               options: List[str]) -> float:
    """``tools/dist_train.sh`` with ``--cfg-options options``."""
    return run(['bash', 'tools/dist_train.sh', config, str(gpus),
                '--work-dir', work_dir, '--cfg-options', *options],
               env=dict(PORT=os.environ.get('PORT', '29517')))


def evaluate(config: str, checkpoint: str, work_dir: str,
             predictions: bool = False) -> dict:
    """``tools/test.py`` metrics of a checkpoint; with ``predictions``, its
    predictions are also written to ``work_dir/predictions.pkl``."""
    out = osp.join(work_dir, 'metrics.json')
    dump = ['--out', osp.join(work_dir, PREDICTIONS)] if predictions else []
    run([PY, 'tools/test.py', config, checkpoint, '--work-dir', work_dir,
         '--out', out, *dump])
    with open(out) as f:
        return json.load(f)


def cached_teacher(work: str, train) -> Optional[float]:
    """``work/teacher.pth``, trained by ``train(work_dir)`` the first time.

    Returns:
        float, optional: Training time, None when cached.
    """
    teacher_ckpt = osp.join(work, 'teacher.pth')
    if osp.isfile(teacher_ckpt):
        step(f'2. teacher: cached at {teacher_ckpt}')
        return None
    step('2. teacher')
    teacher_dir = osp.join(work, 'teacher_run')
    seconds = train(teacher_dir)
    shutil.copyfile(last_checkpoint(teacher_dir), teacher_ckpt)
    return seconds


class Students(NamedTuple):
    """The two students of a demo, trained alike."""
    cankd_dir: str
    baseline_dir: str
    cankd_seconds: float
    baseline_seconds: float
    converted: str

    def training_seconds(self, teacher: str,
                         teacher_seconds: Optional[float]
                         ) -> Dict[str, Optional[float]]:
        """Training time of the teacher (None: cached) and both students,
        by their names in the results table."""
        return {teacher: teacher_seconds,
                'student, no KD': self.baseline_seconds,
                'student, CanKD': self.cankd_seconds}


def train_students(work: str, cankd_cfg: str, student_cfg: str, gpus: int,
                   options: List[str]) -> Students:
    """Distil with CanKD and train the same student without distillation,
    both in ``gpus`` processes with the same options, then convert the
    distillation checkpoint to a plain student checkpoint."""
    teacher_ckpt = osp.join(work, 'teacher.pth')
    step(f'3. CanKD: distil the student in {gpus} processes')
    cankd_dir = osp.join(work, 'cankd')
    cankd_seconds = dist_train(cankd_cfg, cankd_dir, gpus,
                               [*options, f'model.teacher_ckpt={teacher_ckpt}'])
    step('3. baseline: the same student and schedule without distillation')
    baseline_dir = osp.join(work, 'baseline')
    baseline_seconds = dist_train(student_cfg, baseline_dir, gpus, options)
    step('4. convert the distillation checkpoint to a student checkpoint')
    kd_checkpoint = last_checkpoint(cankd_dir)
    run([PY, 'tools/model_converters/convert_kd_ckpt_to_student.py',
         kd_checkpoint, '--out-path', work + '/'])
    # The converter's name for it, as MMRazor's: <stem>_student.pth.
    converted = osp.join(
        work, osp.splitext(osp.basename(kd_checkpoint))[0] + '_student.pth')
    return Students(cankd_dir, baseline_dir, cankd_seconds, baseline_seconds,
                    converted)


def evaluate_all(work: str, teacher_name: str, teacher_cfg: str,
                 student_cfg: str, students: Students,
                 predictions: bool = False) -> Dict[str, dict]:
    """Metrics of the teacher, the no-KD student and the CanKD student;
    with ``predictions``, each model's predictions are also written to
    ``work/<EVAL_DIRS[model]>/predictions.pkl``."""
    checkpoints = {
        'teacher': (teacher_cfg, osp.join(work, 'teacher.pth')),
        'student, no KD': (student_cfg,
                           last_checkpoint(students.baseline_dir)),
        'student, CanKD': (student_cfg, students.converted),
    }
    return {
        teacher_name if model == 'teacher' else model: evaluate(
            config, checkpoint, osp.join(work, EVAL_DIRS[model]),
            predictions)
        for model, (config, checkpoint) in checkpoints.items()
    }


def export_onnx(work: str, student_cfg: str, checkpoint: str,
                dynamic: bool = False) -> dict:
    """``tools/deployment/export_onnx.py --eval``: the ONNX model of the
    student, its parity with PyTorch and the test-set metrics of both.

    Returns:
        dict: The tool's ``export_report.json``.
    """
    out = osp.join(work, 'onnx')
    run([PY, 'tools/deployment/export_onnx.py', student_cfg, checkpoint,
         '--out', out, '--eval', *(['--dynamic'] if dynamic else [])])
    with open(osp.join(out, 'export_report.json')) as f:
        return json.load(f)


def print_table(results: Dict[str, dict], metrics: Dict[str, str],
                seconds: Dict[str, Optional[float]], digits: int) -> None:
    """A markdown table: one row per model, ``metrics`` maps a metric key
    to its column title, then the training time."""
    print('\n| model | ' + ' | '.join(metrics.values()) + ' | train time |')
    print('|---' * (len(metrics) + 2) + '|')
    for name, values in results.items():
        cells = [f'{values[key]:.{digits}f}' for key in metrics]
        if name not in seconds:
            time_cell = '-'
        else:
            time_cell = ('cached' if seconds[name] is None else
                         f'{seconds[name]:.0f} s')
        print(f'| {name} | ' + ' | '.join(cells) + f' | {time_cell} |')
