# Copyright (c) cankd contributors. All rights reserved.
"""Draw a detector's predictions on a few images, tiled into one PNG.

    python tools/demo/draw_detections.py CONFIG CHECKPOINT --out OUT.png \
        [--images IMG ...] [--score-thr 0.3]
"""
import argparse
import glob
import os.path as osp

import cankd  # noqa: F401  (safe checkpoint loading)
import cv2
import mmcv
import numpy as np
from mmdet.apis import inference_detector, init_detector
from mmdet.registry import VISUALIZERS

from cankd.utils import atomic_write


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw detections')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--images', nargs='+',
        help='images to draw on (default: the first 6 validation images of '
        'the config)')
    parser.add_argument('--score-thr', type=float, default=0.3)
    return parser.parse_args()


def default_images(model, count: int = 6) -> list:
    dataset = model.cfg.test_dataloader.dataset
    folder = osp.join(dataset.data_root, dataset.data_prefix.img)
    return sorted(glob.glob(osp.join(folder, '*.png')))[:count]


def main() -> None:
    args = parse_args()
    model = init_detector(args.config, args.checkpoint, device='cpu')
    visualizer = VISUALIZERS.build(
        dict(type='DetLocalVisualizer', name='draw_detections'))
    visualizer.dataset_meta = model.dataset_meta
    tiles = []
    for path in args.images or default_images(model):
        image = mmcv.imread(path, channel_order='rgb')
        visualizer.add_datasample(
            osp.basename(path), image, inference_detector(model, path),
            draw_gt=False, pred_score_thr=args.score_thr, show=False)
        tiles.append(visualizer.get_image())
    height = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 4), (0, 0)))
             for t in tiles]
    grid = np.concatenate(tiles, axis=1)
    _, encoded = cv2.imencode('.png', grid[..., ::-1])
    atomic_write(encoded.tobytes(), args.out)
    print(f'saved {args.out} ({len(tiles)} images)')


if __name__ == '__main__':
    main()
