# Copyright (c) cankd contributors. All rights reserved.
"""The test-set metrics of the PyTorch model and of its ONNX export, on
the same data."""
import copy
import os.path as osp
from typing import Dict, Optional

from .deploy_config import codebase_of
from .onnx_export import DeployModels, OnnxExport

# The metric printed side by side, and how far apart the two may be.
HEADLINE_METRIC = dict(mmdet='coco/bbox_mAP', mmseg='mIoU')
DEFAULT_METRIC_ATOL = dict(mmdet=0.005, mmseg=0.5)  # mAP in [0, 1]; mIoU %


def evaluation_dataloader(export: OnnxExport) -> dict:
    """The config's test dataloader, one image per batch.

    A static ONNX model has batch size 1, and a batched dynamic one would
    clip boxes to the padded batch shape rather than to each image: both
    models run image by image, so that they see the same inputs. A static
    export also resizes like its export (mmdeploy's ``Resize`` to the
    exported shape).

    Args:
        export (OnnxExport): The export.

    Returns:
        dict: A dataloader config.
    """
    dataloader = copy.deepcopy(export.model_cfg.test_dataloader)
    dataloader.batch_size = 1
    if export.input_shape is not None:
        for transform in dataloader.dataset.pipeline:
            if transform.get('type') in ('Resize', 'mmdet.Resize',
                                         'mmseg.Resize'):
                transform.update(scale=tuple(export.input_shape),
                                 keep_ratio=False)
    return dataloader


def evaluate_both(export: OnnxExport,
                  models: DeployModels,
                  work_dir: str,
                  dataloader: Optional[dict] = None) -> Dict[str, dict]:
    """Test-set metrics of both models with the config's evaluator.

    Args:
        export (OnnxExport): The export.
        models (DeployModels): Its PyTorch and onnxruntime models.
        work_dir (str): Where the test runners write their logs.
        dataloader (dict, optional): Defaults to
            :func:`evaluation_dataloader`.

    Returns:
        Dict[str, dict]: ``{'pytorch': metrics, 'onnxruntime': metrics}``.
    """
    dataloader = dataloader or evaluation_dataloader(export)
    metrics = {}
    for name in ('pytorch', 'onnxruntime'):
        runner = models.task_processor.build_test_runner(
            getattr(models, name), osp.join(work_dir, f'eval_{name}'),
            dataloader=copy.deepcopy(dataloader))
        metrics[name] = dict(runner.test())
    return metrics


def headline_metric(export: OnnxExport) -> str:
    """``coco/bbox_mAP`` for a detector, ``mIoU`` for a segmentor."""
    return HEADLINE_METRIC[codebase_of(export.model_cfg)]


def default_metric_atol(export: OnnxExport) -> float:
    """How far apart the two headline metrics may be by default."""
    return DEFAULT_METRIC_ATOL[codebase_of(export.model_cfg)]
