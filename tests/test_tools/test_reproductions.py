# Copyright (c) cankd contributors. All rights reserved.
"""Smoke tests of the CPU-sized reproductions (tools/demo/reproduce_*.py):
students train for real on the Fashion-MNIST mosaics through
``tools/dist_train.sh``, validating at every iteration; the table and the
two plots land in the docs, and finished runs are reused, those recorded
before curves were too.

Detection runs the student alone and with ACAM-KD, segmentation the
student alone and with CanKD (CanKD's detection config trains in
tests/test_tools/test_detection_workflow.py; every other method's config
takes two training steps in tests/test_configs/test_every_config.py)."""
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHORT = ('--iters', 2, '--teacher-iters', 2, '--gpus', 1, '--val-interval',
         1)


def start_docs(folder: Path) -> Path:
    docs = folder / 'benchmarks.md'
    docs.write_text('# Benchmarks\n\nText the tool must keep.\n')
    return docs


def row(table: str, title: str) -> list:
    """The cells of the table row that starts with ``title``."""
    line = next(line for line in table.splitlines()
                if line.startswith(f'| {title} |'))
    return [cell.strip() for cell in line.split('|')[1:-1]]


@pytest.fixture(scope='module')
def detection(tmp_path_factory, run_command):
    if not (ROOT / 'data' / 'fashion_det' / 'annotations' /
            'train.json').is_file():
        pytest.skip('no mosaics: run `make data` first')
    folder = tmp_path_factory.mktemp('reproduce_detection')
    docs = start_docs(folder)
    work = folder / 'work'
    common = ('tools/demo/reproduce_detection.py', '--work-dir', work,
              '--docs', docs, '--plot-dir', folder / 'img', *SHORT)
    first = run_command(sys.executable, *common, '--seeds', 0, '--methods',
                        'none', 'acamkd')
    first_docs = docs.read_text()
    # A run finished by an earlier version of the tool, which recorded no
    # curve: seed 2 of the baseline.
    old = json.loads((work / 'none_seed0' / 'result.json').read_text())
    del old['curve']
    (work / 'none_seed2').mkdir()
    (work / 'none_seed2' / 'result.json').write_text(
        json.dumps(dict(old, seed=2)))
    # Seeds 0 and 2 of the baseline again: both reused, nothing trains.
    second = run_command(sys.executable, *common, '--seeds', 0, 2,
                         '--methods', 'none')
    return dict(folder=folder, work=work, docs=docs.read_text(), first=first,
                first_docs=first_docs, second=second)


@pytest.fixture(scope='module')
def segmentation(tmp_path_factory, run_command):
    if not (ROOT / 'data' / 'fashion_seg' / 'img_dir' / 'val').is_dir():
        pytest.skip('no mosaics: run `make data` first')
    folder = tmp_path_factory.mktemp('reproduce_segmentation')
    docs = start_docs(folder)
    output = run_command(
        sys.executable, 'tools/demo/reproduce_segmentation.py', '--work-dir',
        folder / 'work', '--docs', docs, '--plot-dir', folder / 'img',
        *SHORT, '--seeds', 0, '--methods', 'none', 'cankd')
    return dict(folder=folder, work=folder / 'work', docs=docs.read_text(),
                output=output)


def assert_trained(work: Path, method: str, key: str, top: float) -> None:
    """Two iterations, validated after each: the last is the final one."""
    run = json.loads((work / f'{method}_seed0' / 'result.json').read_text())
    assert run['iters'] == 2 and run['seed'] == 0
    assert 0.0 <= run[key] <= top
    assert run['seconds_per_iter'] > 0
    assert [point['iter'] for point in run['curve']] == [1, 2]
    assert run['curve'][-1][key] == run[key]


@pytest.mark.slow
def test_detection_methods_train_and_report_map_and_time(detection):
    for method in ('none', 'acamkd'):
        assert_trained(detection['work'], method, 'coco/bbox_mAP', 1.0)
    table = detection['first']
    assert row(table, 'teacher (MobileNetV2, 2 iterations)')[-1] == 'mmdet'
    assert row(table, 'student, no KD')[-1] == 'mmdet'
    # Whose numbers they are: ACAM-KD has no official code.
    assert row(table, 'student, ACAM-KD (unofficial)')[-1] == (
        "cankd's unofficial re-implementation (no official code)")


@pytest.mark.slow
def test_segmentation_methods_train_and_report_miou_on_held_out_canvases(
        segmentation):
    for method in ('none', 'cankd'):
        assert_trained(segmentation['work'], method, 'mIoU', 100.0)
    docs = segmentation['docs']
    assert '<!-- reproduce_segmentation: begin' in docs
    assert '100 held-out val canvases' in docs
    teacher = row(docs, 'teacher (PSPNet MobileNetV2, 2 iterations)')
    assert len(teacher) == 7 and teacher[-1] == 'mmseg'  # 3 metrics
    assert row(docs, 'student, CanKD')[-1] == (
        "cankd's, checked against the paper's formula")
    assert 'command: python tools/demo/reproduce_segmentation.py' in docs
    for name in ('curves', 'final'):
        assert f'](img/reproduce_segmentation_{name}.png)' in docs
        assert (segmentation['folder'] / 'img' /
                f'reproduce_segmentation_{name}.png').is_file()


@pytest.mark.slow
def test_the_table_replaces_its_section_and_keeps_the_rest(detection):
    docs = detection['docs']
    assert docs.startswith('# Benchmarks\n\nText the tool must keep.\n')
    # Written twice, present once: the second table replaced the first.
    assert docs.count('<!-- reproduce_detection: begin') == 1
    assert 'seeds 0 2' in docs and '| student, ACAM-KD' not in docs
    # Mean ± sample std over the two seeds, then both seeds' mAPs.
    cells = row(docs, 'student, no KD')
    assert '±' in cells[1] and len(cells[-2].split(', ')) == 2
    assert 'command: python tools/demo/reproduce_detection.py' in docs
    assert 'versions: python' in docs and 'hardware: ' in docs


@pytest.mark.slow
def test_finished_runs_are_reused_not_retrained(detection):
    assert 'finished before, reused' not in detection['first']
    assert 'none, seed 0: finished before, reused' in detection['second']
    assert 'none, seed 2: finished before, reused' in detection['second']
    assert 'iterations in 1 processes' not in detection['second']
    results = json.loads((detection['work'] / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in results['runs']] == [
        ('none', 0), ('none', 2)]
    assert 0.0 <= results['teacher']['coco/bbox_mAP'] <= 1.0


@pytest.mark.slow
def test_a_run_recorded_before_curves_adds_its_final_point(detection):
    results = json.loads((detection['work'] / 'results.json').read_text())
    old = results['runs'][1]
    assert old['curve_recorded'] is False
    assert old['curve'] == [
        {'coco/bbox_mAP': old['coco/bbox_mAP'],
         'coco/bbox_mAP_50': old['coco/bbox_mAP_50'], 'iter': 2}]
    assert ('Runs reused from before curves were recorded (none seed 2)'
            in detection['docs'])


@pytest.mark.slow
def test_the_plots_are_written_and_shown_in_the_docs(detection):
    for name in ('curves', 'final'):
        path = detection['folder'] / 'img' / f'reproduce_detection_{name}.png'
        with Image.open(path) as image:
            assert image.format == 'PNG' and image.width > 400
        # The docs file is in the folder above img/: relative links.
        for docs in (detection['first_docs'], detection['docs']):
            assert f'](img/reproduce_detection_{name}.png)' in docs
