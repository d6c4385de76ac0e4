# Copyright (c) cankd contributors. All rights reserved.
"""Smoke test of tools/analysis/benchmark_train_step.py: the three variants
(student alone, CanKD, PKD) each run train_step and are timed side by side."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis' / 'benchmark_train_step.py'
DATA = ROOT / 'data' / 'fashion_det' / 'annotations' / 'train.json'


@pytest.fixture(scope='module')
def tool(tool_module):
    return tool_module('tools/analysis/benchmark_train_step.py')


def test_pkd_variant_swaps_every_loss_and_its_arguments(tool):
    configs = tool.variant_configs(Config.fromfile(tool.DEFAULT_CONFIG))
    assert set(configs) == {'student', 'cankd', 'pkd'}
    assert configs['student'].model.type == 'RetinaNet'
    cankd = configs['cankd'].model.distiller
    pkd = configs['pkd'].model.distiller
    assert set(pkd.distill_losses) == set(cankd.distill_losses)
    assert len(pkd.distill_losses) == 4
    for name, loss in pkd.distill_losses.items():
        assert loss == dict(type='PKDLoss', loss_weight=10)
        mapping = pkd.loss_forward_mappings[name]
        assert set(mapping) == {'preds_S', 'preds_T'}
        assert mapping['preds_S'] == \
            cankd.loss_forward_mappings[name]['s_feature']
    assert all(loss.type == 'CanLoss'
               for loss in cankd.distill_losses.values())


def test_random_batches_train_the_student(tool):
    cfg = Config.fromfile(tool.DEFAULT_CONFIG)
    model, optim_wrapper = tool.build_variant(
        tool.variant_configs(cfg)['student'], seed=0)
    batch, = tool.random_batches(cfg, batch_size=2, num_batches=1)
    assert batch['inputs'][0].shape == (3, 128, 128)
    losses = tool.loss_values(model.train_step(batch, optim_wrapper))
    assert torch.isfinite(torch.tensor(losses['loss']))


def test_cli_times_the_three_variants(tmp_path):
    path = tmp_path / 'bench.json'
    args = ['--iters', '2', '--warmup', '1', '--batch-size', '2',
            '--num-batches', '2', '--threads', '1', '--json', str(path)]
    if not DATA.is_file():  # data/ is made by tools/data/make_fashion_mosaics
        args.append('--random-data')
    result = subprocess.run([sys.executable, str(TOOL), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    out = result.stdout
    for row in ('| student |', '| cankd   |', '| pkd     |'):
        assert row in out, out
    assert '4× CanLoss' in out and '4× PKDLoss' in out
    assert 'cankd / pkd (median):' in out
    data = json.loads(path.read_text())
    assert data['meta']['iters'] == 2 and data['meta']['batch_size'] == 2
    results = data['results']
    assert set(results) == {'student', 'cankd', 'pkd'}
    for name, r in results.items():
        assert len(r['times_ms']) == 2 and r['median_ms'] > 0
        assert r['p25_ms'] <= r['median_ms'] <= r['p75_ms']
        distill = [k for k in r['last_losses'] if k.startswith('distill.')]
        assert len(distill) == (0 if name == 'student' else 4)
