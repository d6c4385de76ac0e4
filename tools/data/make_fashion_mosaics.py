"""Builds detection and segmentation sets from real Fashion-MNIST product photos.

Fashion-MNIST (Debian ``dataset-fashion-mnist``, MIT) holds 70,000 real 28x28
grayscale photos of clothing items on a black background. Each canvas here gets
2-5 of them, each scaled 1-2.5x and pasted at a random place on a dark, slightly
noisy background, so that the ground truth is exact by construction:

* box: the tight box of the item's non-zero pixels after scaling (COCO
  ``[x, y, w, h]``, integer pixels, ``w = x_max - x_min + 1``);
* mask: the item's pixels whose scaled intensity is at least
  :data:`MASK_THRESHOLD` (of 255).

Items never overlap: their boxes are kept at least :data:`GAP` pixels apart, so
no item hides another and every box and mask is complete. Each item is tinted
with a random colour that does not depend on its class (the images are RGB, as
detector pipelines expect; colour tells nothing about the class), keeping the
photo's texture as brightness. Train canvases use items of the Fashion-MNIST
training set, val canvases items of its test set.

Outputs (under ``--out``, git-ignored):

``fashion_det/``
    COCO detection + instance segmentation: ``train/*.png``, ``val/*.png``,
    ``annotations/{train,val}.json``; 10 categories, ids 1..10 =
    :data:`FASHION_CLASSES` in order; ``segmentation`` is COCO compressed RLE
    (what ``pycocotools.mask.encode`` gives), ``area`` the mask's pixel count.
``fashion_seg/``
    mmseg semantic segmentation of the same canvases: ``img_dir/{train,val}/*.png``
    (RGB, hard links to the detection images) and ``ann_dir/{train,val}/*.png``.

Label map convention of ``fashion_seg``: uint8, **0 = background, k = class
k - 1 of** :data:`FASHION_CLASSES` **(1..10)**; the value 255 never occurs. For
mmseg that is 11 classes (``('background', *FASHION_CLASSES)``) with
``reduce_zero_label=False``.

Output is deterministic for a given ``--seed`` (and canvas size): canvas ``i``
of a split depends only on ``(seed, split, i)``, so ``--num-train 10`` gives the
first 10 canvases of ``--num-train 400``.

Usage::

    python tools/data/make_fashion_mosaics.py --out data --seed 0 \\
        --num-train 400 --num-val 100 --canvas 128
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from _common import (CocoBuilder, FetchError, atomic_dir, base_parser,
                     describe_coco, fetch_deb, is_up_to_date, link_or_copy, log,
                     resolve_cache, write_stamp)

#: Bump when the output changes for the same parameters, to invalidate old builds.
VERSION = 1

FASHION_DEB = 'dataset-fashion-mnist'
FASHION_DIR = 'usr/share/datasets/fashion-mnist'
FASHION_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                   'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
#: Output split -> (Fashion-MNIST file prefix, random stream id).
SPLITS = {'train': ('train', 0), 'val': ('t10k', 1)}

ITEM_SIZE = 28
SCALE_RANGE = (1.0, 2.5)
ITEMS_PER_CANVAS = (2, 5)
#: Scaled intensity (0..255) from which a pixel belongs to the item's mask.
MASK_THRESHOLD = 8
#: Intensity from which an item fully covers the background; below, it blends
#: in, so the faint rim that bilinear scaling adds looks natural.
OPAQUE_FROM = 16
#: Minimum distance in pixels between the boxes of two items.
GAP = 2
#: Placement attempts per item before a canvas settles for fewer items.
MAX_TRIES = 50
BACKGROUND_MAX = 40.0
NOISE_STD = 3.0
#: Range of each RGB channel of an item's tint (bright enough to stand out).
TINT_RANGE = (90.0, 255.0)
#: Brightness of an item's darkest pixels, as a fraction of its tint.
TINT_FLOOR = 0.25


@dataclass(frozen=True)
class Item:
    """One pasted product photo.

    Attributes:
        label: Fashion-MNIST class index (0..9).
        patch: The scaled grayscale photo, ``uint8``.
        x: Column of the patch's top-left corner on the canvas.
        y: Row of the patch's top-left corner on the canvas.
        box: Tight box of the patch's non-zero pixels on the canvas,
            ``(x0, y0, x1, y1)`` with inclusive ends.
    """

    label: int
    patch: np.ndarray
    x: int
    y: int
    box: tuple[int, int, int, int]


def read_idx(path: Path) -> np.ndarray:
    """Reads a gzipped IDX file (the MNIST format) into an array.

    Args:
        path (Path): ``*-idx1-ubyte.gz`` (labels) or ``*-idx3-ubyte.gz`` (images).

    Returns:
        np.ndarray: ``uint8`` array of shape ``(N,)`` or ``(N, 28, 28)``.
    """
    data = gzip.decompress(path.read_bytes())
    zero, dtype, ndim = data[0:2], data[2], data[3]
    if zero != b'\0\0' or dtype != 0x08:  # 0x08: unsigned bytes
        raise ValueError(f'{path} is not a uint8 IDX file')
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(root: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Loads one Fashion-MNIST split.

    Args:
        root (Path): Folder holding the ``*-ubyte.gz`` files.
        prefix (str): ``'train'`` or ``'t10k'``.

    Returns:
        tuple[np.ndarray, np.ndarray]: Images ``(N, 28, 28)`` and labels ``(N,)``, both ``uint8``.
    """
    images = read_idx(root / f'{prefix}-images-idx3-ubyte.gz')
    labels = read_idx(root / f'{prefix}-labels-idx1-ubyte.gz')
    if len(images) != len(labels):
        raise ValueError(f'{root}: {prefix} images and labels differ in number')
    return images, labels


