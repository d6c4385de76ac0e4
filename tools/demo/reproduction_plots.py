# Copyright (c) cankd contributors. All rights reserved.
"""The two pictures of the CPU-sized reproductions
(tools/demo/reproduce_detection.py, reproduce_segmentation.py): the
validation metric against the training iteration for every method (mean
over seeds, a ± 1 sample std band), and the final metric per method (mean,
± 1 sample std error bars, one dot per seed). The teacher is a dashed line
on both."""
import statistics
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')  # files only: no display on a training machine
import matplotlib.pyplot as plt  # noqa: E402

from cankd.utils import atomic_save_figure  # noqa: E402


def seed_band(runs: Sequence[dict],
              key: str) -> Tuple[List[int], List[float], List[float]]:
    """Mean and sample std over seeds at the iterations every seed
    validated.

    Args:
        runs (Sequence[dict]): One method's runs, each with a ``curve``:
            a list of ``{'iter': int, key: float, ...}``.
        key (str): The metric, e.g. ``'coco/bbox_mAP'``.

    Returns:
        tuple[list[int], list[float], list[float]]: Iterations, means and
        stds (0 with one seed).
    """
    per_seed = [{point['iter']: point[key] for point in run['curve']}
                for run in runs]
    iters = sorted(set.intersection(*(set(c) for c in per_seed)))
    values = [[curve[i] for curve in per_seed] for i in iters]
    means = [statistics.mean(v) for v in values]
    stds = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
    return iters, means, stds


def _by_method(runs: Sequence[dict],
               titles: Dict[str, str]) -> Dict[str, List[dict]]:
    return {m: [r for r in runs if r['method'] == m] for m in titles
            if any(r['method'] == m for r in runs)}


def plot_curves(teacher: dict, runs: Sequence[dict], titles: Dict[str, str],
                metric: Tuple[str, str], path: str) -> str:
    """Validation metric against training iteration, per method.

    Args:
        teacher (dict): The teacher's metrics (a dashed line).
        runs (Sequence[dict]): Every run, each with ``method`` and
            ``curve``.
        titles (dict[str, str]): Method -> legend label, in legend order.
        metric (tuple[str, str]): Key and axis label, e.g.
            ``('coco/bbox_mAP', 'bbox mAP')``.
        path (str): The PNG to write.

    Returns:
        str: ``path``.
    """
    key, label = metric
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for method, mine in _by_method(runs, titles).items():
        iters, means, stds = seed_band(mine, key)
        line, = axes.plot(iters, means, marker='o', markersize=3,
                          label=f'{titles[method]} (n={len(mine)})')
        axes.fill_between(iters, [m - s for m, s in zip(means, stds)],
                          [m + s for m, s in zip(means, stds)],
                          color=line.get_color(), alpha=0.2, linewidth=0)
    axes.axhline(teacher[key], color='black', linestyle='--', linewidth=1,
                 label='teacher')
    axes.set_ylim(bottom=0)  # an mAP or mIoU; the band may dip below 0
    axes.set_xlabel('training iteration')
    axes.set_ylabel(f'validation {label}')
    axes.set_title(f'{label} during training: mean over seeds, '
                   '± 1 sample std band')
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return atomic_save_figure(figure, path, dpi=120)


def plot_final(teacher: dict, runs: Sequence[dict], titles: Dict[str, str],
               metric: Tuple[str, str], path: str) -> str:
    """Final metric per method: mean bar, ± 1 sample std error bar and
    one dot per seed.

    Args:
        teacher (dict): The teacher's metrics (a dashed line).
        runs (Sequence[dict]): Every run, each with ``method`` and the
            final metric at the top level.
        titles (dict[str, str]): Method -> bar label, in bar order.
        metric (tuple[str, str]): Key and axis label.
        path (str): The PNG to write.

    Returns:
        str: ``path``.
    """
    key, label = metric
    by_method = _by_method(runs, titles)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for x, mine in enumerate(by_method.values()):
        values = [r[key] for r in mine]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        axes.bar(x, statistics.mean(values), yerr=std, capsize=6,
                 color=f'C{x}', alpha=0.7)
        axes.scatter([x] * len(values), values, color='black', s=12,
                     zorder=3)
    axes.axhline(teacher[key], color='black', linestyle='--', linewidth=1,
                 label='teacher')
    axes.set_ylim(bottom=0)
    axes.set_xticks(range(len(by_method)))
    axes.set_xticklabels([titles[m].replace('student, ', '')
                          for m in by_method], fontsize=8)
    axes.set_ylabel(f'final {label}')
    axes.set_title(f'{label} at the end of training: mean ± 1 sample std, '
                   'dots = seeds', fontsize=10)
    axes.grid(axis='y', alpha=0.3)
    axes.legend(fontsize=8)
    return atomic_save_figure(figure, path, dpi=120)
