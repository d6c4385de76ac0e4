# Copyright (c) cankd contributors. All rights reserved.
"""Parameters and FLOPs of distillation losses for one input shape.

    python tools/analysis/complexity.py [--shape B C H W] [--json PATH]

Counts every convolution and every matrix product, the attention matmuls
included (the paper's thop count of Table 5 leaves them out), for CanLoss
(fast path and the softmax affinities), the dense formulation of the paper
(``DenseCanLoss``, shared with ``benchmark_loss.py``) and MMRazor's PKD, MGD
(``MGDConnector`` + ``MGDLoss``) and CWD.

Counters:

- ``torch.utils.flop_counter.FlopCounterMode`` (main columns): counts
  ``mm``/``bmm``/``addmm`` and convolutions (forward and backward) at
  2 FLOPs per multiply-add; elementwise ops, norms and pooling are not
  counted. It has no formula for the CPU fused attention kernel of the
  softmax affinities (``_scaled_dot_product_flash_attention_for_cpu`` and
  its backward); this tool adds one through ``custom_mapping``, built from
  PyTorch's own SDPA formulas (the two matmuls ``Qᵀ K`` and ``A V``; the
  backward recomputes ``Qᵀ K``). Attention FLOPs are in the matmul column.
- ``mmengine.analysis.FlopAnalyzer`` (cross-check, forward): the fvcore
  convention, 1 "FLOP" per multiply-add, counts ``bmm`` and convolutions and
  also batch/instance norm; it has no handle for fused attention (the
  softmax affinities are undercounted there, marked ``*``).
"""
import argparse
import json
import sys
import warnings

import torch
from torch.utils.flop_counter import (FlopCounterMode,
                                      sdpa_backward_flop_count,
                                      sdpa_flop_count)

from _loss_methods import METHODS, build_methods

PAPER = dict(gflops=1.09, params_m=0.13)  # paper Table 5, CanKD
aten = torch.ops.aten


def _cpu_sdpa_flop(query, key, value, *args, out_val=None, **kwargs):
    return sdpa_flop_count(query.shape, key.shape, value.shape)


def _cpu_sdpa_backward_flop(grad_out, query, key, value, *args, out_val=None,
                            **kwargs):
    return sdpa_backward_flop_count(grad_out.shape, query.shape, key.shape,
                                    value.shape)


_cpu_sdpa_flop._get_raw = True  # takes tensors, not shapes
_cpu_sdpa_backward_flop._get_raw = True
CUSTOM_MAPPING = {
    aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flop,
    aten._scaled_dot_product_flash_attention_for_cpu_backward:
    _cpu_sdpa_backward_flop,
}
NAMES = ('can_dot_product', 'can_gaussian', 'can_embedded_gaussian', 'dense',
         'pkd', 'mgd', 'cwd')


def count_flops(module, inputs, backward: bool):
    """FLOPs by operator (FlopCounterMode), forward or forward + backward."""
    s_feature, t_feature = inputs
    s_feature = s_feature.detach().requires_grad_(backward)
    counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_MAPPING)
    with counter:
        loss = module(s_feature, t_feature)
        if backward:
            loss.backward()
    by_op = {str(op).split('.')[-1]: n
             for op, n in counter.get_flop_counts().get('Global', {}).items()}
    return counter.get_total_flops(), by_op


def split(by_op):
    """(convolution FLOPs, matmul FLOPs: mm/bmm/addmm, attention included)"""
    conv = sum(n for op, n in by_op.items() if 'conv' in op)
    return conv, sum(by_op.values()) - conv


