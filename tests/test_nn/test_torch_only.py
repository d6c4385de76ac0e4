# Copyright (c) cankd contributors. All rights reserved.
"""CanKD in a plain PyTorch training loop: a virtual environment with torch
(and numpy) and nothing of the OpenMMLab stack, nor torchvision,
cankd installed without dependencies, and a student trained against a
teacher's feature map with ``cankd.nn.CanKDLoss`` - without a warning.

``CanLoss`` (the MMRazor-registered module) is the same module: same state
dict, same numbers."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from cankd.models import CanLoss
from cankd.nn import CanKDLoss

ROOT = Path(__file__).resolve().parents[2]

PLAIN_LOOP = textwrap.dedent("""
    import json
    import sys
    import torch
    from torch import nn
    from cankd.nn import CanKDLoss

    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1),
                            nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1))
    student = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1),
                            nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1))
    teacher.requires_grad_(False)
    criterion = CanKDLoss(in_channels=32, loss_weight=10)
    optimizer = torch.optim.SGD(
        [*student.parameters(), *criterion.parameters()], lr=0.05)
    images = torch.randn(4, 3, 32, 32)
    losses = []
    for _ in range(20):
        loss = criterion(student(images), teacher(images))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    stack = [m for m in ('mmcv', 'mmengine', 'mmrazor', 'mmdet',
                         'torchvision') if m in sys.modules]
    print(json.dumps(dict(first=losses[0], last=losses[-1], stack=stack)))
    """)


@pytest.fixture(scope='module')
def torch_only_venv(tmp_path_factory) -> Path:
    """A venv with torch (the set-up's pinned wheel) and cankd, no deps."""
    venv = tmp_path_factory.mktemp('torch-only') / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    python = venv / 'bin' / 'python'
    pins = (ROOT / 'requirements' / 'build.txt').read_text().splitlines()
    torch_pin = next(line for line in pins if line.startswith('torch=='))
    # numpy too: torch itself warns at import without it.
    subprocess.run(
        [str(python), '-m', 'pip', 'install', '-q', torch_pin, 'numpy'],
        check=True, timeout=900)
    # Install a copy, so the build leaves nothing in the checkout.
    source = venv.parent / 'source'
    source.mkdir()
    for item in ('setup.py', 'README.md', 'requirements', 'cankd'):
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, source / item)
    subprocess.run([str(python), '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', str(source)],
                   check=True, timeout=600)
    return python


@pytest.mark.slow
def test_a_plain_pytorch_loop_trains_with_torch_alone(torch_only_venv):
    listed = subprocess.run(
        [str(torch_only_venv), '-m', 'pip', 'list', '--format=freeze'],
        capture_output=True, text=True, check=True).stdout
    names = {line.split('==')[0].lower() for line in listed.splitlines()}
    assert 'cankd' in names and 'torch' in names
    assert not any(name.startswith(('mm', 'torchvision')) for name in names)

    result = subprocess.run(
        [str(torch_only_venv), '-W', 'error', '-c', PLAIN_LOOP],
        capture_output=True, text=True, timeout=300, cwd=torch_only_venv.parent)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    trained = json.loads(result.stdout)
    assert trained['last'] < 0.8 * trained['first']
    assert trained['stack'] == [], 'an OpenMMLab module was imported'


def test_canloss_is_cankdloss_in_the_registry():
    torch.manual_seed(0)
    plain = CanKDLoss(16, loss_weight=10).double()
    torch.manual_seed(0)
    registered = CanLoss(16, loss_weight=10).double()
    for module in (plain, registered):
        torch.manual_seed(1)
        for param in module.parameters():
            param.data.normal_()
    s, t = torch.randn(2, 16, 12, 10).double(), torch.randn(2, 16, 12,
                                                            10).double()

    assert isinstance(registered, CanKDLoss)
    assert list(plain.state_dict()) == list(registered.state_dict())
    assert torch.equal(plain(s, t), registered(s, t))
