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
        counts (Dict[str, int]): Detections (``pytorch``, ``onnxruntime``,
            and ``mmdet``: the plain PyTorch model's, see
            :func:`compare_outputs`) or differing argmax pixels
            (``pixels_differing``, ``pixels``).
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

    Both run what was exported, on the same preprocessed input: onnxruntime
    the ONNX graph, PyTorch the model under mmdeploy's rewriters (the graph
    before tracing). Detectors: the ``dets`` scores (both sorted) and each
    onnxruntime box against the nearest PyTorch box of the same label
    (L-inf, input pixels); the numbers of detections must match.
    Segmentors: the logits (``N x classes x H x W``), and the argmax after
    both full pipelines.

    mmdeploy's detection heads keep the ``nms_pre`` best *anchors* of a
    level (all their classes) before NMS, where mmdet 3 keeps the
    ``nms_pre`` best (anchor, class) pairs: when a level has more than
    ``nms_pre`` pairs above ``score_thr``, the exported model keeps more
    candidates than mmdet's PyTorch model. ``counts['mmdet']`` reports the
    plain model's detections; the test-set metric of both
    (:func:`cankd.deploy.evaluate_both`) measures what that changes.

    Args:
        export (OnnxExport): The export.
        models (DeployModels): Its PyTorch and onnxruntime models.
        images (Sequence[str]): Image paths.
        atol (Dict[str, float]): Tolerances on max |delta| per output.

    Returns:
        ParityReport: The differences.
    """
    batches = image_inputs(export, models, images)
    failures = []
    if codebase_of(export.model_cfg) == 'mmdet':
        max_abs, counts = _compare_detections(export, models, batches)
        if counts['pytorch'] != counts['onnxruntime']:
            failures.append(
                f'{counts["pytorch"]} detections in PyTorch, '
                f'{counts["onnxruntime"]} in onnxruntime')
    else:
        max_abs, counts = _compare_segmentations(models, batches)
    failures += [
        f'max |delta {name}| {value:.3g} > {atol[name]:.3g}'
        for name, value in max_abs.items() if value > atol[name]
    ]
    return ParityReport(max_abs, counts, failures)


def deploy_forward(export: OnnxExport, model: torch.nn.Module,
                   inputs: torch.Tensor, data_samples: list) -> tuple:
    """The exported computation, run by PyTorch: ``model`` under mmdeploy's
    rewriters, as ``torch2onnx`` traces it.

    Args:
        export (OnnxExport): The export (its deploy config).
        model (nn.Module): The PyTorch model; not modified.
        inputs (Tensor): Preprocessed images, ``N x 3 x H x W``.
        data_samples (list): Their data samples.

    Returns:
        tuple: The graph's outputs, e.g. ``dets`` (``N x K x 5``) and
        ``labels`` (``N x K``) of a detector.
    """
    from mmdeploy.core import RewriterContext, patch_model
    from mmdeploy.utils import IR, get_backend
    backend = get_backend(export.deploy_cfg).value
    opset = export.deploy_cfg.onnx_config.opset_version
    patched = patch_model(copy.deepcopy(model), cfg=export.deploy_cfg,
                          backend=backend, ir=IR.ONNX)
    with RewriterContext(cfg=export.deploy_cfg, backend=backend, ir=IR.ONNX,
                         opset=opset), torch.no_grad():
        return patched(inputs, data_samples, mode='predict')


@torch.no_grad()
def _compare_detections(export: OnnxExport, models: DeployModels,
                        batches: List[dict]):
    score = box = 0.0
    counts = dict(pytorch=0, onnxruntime=0, mmdet=0)
    for data in batches:
        batch = models.pytorch.data_preprocessor(copy.deepcopy(data), False)
        inputs = batch['inputs']
        ref_dets, ref_labels = deploy_forward(export, models.pytorch, inputs,
                                              batch['data_samples'])
        out = models.onnxruntime.wrapper(dict(input=inputs))
        out_dets = out['dets'].to(ref_dets)
        out_labels = out['labels'].to(ref_labels)
        counts['mmdet'] += len(
            models.pytorch.test_step(copy.deepcopy(data))[0].pred_instances)
        for ref, ref_label, det, label in zip(ref_dets, ref_labels, out_dets,
                                              out_labels):
            counts['pytorch'] += len(ref)
            counts['onnxruntime'] += len(det)
            n = min(len(ref), len(det))
            if n == 0:
                continue
            ref_scores = ref[:, 4].sort(descending=True).values[:n]
            out_scores = det[:, 4].sort(descending=True).values[:n]
            score = max(score, (ref_scores - out_scores).abs().max().item())
            # Equal scores may come out in either order: pair each box with
            # the nearest one of the same label rather than by position.
            distance = torch.cdist(det[:, :4], ref[:, :4], p=float('inf'))
            distance[label[:, None] != ref_label[None, :]] = float('inf')
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
