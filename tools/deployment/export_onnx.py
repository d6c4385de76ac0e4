# Copyright (c) cankd contributors. All rights reserved.
"""Export a plain (converted) detection or segmentation student to ONNX with
mmdeploy 1.3.1, run it with onnxruntime beside PyTorch (the same graph,
mmdeploy's rewrites run eagerly) on the same images, and print max |delta|
of their outputs (with --eval, also the test-set mAP/mIoU of onnxruntime
and of the plain PyTorch model). Exits 1 when they differ beyond the
tolerances.

    python tools/deployment/export_onnx.py STUDENT_CONFIG STUDENT_CKPT \
        --out DIR [--dynamic] [--image IMG ...] [--eval]

Writes DIR/end2end.onnx and DIR/export_report.json. torch >= 2.9 exports
with dynamo by default, which breaks mmdeploy 1.3.1; cankd selects the
TorchScript exporter (dynamo=False) for the export (see
cankd/deploy/legacy_exporter.py).
"""
import argparse
import json
import os
import sys

from mmengine.config import Config

from cankd.deploy import (DEFAULT_ATOL, build_deploy_models, compare_outputs,
                          default_metric_atol, evaluate_both, export_onnx,
                          first_test_image, headline_metric)
from cankd.utils import atomic_write


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a student to ONNX and check it against PyTorch')
    parser.add_argument('config', help='plain mmdet/mmseg student config')
    parser.add_argument('checkpoint', help='converted student checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch size, height and width')
    parser.add_argument(
        '--image', nargs='+',
        help='images to export with and compare on (default: the first '
        'test image); a static export is traced on the first')
    parser.add_argument('--eval', action='store_true',
                        help='also evaluate both models on the test set')
    parser.add_argument('--opset', type=int, default=11)
    parser.add_argument('--atol-score', type=float,
                        default=DEFAULT_ATOL['score'])
    parser.add_argument('--atol-box', type=float, default=DEFAULT_ATOL['box'],
                        help='pixels')
    parser.add_argument('--atol-logit', type=float,
                        default=DEFAULT_ATOL['logit'])
    parser.add_argument(
        '--atol-metric', type=float,
        help='largest |delta| of mAP (0-1) or mIoU (%%) accepted (default: '
        '0.005 mAP, 0.5 mIoU)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    images = args.image or [first_test_image(cfg)]
    os.makedirs(args.out, exist_ok=True)
    export = export_onnx(cfg, args.checkpoint, args.out, images[0],
                         args.dynamic, args.opset, args.device)
    shape = ('dynamic batch, height and width' if export.input_shape is None
             else 'static 1x3x{1}x{0}'.format(*export.input_shape))
    print(f'exported {export.onnx_file} ({shape}, opset {args.opset})')

    models = build_deploy_models(export, args.checkpoint, args.device)
    atol = dict(score=args.atol_score, box=args.atol_box,
                logit=args.atol_logit)
    parity = compare_outputs(export, models, images, atol)
    for name, value in parity.max_abs.items():
        print(f'max |delta {name}| onnxruntime vs PyTorch: {value:.3g} '
              f'(tolerance {atol[name]:.3g})')
    print('counts: ' + ', '.join(f'{k} {v}' for k, v in parity.counts.items()))
    if parity.counts.get('mmdet', parity.counts.get('pytorch')) != \
            parity.counts.get('pytorch'):
        # Not a failure of the export: see cankd.deploy.compare_outputs.
        print('note: mmdeploy keeps the nms_pre best anchors of a level '
              '(all classes) before NMS, mmdet 3 the nms_pre best (anchor, '
              'class) pairs; the plain PyTorch model made '
              f'{parity.counts["mmdet"]} detections. The test-set metric '
              '(--eval) measures the difference.')
    failures = list(parity.failures)
    report = dict(onnx=export.onnx_file, input_shape=export.input_shape,
                  max_abs=parity.max_abs, counts=parity.counts)

    if args.eval:
        metrics = evaluate_both(export, models, args.out)
        key = headline_metric(export)
        tolerance = (args.atol_metric if args.atol_metric is not None else
                     default_metric_atol(export))
        delta = abs(metrics['pytorch'][key] - metrics['onnxruntime'][key])
        print(f'{key}: PyTorch {metrics["pytorch"][key]:.4f}, onnxruntime '
              f'{metrics["onnxruntime"][key]:.4f} (|delta| {delta:.4f}, '
              f'tolerance {tolerance})')
        if delta > tolerance:
            failures.append(f'|delta {key}| {delta:.4f} > {tolerance}')
        report.update(metric=key, metrics=metrics)

    report['failures'] = failures
    atomic_write(json.dumps(report, indent=2, default=float),
                 os.path.join(args.out, 'export_report.json'))
    if failures:
        sys.exit('ERROR: onnxruntime and PyTorch differ: ' +
                 '; '.join(failures))
    print('onnxruntime matches PyTorch')


if __name__ == '__main__':
    main()
