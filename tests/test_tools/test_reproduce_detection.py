# Copyright (c) cankd contributors. All rights reserved.
"""Smoke test of the CPU-sized reproduction
(tools/demo/reproduce_detection.py): the student trains for real on
the Fashion-MNIST mosaics through ``tools/dist_train.sh``, alone and with
CanKD, the table lands in the docs file between its markers, and finished
runs are reused. (The PKD and MGD configs it also runs are trained in
tests/test_configs/test_comparison_configs.py.)"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = 'tools/demo/reproduce_detection.py'
MOSAICS = ROOT / 'data' / 'fashion_det' / 'annotations' / 'train.json'
METHOD_ROWS = ('student, no KD', 'student, CanKD')


@pytest.fixture(scope='module')
def reproduction(tmp_path_factory, run_command):
    if not MOSAICS.is_file():
        pytest.skip('no mosaics: run `make data` first')
    folder = tmp_path_factory.mktemp('reproduce')
    docs = folder / 'benchmarks.md'
    docs.write_text('# Benchmarks\n\nText the tool must keep.\n')
    common = ('--work-dir', folder / 'work', '--iters', 2, '--teacher-iters',
              2, '--gpus', 1, '--docs', docs)
    first = run_command(sys.executable, TOOL, *common, '--seeds', 0,
                        '--methods', 'none', 'cankd')
    # A second seed of the baseline: its seed 0 is reused.
    second = run_command(sys.executable, TOOL, *common, '--seeds', 0, 1,
                         '--methods', 'none')
    return dict(folder=folder, docs=docs.read_text(), first=first,
                second=second)


@pytest.mark.slow
def test_each_method_trains_and_reports_metrics_and_time(reproduction):
    work = reproduction['folder'] / 'work'
    for method in ('none', 'cankd'):
        run = json.loads(
            (work / f'{method}_seed0' / 'result.json').read_text())
        assert run['iters'] == 2 and run['seed'] == 0
        assert 0.0 <= run['coco/bbox_mAP'] <= 1.0
        assert run['seconds_per_iter'] > 0
    for row in ('teacher (MobileNetV2, 2 iterations)', *METHOD_ROWS):
        assert f'| {row} |' in reproduction['first']
    results = json.loads((work / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in results['runs']] == [
        ('none', 0), ('none', 1)]
    assert 0.0 <= results['teacher']['coco/bbox_mAP'] <= 1.0


@pytest.mark.slow
def test_the_table_replaces_its_section_and_keeps_the_rest(reproduction):
    docs = reproduction['docs']
    assert docs.startswith('# Benchmarks\n\nText the tool must keep.\n')
    # Written twice, present once: the second table replaced the first.
    assert docs.count('<!-- reproduce_detection: begin') == 1
    assert 'seeds 0 1' in docs and '| student, CanKD |' not in docs
    # Mean ± sample std over the two seeds, then both seeds' mAPs.
    baseline = next(line for line in docs.splitlines()
                    if line.startswith('| student, no KD |'))
    cells = [cell.strip() for cell in baseline.split('|')[1:-1]]
    assert '±' in cells[1] and len(cells[-1].split(', ')) == 2
    assert 'command: python tools/demo/reproduce_detection.py' in docs
    assert 'versions: python' in docs and 'hardware: ' in docs


@pytest.mark.slow
def test_finished_runs_are_reused_not_retrained(reproduction):
    assert 'finished before, reused' not in reproduction['first']
    assert 'none, seed 0: finished before, reused' in reproduction['second']
    assert 'none, seed 1: 2 iterations' in reproduction['second']
