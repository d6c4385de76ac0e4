# Copyright (c) cankd contributors. All rights reserved.
"""Draw a segmentor's prediction on a photo, next to the photo and, when
the photo is a Cityscapes-layout ``leftImg8bit`` image with its
``gtFine`` labels, the ground truth (ignored pixels left undrawn). Colours
are the dataset's palette; each class is named at its largest region.

    python tools/demo/draw_segmentation.py CONFIG CHECKPOINT --out OUT.png \
        [--image IMG] [--opacity 0.6]
"""
import argparse
import glob
import os.path as osp

import cankd  # noqa: F401  (safe checkpoint loading)
import cv2
import mmcv
import numpy as np
import torch
from mmseg.apis import inference_model, init_model

from cankd.utils import atomic_write


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw a segmentation')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--image',
        help='photo to segment (default: the first validation image of '
        'the config)')
    parser.add_argument('--opacity', type=float, default=0.6)
    return parser.parse_args()


def default_image(model) -> str:
    dataset = model.cfg.test_dataloader.dataset
    folder = osp.join(dataset.data_root, dataset.data_prefix.img_path)
    return sorted(glob.glob(osp.join(folder, '**', '*.png'),
                            recursive=True))[0]


def ground_truth(path: str):
    """The label map of an image in mmseg's Cityscapes layout
    (``leftImg8bit`` -> ``gtFine`` trainIds) or its generic one
    (``img_dir`` -> ``ann_dir``, same file name), or None."""
    if '/leftImg8bit/' in path:
        label = path.replace('leftImg8bit', 'gtFine', 1).replace(
            '_leftImg8bit.png', '_gtFine_labelTrainIds.png')
    else:
        label = path.replace('/img_dir/', '/ann_dir/', 1)
    if label == path or not osp.isfile(label):
        return None
    return mmcv.imread(label, flag='unchanged')


def enlarge(image: np.ndarray, min_side: int = 384) -> np.ndarray:
    """Small images (the 128x128 mosaics) scaled up by an integer factor,
    nearest neighbour, so that the class names stay legible."""
    factor = max(1, -(-min_side // min(image.shape[:2])))
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def overlay(image: np.ndarray, labels: np.ndarray, meta: dict,
            opacity: float) -> np.ndarray:
    """Blend the palette colour of every labelled pixel into ``image``
    (RGB); pixels with no class (255) keep the photo."""
    palette = np.asarray(meta['palette'], dtype=np.float32)
    out = image.astype(np.float32)
    known = labels < len(palette)
    out[known] = (1 - opacity) * out[known] + opacity * palette[
        labels[known]]
    out = out.astype(np.uint8)
    for label in np.unique(labels[known]):
        count, parts, stats, centres = cv2.connectedComponentsWithStats(
            (labels == label).astype(np.uint8))
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y = (int(v) for v in centres[largest])
        caption(out, meta['classes'][label], (x - 15, y))
    return out


def caption(image: np.ndarray, text: str, origin) -> None:
    for colour, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colour, width, cv2.LINE_AA)


def main() -> None:
    args = parse_args()
    model = init_model(args.config, args.checkpoint, device='cpu')
    path = args.image or default_image(model)
    image = mmcv.imread(path, channel_order='rgb')
    meta = model.dataset_meta

    labels = ground_truth(path)
    with torch.no_grad():
        prediction = inference_model(model, path).pred_sem_seg.data[0]
    image = enlarge(image)
    tiles = {'photo': image}
    if labels is not None:
        tiles['ground truth'] = overlay(image, enlarge(labels), meta,
                                        args.opacity)
    tiles['prediction'] = overlay(image, enlarge(prediction.numpy()), meta,
                                  args.opacity)
    for name, tile in tiles.items():
        caption(tile, name, (8, 20))
    grid = np.concatenate(
        [np.pad(t, ((0, 0), (0, 4), (0, 0))) for t in tiles.values()],
        axis=1)
    _, encoded = cv2.imencode('.png', grid[..., ::-1])
    atomic_write(encoded.tobytes(), args.out)
    print(f'saved {args.out} ({", ".join(tiles)}; {path})')


if __name__ == '__main__':
    main()
