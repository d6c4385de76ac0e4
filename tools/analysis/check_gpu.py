# Copyright (c) cankd contributors. All rights reserved.
"""Check a CUDA set-up: mmcv's CUDA ops, CanLoss on CUDA and NCCL, against CPU.

    python tools/analysis/check_gpu.py [--device cuda:0] [--compile-only]

Build checks (no GPU needed): torch is a CUDA build, mmcv's ops were compiled
with CUDA of torch's major version, torch has NCCL. GPU checks: mmcv nms and
RoIAlign (forward and backward) on CUDA against their CPU kernels, CanLoss
forward and backward (all three affinities) on CUDA against CPU in fp32 and
under ``torch.autocast`` (float16, bfloat16), and a one-process NCCL process
group. Without a GPU the GPU checks are listed as skipped, with the reason.

Exit status: 0 when every check passed (with ``--compile-only``: when none
failed, skipped GPU checks accepted); 1 otherwise. ``make setup`` runs this at
the end of a CUDA set-up (``--compile-only`` when no GPU is visible).
"""
import argparse
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
import torch
from cankd.utils.gpu_check import exit_code, no_gpu_reason, report, run_checks


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda:0',
                        help='CUDA device of the GPU checks (default cuda:0)')
    parser.add_argument('--compile-only', action='store_true',
                        help='accept skipped GPU checks (a machine without '
                        'GPU that built the CUDA stack)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.device.startswith('cuda'):
        print(f'check_gpu.py: --device {args.device}: expected a CUDA '
              'device such as cuda:0', file=sys.stderr)
        return 2
    results = run_checks(args.device)
    reason = no_gpu_reason(torch.device(args.device))
    device_name = (torch.cuda.get_device_name(args.device)
                   if reason is None else 'no GPU')
    print(report(results, args.compile_only, device_name))
    return exit_code(results, args.compile_only)


if __name__ == '__main__':
    sys.exit(main())
