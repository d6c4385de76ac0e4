# Copyright (c) cankd contributors. All rights reserved.
"""Smoke test of the CPU-sized reproduction
(tools/demo/reproduce_detection.py): the student trains for real on
the Fashion-MNIST mosaics through ``tools/dist_train.sh``, alone, with CanKD
and with ACAM-KD, validating at every iteration; the table and the two plots
land in the docs, and finished runs are reused, those recorded before
curves were too. (The PKD and MGD configs it also runs are trained in
tests/test_configs/test_comparison_configs.py.)"""
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TOOL = 'tools/demo/reproduce_detection.py'
MOSAICS = ROOT / 'data' / 'fashion_det' / 'annotations' / 'train.json'
METHOD_ROWS = ('student, no KD', 'student, CanKD',
               'student, ACAM-KD (unofficial)')
PLOTS = ('reproduce_detection_curves.png', 'reproduce_detection_final.png')


@pytest.fixture(scope='module')
def reproduction(tmp_path_factory, run_command):
    if not MOSAICS.is_file():
        pytest.skip('no mosaics: run `make data` first')
    folder = tmp_path_factory.mktemp('reproduce')
    docs = folder / 'benchmarks.md'
    docs.write_text('# Benchmarks\n\nText the tool must keep.\n')
    work = folder / 'work'
    common = ('--work-dir', work, '--iters', 2, '--teacher-iters', 2,
              '--gpus', 1, '--val-interval', 1, '--docs', docs,
              '--plot-dir', folder / 'img')
    first = run_command(sys.executable, TOOL, *common, '--seeds', 0,
                        '--methods', 'none', 'cankd', 'acamkd')
    first_docs = docs.read_text()
    # A run finished by an earlier version of the tool, which recorded no
    # curve: seed 2 of the baseline.
    old = json.loads((work / 'none_seed0' / 'result.json').read_text())
    del old['curve']
    (work / 'none_seed2').mkdir()
    (work / 'none_seed2' / 'result.json').write_text(
        json.dumps(dict(old, seed=2)))
    # More seeds of the baseline: seeds 0 and 2 are reused.
    second = run_command(sys.executable, TOOL, *common, '--seeds', 0, 1, 2,
                         '--methods', 'none')
    return dict(folder=folder, docs=docs.read_text(), first=first,
                first_docs=first_docs, second=second)


@pytest.mark.slow
def test_each_method_trains_and_reports_metrics_and_time(reproduction):
    work = reproduction['folder'] / 'work'
    for method in ('none', 'cankd', 'acamkd'):
        run = json.loads(
            (work / f'{method}_seed0' / 'result.json').read_text())
        assert run['iters'] == 2 and run['seed'] == 0
        assert 0.0 <= run['coco/bbox_mAP'] <= 1.0
        assert run['seconds_per_iter'] > 0
        # A validation after each iteration; the last is the final one.
        assert [point['iter'] for point in run['curve']] == [1, 2]
        assert run['curve'][-1]['coco/bbox_mAP'] == run['coco/bbox_mAP']
    for row in ('teacher (MobileNetV2, 2 iterations)', *METHOD_ROWS):
        assert f'| {row} |' in reproduction['first']
    acam_row = next(line for line in reproduction['first'].splitlines()
                    if line.startswith('| student, ACAM-KD'))
    assert acam_row.endswith(
        "| cankd's unofficial re-implementation (no official code) |")
    results = json.loads((work / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in results['runs']] == [
        ('none', 0), ('none', 1), ('none', 2)]
    assert 0.0 <= results['teacher']['coco/bbox_mAP'] <= 1.0


@pytest.mark.slow
def test_the_table_replaces_its_section_and_keeps_the_rest(reproduction):
    docs = reproduction['docs']
    assert docs.startswith('# Benchmarks\n\nText the tool must keep.\n')
    # Written twice, present once: the second table replaced the first.
    assert docs.count('<!-- reproduce_detection: begin') == 1
    assert 'seeds 0 1 2' in docs and '| student, CanKD |' not in docs
    # Mean ± sample std over the two seeds, then both seeds' mAPs.
    baseline = next(line for line in docs.splitlines()
                    if line.startswith('| student, no KD |'))
    cells = [cell.strip() for cell in baseline.split('|')[1:-1]]
    assert '±' in cells[1] and len(cells[-2].split(', ')) == 3
    assert 'command: python tools/demo/reproduce_detection.py' in docs
    assert 'versions: python' in docs and 'hardware: ' in docs


@pytest.mark.slow
def test_finished_runs_are_reused_not_retrained(reproduction):
    assert 'finished before, reused' not in reproduction['first']
    assert 'none, seed 0: finished before, reused' in reproduction['second']
    assert 'none, seed 1: 2 iterations' in reproduction['second']
    assert 'none, seed 2: finished before, reused' in reproduction['second']


@pytest.mark.slow
def test_a_run_recorded_before_curves_adds_its_final_point(reproduction):
    results = json.loads(
        (reproduction['folder'] / 'work' / 'results.json').read_text())
    old = results['runs'][2]
    assert old['curve_recorded'] is False
    assert old['curve'] == [
        {'coco/bbox_mAP': old['coco/bbox_mAP'],
         'coco/bbox_mAP_50': old['coco/bbox_mAP_50'], 'iter': 2}]
    assert ('Runs reused from before curves were recorded (none seed 2)'
            in reproduction['docs'])


@pytest.mark.slow
def test_the_plots_are_written_and_shown_in_the_docs(reproduction):
    for name in PLOTS:
        with Image.open(reproduction['folder'] / 'img' / name) as image:
            assert image.format == 'PNG' and image.width > 400
        # The docs file is in the folder above img/: relative links.
        for docs in (reproduction['first_docs'], reproduction['docs']):
            assert f'](img/{name})' in docs
