"""Builds a mini-ImageNet of real Fashion-MNIST product photos for classification.

The folder layout is ImageNet's as mmpretrain reads it, so that its own
``ImageNet`` dataset (and ``CustomDataset``) loads it unchanged with only
``data_root`` and the class names swapped::

    fashion_cls/
      train/<class>/000000.png ...   val/<class>/000000.png ...
      meta/train.txt  meta/val.txt   ("<class>/000000.png <label>" lines)
      meta/classes.txt               (the class names, label order)

Each image is one Fashion-MNIST photo (Debian ``dataset-fashion-mnist``,
MIT), scaled 2-4x and pasted at a random place on a dark, noisy canvas with
a random tint, drawn exactly like the items of the detection mosaics
(``make_fashion_mosaics.py``): the class is the photo's, the tint tells
nothing about it. Classes are balanced (image ``i`` of a split shows class
``i % 10``); train images come from the Fashion-MNIST training set, val
images from its test set. Deterministic for a given ``--seed``: image ``i``
of a split depends only on ``(seed, split, i)``.

Usage::

    python tools/data/make_fashion_imagenet.py --out data --seed 0 \\
        --num-train 1000 --num-val 500 --canvas 128
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from _common import (FetchError, atomic_dir, base_parser, fetch_deb,
                     is_up_to_date, log, resolve_cache, write_stamp)
from make_fashion_mosaics import (FASHION_CLASSES, FASHION_DEB, FASHION_DIR,
                                  ITEM_SIZE, Item, load_fashion_mnist, render,
                                  tight_box)

#: Bump when the output changes for the same parameters, to invalidate old builds.
VERSION = 1
#: Folder names of the classes, in label order (file-system safe).
CLASS_DIRS = tuple(name.lower().replace('/', '_').replace(' ', '_')
                   for name in FASHION_CLASSES)
#: Output split -> (Fashion-MNIST file prefix, random stream id); stream ids
#: differ from the mosaics' so the two sets are drawn independently.
SPLITS = {'train': ('train', 10), 'val': ('t10k', 11)}
SCALE_RANGE = (2.0, 4.0)


def draw_photo(rng: np.random.Generator, images: np.ndarray, label: int,
               canvas: int) -> Item:
    """Draws a photo of class ``label``, its scale and its position.

    Args:
        rng: The image's random generator.
        images: The split's photos of class ``label``, ``(N, 28, 28)``.
        label: Fashion-MNIST class index (0..9).
        canvas: Canvas side in pixels.

    Returns:
        The item to render, lying entirely inside the canvas.
    """
    while True:
        photo = images[int(rng.integers(len(images)))]
        scale = rng.uniform(*SCALE_RANGE)
        side = min(canvas, round(ITEM_SIZE * scale))
        patch = np.asarray(Image.fromarray(photo).resize(
            (side, side), Image.Resampling.BILINEAR))
        box = tight_box(patch)
        if box is not None:  # a few photos are (almost) blank
            break
    x, y = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
    return Item(label, patch, x, y,
                (box[0] + x, box[1] + y, box[2] + x, box[3] + y))


def make_split(split: str, count: int, seed: int, canvas: int, source: Path,
               out: Path) -> None:
    """Writes one split's images and its ``meta/<split>.txt``.

    Args:
        split: ``'train'`` or ``'val'``.
        count: Number of images (class ``i % 10`` for image ``i``).
        seed: Base random seed.
        canvas: Image side in pixels.
        source: Folder of the Fashion-MNIST files.
        out: The (temporary) ``fashion_cls`` folder.
    """
    prefix, stream = SPLITS[split]
    images, labels = load_fashion_mnist(source, prefix)
    by_class = [images[labels == k] for k in range(len(CLASS_DIRS))]
    for name in CLASS_DIRS:
        (out / split / name).mkdir(parents=True)
    lines = []
    for index in range(count):
        rng = np.random.default_rng([seed, stream, index])
        label = index % len(CLASS_DIRS)
        item = draw_photo(rng, by_class[label], label, canvas)
        image, _ = render(rng, [item], canvas)
        relative = f'{CLASS_DIRS[label]}/{index:06d}.png'
        Image.fromarray(image).save(out / split / relative)
        lines.append(f'{relative} {label}\n')
    (out / 'meta' / f'{split}.txt').write_text(''.join(lines))


def parse_args():
    """Parses the command line."""
    parser = base_parser(__doc__.split('\n\n')[0])
    for flag, default, text in (('--seed', 0, 'base random seed'),
                                ('--num-train', 1000, 'train images'),
                                ('--num-val', 500, 'val images'),
                                ('--canvas', 128, 'image side in pixels, at least 112')):
        parser.add_argument(flag, type=int, default=default,
                            help=text + ' (default: %(default)s)')
    args = parser.parse_args()
    if args.canvas < ITEM_SIZE * SCALE_RANGE[1]:
        parser.error(f'--canvas must be at least {int(ITEM_SIZE * SCALE_RANGE[1])}')
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must not be negative')
    return args


def main() -> int:
    """Runs the command line tool; returns the exit status."""
    args = parse_args()
    params = {'generator': 'make_fashion_imagenet', 'version': VERSION,
              'seed': args.seed, 'num_train': args.num_train,
              'num_val': args.num_val, 'canvas': args.canvas}
    out_dir = args.out / 'fashion_cls'
    if not args.force and is_up_to_date(out_dir, params):
        log(f'{out_dir} is up to date (use --force to rebuild)')
        return 0
    try:
        source = fetch_deb(FASHION_DEB, resolve_cache(args), FASHION_DIR) / FASHION_DIR
    except FetchError as err:
        log(f'ERROR: {err}')
        return 1
    start = time.perf_counter()
    with atomic_dir(out_dir) as out:
        (out / 'meta').mkdir()
        (out / 'meta' / 'classes.txt').write_text(
            ''.join(f'{name}\n' for name in FASHION_CLASSES))
        for split, count in (('train', args.num_train), ('val', args.num_val)):
            log(f'{split}: {count} images of {args.canvas}x{args.canvas}, '
                f'{len(CLASS_DIRS)} balanced classes')
            make_split(split, count, args.seed, args.canvas, source, out)
        write_stamp(out, params)
    log(f'wrote {out_dir} in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