def tight_box(patch: np.ndarray) -> tuple[int, int, int, int] | None:
    """Returns ``(x0, y0, x1, y1)`` (inclusive) of the non-zero pixels, None if there are none."""
    ys, xs = np.nonzero(patch)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def boxes_apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Tells whether two inclusive boxes are at least :data:`GAP` pixels apart."""
    return (a[2] + GAP < b[0] or b[2] + GAP < a[0]
            or a[3] + GAP < b[1] or b[3] + GAP < a[1])


def draw_item(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray,
              canvas: int) -> Item | None:
    """Draws a random photo, scale and position (the patch lies inside the canvas).

    Args:
        rng (np.random.Generator): The canvas's random generator.
        images (np.ndarray): Source photos ``(N, 28, 28)``.
        labels (np.ndarray): Their classes.
        canvas (int): Canvas side in pixels.

    Returns:
        Item | None: The candidate item, or None if its photo has no mask pixel at all.
    """
    index = int(rng.integers(len(images)))
    # Cap the scale so a patch always fits a small canvas.
    scale = rng.uniform(SCALE_RANGE[0], min(SCALE_RANGE[1], canvas / ITEM_SIZE))
    side = min(canvas, round(ITEM_SIZE * scale))
    patch = np.asarray(Image.fromarray(images[index]).resize(
        (side, side), Image.Resampling.BILINEAR))
    box = tight_box(patch)
    if box is None or not (patch >= MASK_THRESHOLD).any():
        return None
    x, y = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
    return Item(int(labels[index]), patch, x, y,
                (box[0] + x, box[1] + y, box[2] + x, box[3] + y))


def place_items(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray,
                canvas: int) -> list[Item]:
    """Chooses 2-5 items whose boxes do not overlap.

    Args:
        rng (np.random.Generator): The canvas's random generator.
        images (np.ndarray): Source photos.
        labels (np.ndarray): Their classes.
        canvas (int): Canvas side in pixels.

    Returns:
        list[Item]: At least ``ITEMS_PER_CANVAS[0]`` items (a crowded canvas may hold fewer
        than the number drawn).
    """
    wanted = int(rng.integers(ITEMS_PER_CANVAS[0], ITEMS_PER_CANVAS[1] + 1))
    while True:
        items: list[Item] = []
        for _ in range(wanted):
            for _ in range(MAX_TRIES):
                item = draw_item(rng, images, labels, canvas)
                if item is not None and all(boxes_apart(item.box, o.box) for o in items):
                    items.append(item)
                    break
        if len(items) >= ITEMS_PER_CANVAS[0]:
            return items
        # Rare: early large items left no room for the minimum; start over.


def render(rng: np.random.Generator, items: list[Item],
           canvas: int) -> tuple[np.ndarray, np.ndarray]:
    """Composes the RGB canvas and its semantic label map.

    Args:
        rng (np.random.Generator): The canvas's random generator (background, tints, noise).
        items (list[Item]): Non-overlapping items from :func:`place_items`.
        canvas (int): Canvas side in pixels.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``uint8`` image ``(canvas, canvas, 3)`` and ``uint8`` label
        map ``(canvas, canvas)`` (0 background, class + 1 on mask pixels).
    """
    image = np.empty((canvas, canvas, 3), np.float32)
    image[:] = rng.uniform(0.0, BACKGROUND_MAX, size=3)
    label_map = np.zeros((canvas, canvas), np.uint8)
    for item in items:
        tint = rng.uniform(*TINT_RANGE, size=3).astype(np.float32)
        value = item.patch.astype(np.float32)
        alpha = np.clip(value / OPAQUE_FROM, 0.0, 1.0)[..., None]
        colour = tint * (TINT_FLOOR + (1.0 - TINT_FLOOR) * value / 255.0)[..., None]
        h, w = item.patch.shape
        region = image[item.y:item.y + h, item.x:item.x + w]
        region[:] = region * (1.0 - alpha) + colour * alpha
        label_map[item.y:item.y + h, item.x:item.x + w][
            item.patch >= MASK_THRESHOLD] = item.label + 1
    image += rng.normal(0.0, NOISE_STD, size=image.shape).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), label_map


def item_mask(item: Item, canvas: int) -> np.ndarray:
    """Returns the item's mask on the whole canvas (bool ``(canvas, canvas)``)."""
    mask = np.zeros((canvas, canvas), bool)
    h, w = item.patch.shape
    mask[item.y:item.y + h, item.x:item.x + w] = item.patch >= MASK_THRESHOLD
    return mask


