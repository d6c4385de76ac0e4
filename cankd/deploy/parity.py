# Copyright (c) cankd contributors. All rights reserved.
"""How far onnxruntime's outputs are from PyTorch's on the same inputs."""
import copy
from typing import Dict, List, NamedTuple, Sequence

import torch

from .deploy_config import codebase_of
from .onnx_export import DeployModels, OnnxExport, image_inputs

# Default tolerances on max |delta|: float32 kernels of two runtimes.
DEFAULT_ATOL = dict(score=1e-3, box=1e-2, logit=1e-3)


class ParityReport(NamedTuple):
    """The differences between the two runtimes over some images.

    Attributes:
        max_abs (Dict[str, float]): max |delta| per output: ``score`` and
            ``box`` (pixels) for a detector, ``logit`` for a segmentor.
        counts (Dict[str, int]): Detections (``pytorch``, ``onnxruntime``)
            or differing argmax pixels (``pixels_differing``, ``pixels``).
        failures (List[str]): What exceeded its tolerance; empty when the
            two agree.
    """
    max_abs: Dict[str, float]
    counts: Dict[str, int]
    failures: List[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def compare_outputs(export: OnnxExport,
                    models: DeployModels,
                    images: Sequence[str],
                    atol: Dict[str, float] = DEFAULT_ATOL) -> ParityReport:
    """Run both models on ``images`` and compare their outputs.

    Detectors: the scores (both sorted), and each onnxruntime box against
    the nearest PyTorch box of the same label (L-inf, pixels of the original
    image); the numbers of detections must match. Segmentors: the logits
    (``N x classes x H x W`` at the input size) from the same preprocessed
    input, and the argmax after both full pipelines.

    Args:
        export (OnnxExport): The export.
        models (DeployModels): Its PyTorch and onnxruntime models.
        images (Sequence[str]): Image paths.
        atol (Dict[str, float]): Tolerances on max |delta| per output.

    Returns:
        ParityReport: The differences.
    """
    batches = image_inputs(export, models, images)
    if codebase_of(export.model_cfg) == 'mmdet':
        max_abs, counts = _compare_detections(models, batches)
        failures = []
        if counts['pytorch'] != counts['onnxruntime']:
            failures.append(
                f'{counts["pytorch"]} detections in PyTorch, '
                f'{counts["onnxruntime"]} in onnxruntime')
    else:
        max_abs, counts = _compare_segmentations(models, batches)
        failures = []
    failures += [
        f'max |delta {name}| {value:.3g} > {atol[name]:.3g}'
        for name, value in max_abs.items() if value > atol[name]
    ]
    return ParityReport(max_abs, counts, failures)


@torch.no_grad()
def _compare_detections(models: DeployModels, batches: List[dict]):
    score = box = 0.0
    counts = dict(pytorch=0, onnxruntime=0)
    for data in batches:
        ref = models.pytorch.test_step(copy.deepcopy(data))[0].pred_instances
        out = models.onnxruntime.test_step(
            copy.deepcopy(data))[0].pred_instances
        counts['pytorch'] += len(ref)
        counts['onnxruntime'] += len(out)
        n = min(len(ref), len(out))
        if n == 0:
            continue
        ref_scores = ref.scores.sort(descending=True).values[:n]
        out_scores = out.scores.sort(descending=True).values[:n]
        score = max(score, (ref_scores - out_scores).abs().max().item())
        # Equal scores may come out in either order: pair each box with the
        # nearest one of the same label rather than by position.
        distance = torch.cdist(out.bboxes.float(), ref.bboxes.float(),
                               p=float('inf'))
        distance[out.labels[:, None] != ref.labels[None, :]] = float('inf')
        box = max(box, distance.min(dim=1).values.max().item())
    return dict(score=score, box=box), counts


@torch.no_grad()
def _compare_segmentations(models: DeployModels, batches: List[dict]):
    logit = 0.0
    counts = dict(pixels_differing=0, pixels=0)
    for data in batches:
        batch = models.pytorch.data_preprocessor(copy.deepcopy(data), False)
        inputs = batch['inputs']
        # As mmdeploy's traced forward: the input is the whole image.
        metas = [
            dict(sample.metainfo, img_shape=tuple(inputs.shape[-2:]))
            for sample in batch['data_samples']
        ]
        ref = models.pytorch.encode_decode(inputs, metas)
        out = models.onnxruntime.wrapper(dict(input=inputs))['output']
        logit = max(logit, (ref - out.to(ref)).abs().max().item())
        ref_pred = models.pytorch.test_step(
            copy.deepcopy(data))[0].pred_sem_seg.data
        out_pred = models.onnxruntime.test_step(
            copy.deepcopy(data))[0].pred_sem_seg.data
        counts['pixels_differing'] += int((ref_pred != out_pred).sum())
        counts['pixels'] += ref_pred.numel()
    return dict(logit=logit), counts
