# Copyright (c) cankd contributors. All rights reserved.
"""Detection confusion matrices of several models, side by side in one
picture (the CanKD paper's supplementary Figures 1-2).

The counting is mmdet's own: ``calculate_confusion_matrix`` of the
``confusion_matrix.py`` analysis tool that mmdet installs beside its
package (``mmdet/.mim/tools/analysis_tools``), which is not importable as
a module, so it is loaded from its file. Rows are ground-truth classes
plus background (detections matching no object), columns predicted
classes plus background (objects no detection found).
"""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Mapping, Optional, Sequence

import numpy as np

from cankd.utils import atomic_save_figure


def mmdet_analysis_tool(name: str) -> ModuleType:
    """Load one of mmdet's ``tools/analysis_tools`` scripts as a module.

    Args:
        name (str): The script's name without ``.py``.

    Returns:
        ModuleType: The loaded script (its ``main`` is not run).

    Raises:
        FileNotFoundError: This mmdet installation has no such script.
    """
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                    'analysis_tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mmdet {mmdet.__version__} has no {path}: install mmdet from '
            'its wheel (pip install mmdet==3.3.0), which ships its tools.')
    spec = importlib.util.spec_from_file_location(f'mmdet_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detection_confusion_matrix(dataset, predictions: Sequence[dict],
                               score_thr: float = 0.3,
                               tp_iou_thr: float = 0.5,
                               source: str = 'the predictions') -> np.ndarray:
    """Count a detector's predictions against a dataset's objects.

    Args:
        dataset: The mmdet dataset the predictions were made on (its
            ``get_data_info(i)['instances']`` are the objects).
        predictions (Sequence[dict]): One dict per image with
            ``pred_instances`` (``bboxes``, ``scores``, ``labels``), as
            ``tools/test.py --out PREDICTIONS.pkl`` writes them.
        score_thr (float): Detections below it are ignored.
        tp_iou_thr (float): IoU at which a detection matches an object.
        source (str): Where the predictions come from, for errors.

    Returns:
        np.ndarray: Counts, shape (num_classes + 1, num_classes + 1); the
        last row and column are background.

    Raises:
        ValueError: The predictions are not one per image of the dataset.
    """
    if len(predictions) != len(dataset):
        raise ValueError(
            f'{source} holds {len(predictions)} predictions for a test set '
            f'of {len(dataset)} images: write them with tools/test.py '
            '--out PREDICTIONS.pkl on this config\'s test set.')
    missing = [i for i, p in enumerate(predictions)
               if 'pred_instances' not in p]
    if missing:
        raise ValueError(
            f'{source}: prediction {missing[0]} has no pred_instances; '
            'these are not detection predictions.')
    tool = mmdet_analysis_tool('confusion_matrix')
    return tool.calculate_confusion_matrix(
        dataset, predictions, score_thr=score_thr, tp_iou_thr=tp_iou_thr)


def row_percentages(matrix: np.ndarray) -> np.ndarray:
    """Each row as percentages of its sum, as mmdet draws it; rows that
    count nothing stay 0.

    Args:
        matrix (np.ndarray): Counts, shape (N, N).

    Returns:
        np.ndarray: float64, shape (N, N).
    """
    sums = matrix.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(100. * matrix, sums, out=np.zeros(matrix.shape),
                     where=sums > 0)


def plot_confusion_matrices(matrices: Mapping[str, np.ndarray],
                            class_names: Sequence[str], out: str,
                            title: Optional[str] = None) -> None:
    """Draw row-normalised confusion matrices side by side into one PNG.

    Args:
        matrices (Mapping[str, np.ndarray]): Counts per model name, each
            (num_classes + 1, num_classes + 1).
        class_names (Sequence[str]): The dataset's classes
            (``background`` is added).
        out (str): The PNG to write (atomically).
        title (str, optional): Figure title.

    Raises:
        ValueError: A matrix does not have the classes' shape.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    labels = list(class_names) + ['background']
    size = len(labels)
    for name, matrix in matrices.items():
        if matrix.shape != (size, size):
            raise ValueError(
                f'The confusion matrix of {name} is {matrix.shape}, not '
                f'({size}, {size}) for {size - 1} classes + background.')
    panels = len(matrices)
    cell = 0.42
    fig, axes = plt.subplots(
        1, panels, squeeze=False,
        figsize=(panels * (size * cell + 1.6) + 1.2, size * cell + 2.4),
        dpi=120)
    image = None
    for column, (ax, (name, matrix)) in enumerate(zip(axes[0],
                                                       matrices.items())):
        percent = row_percentages(matrix)
        image = ax.imshow(percent, cmap='viridis', vmin=0, vmax=100)
        for (i, j), value in np.ndenumerate(percent):
            if matrix[i, j]:
                ax.text(j, i, f'{value:.0f}', ha='center', va='center',
                        fontsize=6, color='w' if value < 60 else 'k')
        ax.set_title(name, fontsize=10, fontweight='bold')
        ax.set_xticks(range(size), labels, rotation=60, ha='right',
                      fontsize=7)
        ax.set_yticks(range(size), labels if column == 0 else [],
                      fontsize=7)
        ax.set_xlabel('predicted', fontsize=8)
        if column == 0:
            ax.set_ylabel('ground truth', fontsize=8)
    fig.colorbar(image, ax=list(axes[0]), fraction=0.02,
                 label='% of the ground-truth row')
    if title:
        fig.suptitle(title, fontsize=10)
    atomic_save_figure(fig, out)