def rle_encode(mask: np.ndarray) -> dict:
    """Encodes a binary mask as COCO compressed RLE, like ``pycocotools.mask.encode``.

    Written out so the scripts need no pycocotools; the format: run lengths
    over the column-major pixels, starting with a run of zeros, each run stored
    as the difference to the run two back (from the third on) in 5-bit groups
    with a continuation bit, offset by 48 into printable characters.

    Args:
        mask (np.ndarray): Boolean array ``(height, width)``.

    Returns:
        dict: ``{'size': [height, width], 'counts': str}``.
    """
    flat = mask.T.reshape(-1).astype(bool)
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], changes, [flat.size]))).tolist()
    if flat.size and flat[0]:
        runs.insert(0, 0)  # the first run counts zeros
    chars = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift: negative deltas end at -1
            more = x != -1 if c & 0x10 else x != 0
            chars.append(chr(c + 48 + (0x20 if more else 0)))
    return {'size': [int(mask.shape[0]), int(mask.shape[1])], 'counts': ''.join(chars)}


def make_split(split: str, count: int, seed: int, canvas: int, source: Path,
               det: Path, seg: Path) -> tuple[dict, Counter]:
    """Generates one split into the detection and segmentation folders.

    Args:
        split (str): ``'train'`` or ``'val'``.
        count (int): Number of canvases.
        seed (int): Base random seed.
        canvas (int): Canvas side in pixels.
        source (Path): Folder of the Fashion-MNIST files.
        det (Path): The (temporary) ``fashion_det`` folder.
        seg (Path): The (temporary) ``fashion_seg`` folder.

    Returns:
        tuple[dict, Counter]: The split's COCO json content and a histogram of items per canvas.
    """
    prefix, stream = SPLITS[split]
    images, labels = load_fashion_mnist(source, prefix)
    coco = CocoBuilder(FASHION_CLASSES, f'Fashion-MNIST mosaics, {split}, seed {seed} '
                       '(see tools/data/make_fashion_mosaics.py)')
    per_canvas: Counter = Counter()
    for folder in (det / split, seg / 'img_dir' / split, seg / 'ann_dir' / split):
        folder.mkdir(parents=True)
    for index in range(count):
        # One generator per canvas: canvas i does not depend on how many precede it.
        rng = np.random.default_rng([seed, stream, index])
        items = place_items(rng, images, labels, canvas)
        image, label_map = render(rng, items, canvas)
        name = f'{index:06d}.png'
        Image.fromarray(image).save(det / split / name)
        link_or_copy(det / split / name, seg / 'img_dir' / split / name)
        Image.fromarray(label_map).save(seg / 'ann_dir' / split / name)
        image_id = coco.add_image(name, canvas, canvas)
        for item in items:
            x0, y0, x1, y1 = item.box
            mask = item_mask(item, canvas)
            coco.add_annotation(image_id, FASHION_CLASSES[item.label],
                                [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
                                rle_encode(mask), int(mask.sum()))
        per_canvas[len(items)] += 1
    coco.write(det / 'annotations' / f'{split}.json')
    return coco.to_dict(), per_canvas


def parse_args() -> argparse.Namespace:
    """Parses the command line."""
    parser = base_parser(__doc__.split('\n\n')[0])
    for flag, default, text in (('--seed', 0, 'base random seed'),
                                ('--num-train', 400, 'train canvases'),
                                ('--num-val', 100, 'val canvases'),
                                ('--canvas', 128, 'canvas side in pixels, at least 64')):
        parser.add_argument(flag, type=int, default=default,
                            help=text + ' (default: %(default)s)')
    args = parser.parse_args()
    if args.canvas < 64:
        parser.error('--canvas must be at least 64 to hold two items')
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must not be negative')
    return args


def main() -> int:
    """Runs the command line tool; returns the exit status."""
    args = parse_args()
    params = {'generator': 'make_fashion_mosaics', 'version': VERSION,
              'seed': args.seed, 'num_train': args.num_train,
              'num_val': args.num_val, 'canvas': args.canvas}
    det_dir, seg_dir = args.out / 'fashion_det', args.out / 'fashion_seg'
    if not args.force and all(is_up_to_date(d, params) for d in (det_dir, seg_dir)):
        log(f'{det_dir} and {seg_dir} are up to date (use --force to rebuild)')
        return 0
    try:
        source = fetch_deb(FASHION_DEB, resolve_cache(args), FASHION_DIR) / FASHION_DIR
    except FetchError as err:
        log(f'ERROR: {err}')
        return 1
    start = time.perf_counter()
    # Both folders are rebuilt together: they must hold the same canvases.
    with atomic_dir(det_dir) as det, atomic_dir(seg_dir) as seg:
        for split, count in (('train', args.num_train), ('val', args.num_val)):
            log(f'{split}: composing {count} canvases of {args.canvas}x{args.canvas}')
            coco, per_canvas = make_split(split, count, args.seed, args.canvas,
                                          source, det, seg)
            log(describe_coco(coco, f'fashion_det {split}'))
            log('    items per canvas: ' + ', '.join(
                f'{k}: {v}' for k, v in sorted(per_canvas.items())))
        write_stamp(det, params)
        write_stamp(seg, params)
    log(f'wrote {det_dir} and {seg_dir} in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
