# Copyright (c) cankd contributors. All rights reserved.
"""CPU distributed set-up: the config's timeout reaches gloo, and a
collective timeout is explained with the rank and the timeout."""
import datetime
from pathlib import Path

import pytest
import torch.distributed as dist
from mmengine.config import Config

from cankd.compat import distributed
from cankd.compat.distributed import dist_timeout, setup_cpu_distributed
from cankd.utils.collective_timeout import (CollectiveTimeoutError,
                                            explain_collective_timeout,
                                            is_collective_timeout)


DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'demo'


def config(**dist_cfg) -> Config:
    return Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl',
                                                  **dist_cfg))))


def test_timeout_is_read_in_seconds_as_mmengine_does():
    assert dist_timeout(config(timeout=90)) == datetime.timedelta(seconds=90)
    assert dist_timeout(config()) is None
    assert dist_timeout(Config()) is None
    with pytest.raises(ValueError, match='positive number of seconds'):
        dist_timeout(config(timeout='30'))


@pytest.fixture
def fake_gloo(monkeypatch):
    """Record init_process_group's arguments instead of rendezvousing."""
    calls = []
    monkeypatch.setattr(distributed, 'needs_cpu_distributed', lambda _: True)
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist, 'init_process_group',
                        lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(dist, 'get_rank', lambda: 0)
    monkeypatch.setattr(dist, 'get_world_size', lambda: 2)
    return calls


def test_the_config_timeout_reaches_gloo(fake_gloo):
    cfg = config(timeout=45)
    assert setup_cpu_distributed(cfg, 'pytorch')
    assert fake_gloo == [
        dict(backend='gloo', timeout=datetime.timedelta(seconds=45))
    ]
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=45)


def test_without_a_timeout_torch_s_default_applies(fake_gloo):
    setup_cpu_distributed(config(), 'pytorch')
    assert fake_gloo == [dict(backend='gloo')]


def test_demo_configs_set_a_timeout():
    for name in ('cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py',
                 'deeplabv3_r18-w16-d8_cityscapes-mini.py'):
        cfg = Config.fromfile(DEMO / name)
        assert dist_timeout(cfg) == datetime.timedelta(seconds=300), name


GLOO_TIMEOUT = ('[../third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78]'
                ' Timed out waiting 10000ms for recv operation to complete')


def test_a_collective_timeout_names_the_rank_and_the_timeout(monkeypatch):
    monkeypatch.delenv('TORCHELASTIC_RUN_ID', raising=False)  # no peers
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_rank', lambda: 0)
    monkeypatch.setattr(dist, 'get_world_size', lambda: 2)
    with pytest.raises(CollectiveTimeoutError,
                       match=r'Rank 0 of 2 waited 10 s '
                       r'\(env_cfg.dist_cfg.timeout\) for rank 1 .* '
                       r'--resume'):
        with explain_collective_timeout(datetime.timedelta(seconds=10)):
            raise RuntimeError(GLOO_TIMEOUT)


def test_other_errors_pass_through(monkeypatch):
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    assert is_collective_timeout(RuntimeError(GLOO_TIMEOUT))
    assert not is_collective_timeout(ValueError('timed out'))
    with pytest.raises(RuntimeError, match='Connection closed by peer'):
        with explain_collective_timeout(datetime.timedelta(seconds=10)):
            raise RuntimeError('Connection closed by peer')


def test_a_finished_job_ends_its_process_group(tmp_path):
    # A live gloo group at interpreter exit can abort a finished rank
    # ("terminate called without an active exception"): the training job
    # and tools/test.py destroy it when their loop is over.
    from cankd.compat.distributed import end_distributed
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    assert dist.is_initialized()
    end_distributed()
    assert not dist.is_initialized()
    end_distributed()  # without a group: nothing to do


def test_the_training_job_ends_the_group_only_when_its_block_succeeds(
        tmp_path):
    from cankd.utils.training_job import training_job
    cfg = Config(dict(work_dir=str(tmp_path / 'work')))
    (tmp_path / 'work').mkdir()
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/a',
                            rank=0, world_size=1)
    with pytest.raises(RuntimeError, match='boom'):
        with training_job(cfg):
            raise RuntimeError('boom')
    assert dist.is_initialized()  # a failing job may still be waited on
    with training_job(cfg):
        pass
    assert not dist.is_initialized()