def flop_analyzer_macs(module, inputs):
    """Forward multiply-adds by mmengine's FlopAnalyzer (jit trace)."""
    from mmengine.analysis import FlopAnalyzer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            analyzer = FlopAnalyzer(module, inputs)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            total = analyzer.total()
            unsupported = analyzer.unsupported_ops()
    except Exception as error:  # tracing can fail: report, do not crash
        return None, f'{type(error).__name__}: {error}'
    missed = sorted(op for op in unsupported
                    if 'attention' in op or 'baddbmm' in op)
    return total, ', '.join(missed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs of distillation losses')
    parser.add_argument('--shape', type=int, nargs=4, default=(2, 256, 64, 64),
                        metavar=('B', 'C', 'H', 'W'),
                        help='student/teacher feature shape (default the '
                        "paper's 2 256 64 64)")
    parser.add_argument('--methods', nargs='+', default=list(NAMES),
                        choices=NAMES)
    parser.add_argument('--no-backward', action='store_true',
                        help='skip the forward + backward count')
    parser.add_argument('--no-flop-analyzer', action='store_true',
                        help='skip the mmengine FlopAnalyzer cross-check')
    parser.add_argument('--json', metavar='PATH', help='write results here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    shape = tuple(args.shape)
    torch.manual_seed(0)
    inputs = (torch.randn(shape), torch.randn(shape))
    modules = build_methods(shape[1], args.methods)
    rows = []
    for name in args.methods:
        module = modules[name]
        params = sum(p.numel() for p in module.parameters())
        fwd, by_op = count_flops(module, inputs, backward=False)
        conv, matmul = split(by_op)
        row = dict(method=name, title=METHODS[name][0], params=params,
                   fwd_flops=fwd, fwd_conv_flops=conv,
                   fwd_matmul_flops=matmul, fwd_by_op=by_op)
        if not args.no_backward:
            row['fwd_bwd_flops'], row['fwd_bwd_by_op'] = count_flops(
                module, inputs, backward=True)
        if not args.no_flop_analyzer:
            row['flop_analyzer_macs'], row['flop_analyzer_missed'] = (
                flop_analyzer_macs(module, inputs))
        rows.append(row)

    print(f'# Complexity at input {"×".join(map(str, shape))} '
          '(student and teacher), torch', torch.__version__)
    print('FLOPs: torch.utils.flop_counter.FlopCounterMode, 2 FLOPs per '
          'multiply-add, convs + matmuls (attention included: bmm, and the '
          'CPU fused attention kernel with PyTorch\'s SDPA formula); '
          'GMAC = GFLOPs/2. '
          'FlopAnalyzer: mmengine.analysis.FlopAnalyzer, multiply-adds '
          '(fvcore convention), forward, also counts BN/IN.\n')
    header = ['method', 'params', 'fwd GFLOPs: conv', 'matmul', 'total',
              'fwd GMAC']
    if not args.no_backward:
        header.append('fwd+bwd GFLOPs')
    if not args.no_flop_analyzer:
        header.append('FlopAnalyzer GMAC')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for row in rows:
        cells = [row['title'], f'{row["params"]:,}',
                 f'{row["fwd_conv_flops"] / 1e9:.3f}',
                 f'{row["fwd_matmul_flops"] / 1e9:.3f}',
                 f'{row["fwd_flops"] / 1e9:.3f}',
                 f'{row["fwd_flops"] / 2e9:.3f}']
        if 'fwd_bwd_flops' in row:
            cells.append(f'{row["fwd_bwd_flops"] / 1e9:.3f}')
        if 'flop_analyzer_macs' in row:
            macs = row['flop_analyzer_macs']
            cells.append('n/a' if macs is None else f'{macs / 1e9:.3f}' +
                         ('*' if row['flop_analyzer_missed'] else ''))
        print('| ' + ' | '.join(cells) + ' |')
    if any(row.get('flop_analyzer_missed') for row in rows):
        print('\n\\* FlopAnalyzer has no handle for some ops and leaves '
              'them out: ' + '; '.join(
                  f'{row["title"]}: {row["flop_analyzer_missed"]}'
                  for row in rows if row.get('flop_analyzer_missed')) + '.')

    by_name = {row['method']: row for row in rows}
    if 'can_gaussian' in by_name:
        print('\nCanLoss gauss: no θ/φ, so Qᵀ K has C (not C\') channels, '
              'and cankd zero-pads V to C for the fused kernel: counted as '
              'it runs.')
    can, dense = by_name.get('can_dot_product'), by_name.get('dense')
    if can is not None and dense is not None:
        layer_gmac = dense['fwd_conv_flops'] / 2e9
        print(f'\nPaper Table 5 (CanKD, 2×256×64×64): {PAPER["gflops"]} '
              f'"GFLOPs", {PAPER["params_m"]} M params. Here: '
              f'{can["params"]:,} params ({can["params"] / 1e6:.2f} M); '
              f'the four 1×1 conv layers θ, φ, g, W_z, run as layers (the '
              f'dense formulation), are {layer_gmac:.3f} GMAC.')
        print('The paper\'s number is thop\'s: multiply-adds (not 2×) of '
              'the nn.Module layers (convs, plus BN), so it matches those '
              'layers\' GMAC; thop does not see torch.bmm, so the attention '
              'matmuls (and the dense formulation\'s quadratic ones) are '
              'missing from it.')
        print(f'What CanLoss runs: φ and g as one convolution '
              f'({can["fwd_conv_flops"] / 2e9:.3f} GMAC), θ, the attention '
              'and W_z folded into one C×C matrix per sample, applied by one '
              f'matmul ({can["fwd_matmul_flops"] / 2e9:.3f} GMAC of matmuls '
              f'in all): {can["fwd_flops"] / 2e9:.3f} GMAC forward, '
              'attention included. The dense formulation: '
              f'{dense["fwd_flops"] / 2e9:.3f} GMAC, '
              f'{dense["fwd_flops"] / can["fwd_flops"]:.2f}× as much.')

    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(shape=list(shape), rows=rows, paper=PAPER), f,
                      indent=2)
        print(f'\nwrote {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
