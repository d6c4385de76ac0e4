# Copyright (c) cankd contributors. All rights reserved.
"""The loss benchmark's picture (``benchmark_loss.py --plot``): time and
peak memory of each method against the pixels of the feature map, log-log,
one line per method over every measured shape (the square sweep and the FPN
levels, which share batch and channels). A method's missing point (the
dense formulation where it does not fit, a skipped case) is left out of its
line and named in the legend."""
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402

from cankd.utils import atomic_save_figure  # noqa: E402

# The methods the plot shows by default: the claim (CanLoss against its
# dense formulation, against PKD, against its own convolutions).
PLOTTED = ('can_dot_product', 'dense', 'pkd', 'floor')
PANELS = (('time_ms', 'time per forward + backward (ms)'),
          ('peak_mib', 'peak memory (MiB)'))


def method_series(rows: Sequence[dict], method: str,
                  key: str) -> Dict[str, list]:
    """One method's measured points, sorted by pixels.

    Args:
        rows (Sequence[dict]): The benchmark's rows: ``shape`` (with
            ``pixels`` and ``label``) and ``methods`` (name -> result with
            ``status`` and, when ``'ok'``, ``time_ms`` and ``peak_mib``).
        method (str): A key of ``METHODS``.
        key (str): ``'time_ms'`` or ``'peak_mib'``.

    Returns:
        dict: ``pixels`` and ``values`` of the measured shapes, and
        ``missing``: the labels of the shapes where it was not measured.
    """
    points, missing = [], []
    for row in sorted(rows, key=lambda r: r['shape'].pixels):
        result = row['methods'].get(method)
        if result is None:
            continue
        if result['status'] == 'ok':
            points.append((row['shape'].pixels, result[key]))
        else:
            missing.append(row['shape'].label)
    return dict(pixels=[p for p, _ in points], values=[v for _, v in points],
                missing=missing)


def plot_sweep(rows: Sequence[dict], methods: Dict[str, str], title: str,
               path: str) -> List[str]:
    """Write the two log-log panels to ``path`` (PNG, atomically).

    Args:
        rows (Sequence[dict]): The benchmark's rows (see
            :func:`method_series`).
        methods (dict[str, str]): The methods to draw (names as in
            ``rows``) and their legend labels, in legend order.
        title (str): The figure's title (what was run, where).
        path (str): The PNG to write.

    Returns:
        list[str]: The methods drawn.
    """
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    drawn = [m for m in methods
             if method_series(rows, m, 'time_ms')['pixels']]
    for method in drawn:
        for panel, (key, label) in zip(axes, PANELS):
            series = method_series(rows, method, key)
            name = methods[method]
            if series['missing']:
                name += f' (not measured: {", ".join(series["missing"])})'
            panel.loglog(series['pixels'], series['values'], marker='o',
                         markersize=4, label=name)
            panel.set_xlabel('pixels of the feature map (H × W)')
            panel.set_ylabel(label)
            panel.grid(True, which='both', alpha=0.3)
    for panel in axes:
        panel.legend(fontsize=7)
    figure.suptitle(title, fontsize=9)
    atomic_save_figure(figure, path, dpi=120)
    return drawn
