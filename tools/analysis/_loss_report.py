# Copyright (c) cankd contributors. All rights reserved.
"""What ``benchmark_loss.py`` prints: the tables of time and memory, the
check of the fast path against the dense one, and the verdicts on the
targets."""
from typing import List

from _loss_methods import METHODS


def ratio(numerator, denominator, key):
    if (numerator is None or denominator is None
            or numerator.get('status') != 'ok'
            or denominator.get('status') != 'ok'):
        return None
    return numerator[key] / denominator[key]


def fmt_cell(result) -> str:
    if result is None:
        return '—'
    if result['status'] == 'ok':
        mark = '' if result['repeats'] >= 3 else f' (n={result["repeats"]})'
        return f'{result["time_ms"]:.1f} / {result["peak_mib"]:.1f}{mark}'
    if result['status'] == 'does not fit':
        return f'does not fit ({result["dense_estimate_gib"]:.1f} GiB)'
    if result['status'] == 'skipped':
        return f'skipped (~{result["predicted_s"]:.0f} s)'
    return 'error'


def fmt_ratio(value, digits=1) -> str:
    return '—' if value is None else f'{value:.{digits}f}×'


def print_tables(rows, names) -> None:
    titles = [METHODS[name][0] for name in names]
    print('\nTime (ms, median) / peak memory (MiB), forward + backward:\n')
    header = (['shape'] + titles + [
        'dense/Can time', 'dense/Can mem', 'Can/PKD time', 'Can/floor time'])
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for row in rows:
        cells = [str(row['shape'])] + [
            fmt_cell(row['methods'].get(name)) for name in names]
        r = row['ratios']
        cells += [fmt_ratio(r['dense_over_can_time']),
                  fmt_ratio(r['dense_over_can_mem']),
                  fmt_ratio(r['can_over_pkd_time'], 2),
                  fmt_ratio(r['can_over_floor_time'], 2)]
        print('| ' + ' | '.join(cells) + ' |')

    print('\nCanLoss (dot product) vs DenseCanLoss, same inputs and '
          'parameters:\n')
    print('| shape | loss | abs diff loss | max abs diff grad_S | '
          'max abs grad_S | rel diff grad_S | dense mem est. / measured |')
    print('|---|---|---|---|---|---|---|')
    for row in rows:
        dense = row['methods'].get('dense')
        check = row['check']
        est = '—'
        if dense is not None and 'dense_estimate_gib' in dense:
            measured = (f'{dense["peak_mib"] / 1024:.3f} GiB'
                        if dense['status'] == 'ok' else dense['status'])
            est = f'{dense["dense_estimate_gib"]:.3f} GiB / {measured}'
        if check is None:
            reason = dense['note'] if dense and 'note' in dense else 'n/a'
            print(f'| {row["shape"]} | — | — | — | — | — | {est} |'
                  if reason == 'n/a' else
                  f'| {row["shape"]} | {reason} | | | | | {est} |')
            continue
        print(f'| {row["shape"]} | {check["loss_can"]:.6f} | '
              f'{check["loss_abs_diff"]:.2e} | {check["grad_abs_diff"]:.2e} | '
              f'{check["grad_abs_max"]:.2e} | {check["grad_rel_diff"]:.2e} | '
              f'{est} |')
    notes = {(row['shape'].label, name): res['note']
             for row in rows for name, res in row['methods'].items()
             if 'note' in res}
    if notes:
        print()
        for (label, name), note in notes.items():
            print(f'- {label} {METHODS[name][0]}: {note}')


def verdicts(rows) -> List[dict]:
    by_label = {row['shape'].label: row for row in rows
                if row['shape'].label.startswith('P')}
    out = []

    def add(target, status, detail):
        out.append(dict(target=target, status=status, detail=detail))

    for label, min_speed, min_mem in (('P2', 10, 20), ('P3', 5, None)):
        target = (f'{label}: CanLoss ≥{min_speed}× faster'
                  + (f' and ≥{min_mem}× less peak memory' if min_mem else '')
                  + ' than dense')
        row = by_label.get(label)
        if row is None:
            add(target, 'not measured', f'{label} not in this run')
            continue
        can, dense = (row['methods'].get('can_dot_product'),
                      row['methods'].get('dense'))
        if can is None or dense is None or can['status'] != 'ok':
            add(target, 'not measured', 'method not run')
            continue
        if dense['status'] == 'does not fit':
            need_mib = dense['dense_estimate_gib'] * 1024
            add(target, 'met', f'{dense["note"]}; CanLoss ran in '
                f'{can["time_ms"]:.0f} ms, {can["peak_mib"]:.0f} MiB: that '
                f'estimate is {need_mib / can["peak_mib"]:.1f}× CanLoss\'s '
                'peak memory')
            continue
        if dense['status'] != 'ok':
            add(target, 'not measured', dense.get('note', dense['status']))
            continue
        speed = row['ratios']['dense_over_can_time']
        mem = row['ratios']['dense_over_can_mem']
        missed = []
        if speed < min_speed:
            missed.append(f'speed-up {speed:.1f}× < {min_speed}× '
                          f'(missed by {min_speed / speed:.2f}×)')
        if min_mem and mem < min_mem:
            missed.append(f'memory {mem:.1f}× < {min_mem}× '
                          f'(missed by {min_mem / mem:.2f}×)')
        detail = f'{speed:.1f}× faster' + (
            f', {mem:.1f}× less memory' if min_mem else '')
        add(target, 'missed' if missed else 'met',
            detail + ('; ' + '; '.join(missed) if missed else ''))

    worst = []
    for label, row in by_label.items():
        value = row['ratios']['can_over_pkd_time']
        if value is not None:
            worst.append((value, label))
    target = 'CanLoss within 2× of PKD time at every level'
    if not worst:
        add(target, 'not measured', 'no level with both measured')
    else:
        ratios = ', '.join(f'{label} {value:.2f}×'
                           for value, label in sorted(worst, key=lambda x:
                                                      x[1]))
        ratios += _all_levels_over_pkd(by_label)
        bad = [(value, label) for value, label in worst if value > 2]
        if bad:
            value, label = max(bad)
            add(target, 'missed',
                f'CanLoss/PKD: {ratios}; worst {label} missed by '
                f'{value / 2:.2f}×' + _floor_over_pkd(by_label[label]))
        else:
            add(target, 'met', f'CanLoss/PKD: {ratios}')
    return out


def _all_levels_over_pkd(by_label) -> str:
    """What one FPN training step pays: every level's loss, summed."""
    rows = list(by_label.values())
    pairs = [(row['methods'].get('can_dot_product'), row['methods'].get('pkd'))
             for row in rows]
    if any(ratio(can, pkd, 'time_ms') is None for can, pkd in pairs):
        return ''
    can_ms = sum(can['time_ms'] for can, _ in pairs)
    pkd_ms = sum(pkd['time_ms'] for _, pkd in pairs)
    return (f'; all {len(rows)} levels summed (one training step) '
            f'{can_ms / pkd_ms:.2f}×')


def _floor_over_pkd(row) -> str:
    value = ratio(row['methods'].get('floor'), row['methods'].get('pkd'),
                  'time_ms')
    if value is None:
        return ''
    return f"; there the four 1×1 convs alone take {value:.2f}× PKD's time"
