# Copyright (c) cankd contributors. All rights reserved.
"""What a user runs before a multi-day job: the modules a recorder can
distil, and a dry run of real training steps on random images.

Both work offline: nothing is downloaded, a teacher whose checkpoint cannot
be read here stays random (and the report says so), and the training steps
are the algorithm's own ``train_step`` with the config's optimiser.
"""
import os.path as osp
import resource
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData, PixelData
from torch import nn

from .distill_pairs import (extract_features, feature_stride, image_metainfo,
                            is_detector)


class ModuleOutput(NamedTuple):
    """A module output that a ``ModuleOutputs`` recorder could hold.

    Attributes:
        source (str): Module name (a recorder's ``source``).
        data_idx (int, optional): Index into a tuple output (neck levels).
        shape (tuple): Output shape on the dummy image.
        stride (float): Input height over output height.
    """
    source: str
    data_idx: Optional[int]
    shape: Tuple[int, ...]
    stride: float


@torch.no_grad()
def candidate_modules(model: nn.Module,
                      image_size: Sequence[int] = (256, 256),
                      max_depth: int = 2) -> List[ModuleOutput]:
    """Modules of ``model`` whose outputs are feature maps, with shape and
    stride measured on a random image: backbone stages, neck outputs (one
    row per ``data_idx``) and their parts down to ``max_depth`` dots.

    Args:
        model (nn.Module): A detector, segmentor or classifier.
        image_size (Sequence[int]): ``(H, W)`` of the dummy image.
        max_depth (int): Deepest module name listed, in dots
            (``backbone.layer1`` has one). Defaults to 2.

    Returns:
        list[ModuleOutput]: In forward order.
    """
    found: Dict[str, object] = {}
    handles = []
    for name, module in model.named_modules():
        if name and name.count('.') <= max_depth and \
                name.split('.')[0] != 'data_preprocessor':
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: found.setdefault(name, o)))
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters())
        extract_features(model,
                         torch.randn(1, 3, *image_size, device=param.device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    rows = []
    for name, output in found.items():
        items = (list(enumerate(output))
                 if isinstance(output, (list, tuple)) else [(None, output)])
        for idx, item in items:
            if torch.is_tensor(item) and item.dim() == 4:
                rows.append(ModuleOutput(
                    name, idx, tuple(item.shape),
                    feature_stride(tuple(item.shape), image_size[0])))
    return rows


def format_modules_table(rows: Sequence[ModuleOutput]) -> str:
    """One line per candidate: source, data_idx, shape, stride, channels."""
    lines = [f'{"source":<40} {"data_idx":>8}  {"shape":<22} {"stride":>6} '
             f'{"channels":>8}']
    for row in rows:
        idx = '-' if row.data_idx is None else str(row.data_idx)
        lines.append(f'{row.source:<40} {idx:>8}  {str(row.shape):<22} '
                     f'{row.stride:>6g} {row.shape[1]:>8}')
    return '\n'.join(lines)


def load_teacher_offline(algorithm: nn.Module,
                         teacher_ckpt: Optional[str]) -> Optional[str]:
    """Load ``teacher_ckpt`` when it is a readable local file.

    Args:
        algorithm (nn.Module): The distillation algorithm.
        teacher_ckpt (str, optional): The config's ``model.teacher_ckpt``.

    Returns:
        str | None: Why the teacher stays random, or None once loaded.
    """
    if not teacher_ckpt:
        return 'model.teacher_ckpt is not set'
    if '://' in teacher_ckpt:
        return f'{teacher_ckpt} is not downloaded offline'
    if not osp.isfile(teacher_ckpt):
        return f'{teacher_ckpt} does not exist'
    load_checkpoint(algorithm.teacher, teacher_ckpt, map_location='cpu')
    return None


def init_weights_offline(model: nn.Module) -> List[str]:
    """Initialise ``model`` as training would, without the downloads:
    ``Pretrained`` entries of every module's ``init_cfg`` are dropped (the
    rest, e.g. a head's bias prior, still runs).

    Args:
        model (nn.Module): The algorithm, or the student or teacher.

    Returns:
        list[str]: The skipped checkpoints, as ``'module: checkpoint'``.
    """
    skipped = []
    for name, module in model.named_modules():
        cfgs = _as_list(getattr(module, 'init_cfg', None))
        kept = [c for c in cfgs
                if not (isinstance(c, dict) and c.get('type') == 'Pretrained')]
        if len(kept) != len(cfgs):
            skipped += [f'{name or "model"}: {c.get("checkpoint")}'
                        for c in cfgs if c not in kept]
            module.init_cfg = kept or None
    if hasattr(model, 'init_weights'):
        model.init_weights()
    return skipped


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def random_batch(model: nn.Module, batch_size: int,
                 image_size: Sequence[int]) -> dict:
    """A training batch of random images with random targets, in the form
    the model's data preprocessor takes (as a dataloader would give).

    Detection students (a ``bbox_head``, ``rpn_head`` or DETR-style head)
    get two boxes per image, segmentation students (``decode_head``) a
    random label map, classifiers (``head``) a random label.

    Args:
        model (nn.Module): The student.
        batch_size (int): Images per batch.
        image_size (Sequence[int]): ``(H, W)``.

    Returns:
        dict: ``inputs`` (uint8 ``(3, H, W)`` tensors) and ``data_samples``.
    """
    height, width = image_size
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, height, width), dtype=torch.uint8,
                            generator=generator) for _ in range(batch_size)]
    num_classes = _num_classes(model)
    meta = image_metainfo(height, width)
    samples = []
    for _ in range(batch_size):
        if hasattr(model, 'decode_head'):
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=torch.randint(
                0, num_classes, (1, height, width), generator=generator))
        elif hasattr(model, 'head') and not is_detector(model):
            from mmpretrain.structures import DataSample
            sample = DataSample(metainfo=meta).set_gt_label(
                int(torch.randint(0, num_classes, (1, ))))
        else:
            from mmdet.structures import DetDataSample
            sample = DetDataSample(metainfo=meta)
            corner = torch.rand(2, 2, generator=generator) * 0.5
            size = 0.2 + torch.rand(2, 2, generator=generator) * 0.3
            boxes = torch.cat([corner, corner + size], dim=1)
            sample.gt_instances = InstanceData(
                bboxes=boxes * torch.tensor([width, height, width, height]),
                labels=torch.randint(0, num_classes, (2, ),
                                     generator=generator))
            sample.ignored_instances = InstanceData(
                bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _num_classes(model: nn.Module) -> int:
    for head in ('bbox_head', 'decode_head', 'head', 'roi_head', 'rpn_head'):
        module = getattr(model, head, None)
        if module is None:
            continue
        for candidate in (module, getattr(module, 'bbox_head', None)):
            classes = getattr(candidate, 'num_classes', None)
            if isinstance(classes, int):
                return classes
    return 1


class StepReport(NamedTuple):
    """One training step: every loss the algorithm returned, and time."""
    losses: Dict[str, float]
    seconds: float


class DryRunReport(NamedTuple):
    """What :func:`dry_run` saw.

    Attributes:
        steps (list[StepReport]): Per step.
        no_grad_student (list[str]): Trainable student parameters that
            never received a non-zero gradient.
        no_grad_distiller (list[str]): Connector and loss parameters that
            never received a non-zero gradient.
        changed_teacher (list[str]): Teacher parameters and buffers that
            changed.
        peak_memory_mib (float): Peak memory of the process (CPU: resident
            set; CUDA: allocated on the device).
    """
    steps: List[StepReport]
    no_grad_student: List[str]
    no_grad_distiller: List[str]
    changed_teacher: List[str]
    peak_memory_mib: float

    def failures(self) -> List[str]:
        """What makes the dry run fail; empty when it passes."""
        found = []
        for i, step in enumerate(self.steps):
            bad = [k for k, v in step.losses.items()
                   if not torch.isfinite(torch.tensor(v))]
            if bad:
                found.append(f'step {i + 1}: non-finite {", ".join(bad)}')
        if self.no_grad_distiller:
            found.append('distiller parameters without gradient: ' +
                         ', '.join(self.no_grad_distiller))
        if self.changed_teacher:
            found.append('the teacher changed: ' +
                         ', '.join(self.changed_teacher[:10]))
        if not any(k.startswith('distill.') or 'loss_can' in k
                   for step in self.steps for k in step.losses):
            found.append('no distillation loss in the losses returned')
        return found


def _watch_gradients(named_params) -> Dict[str, List[bool]]:
    seen: Dict[str, List[bool]] = {}
    for name, param in named_params:
        if param.requires_grad:
            seen[name] = [False]
            param.register_hook(
                lambda grad, flag=seen[name]: flag.__setitem__(
                    0, flag[0] or bool(grad.detach().abs().sum() > 0)))
    return seen


def dry_run(algorithm: nn.Module,
            cfg: Config,
            steps: int,
            batches: Optional[Sequence[dict]] = None,
            batch_size: int = 2,
            image_size: Sequence[int] = (320, 320)) -> DryRunReport:
    """Run ``steps`` real training steps (data preprocessing, forward,
    backward, optimiser step) of a distillation algorithm.

    Args:
        algorithm (nn.Module): A MMRazor distillation algorithm, built from
            ``cfg.model``.
        cfg (Config): The training config; its ``optim_wrapper`` is used.
        steps (int): How many steps.
        batches (Sequence[dict], optional): Batches from the config's
            dataloader; random images when None.
        batch_size (int): Images per random batch. Defaults to 2.
        image_size (Sequence[int]): ``(H, W)`` of random images.

    Returns:
        DryRunReport: Losses per step, parameters without gradient, teacher
        changes, peak memory.
    """
    algorithm.train()
    optim_wrapper = build_optim_wrapper(algorithm, cfg.optim_wrapper)
    teacher_before = {k: v.detach().clone()
                      for k, v in algorithm.teacher.state_dict().items()}
    student_grads = _watch_gradients(algorithm.student.named_parameters())
    distiller_grads = _watch_gradients(
        algorithm.distiller.named_parameters())
    reports = []
    for step in range(steps):
        batch = (batches[step % len(batches)] if batches else random_batch(
            algorithm.student, batch_size, image_size))
        start = time.perf_counter()
        log_vars = algorithm.train_step(batch, optim_wrapper)
        reports.append(StepReport(
            {k: float(v.detach()) if torch.is_tensor(v) else float(v)
             for k, v in log_vars.items()},
            time.perf_counter() - start))
    changed = [k for k, v in algorithm.teacher.state_dict().items()
               if not torch.equal(v, teacher_before[k])]
    no_grad_distiller = [k for k, (ok, ) in distiller_grads.items() if not ok]
    if steps == 1:
        # W_z's BN starts at zero: theta/phi/g get their first gradient in
        # the second step, not a fault.
        no_grad_distiller = [
            k for k in no_grad_distiller
            if not any(f'.{p}.' in f'.{k}' for p in ('theta', 'phi', 'g'))
        ]
    return DryRunReport(reports,
                        [k for k, (ok, ) in student_grads.items() if not ok],
                        no_grad_distiller, changed, _peak_memory_mib())


def _peak_memory_mib() -> float:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.max_memory_allocated() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    return peak / 2**20 if sys.platform == 'darwin' else peak / 2**10


def format_dry_run(report: DryRunReport) -> str:
    """The report as printed by ``check_config.py --train-steps``."""
    lines = []
    for i, step in enumerate(report.steps):
        losses = ', '.join(f'{k} {v:.4g}' for k, v in step.losses.items())
        lines.append(f'step {i + 1}: {step.seconds:.2f} s  {losses}')
    mean = sum(s.seconds for s in report.steps) / max(len(report.steps), 1)
    lines.append(f'time per step: {mean:.2f} s; peak memory: '
                 f'{report.peak_memory_mib:.0f} MiB')
    lines.append('teacher unchanged: ' +
                 ('yes' if not report.changed_teacher else 'NO'))
    if report.no_grad_student:
        lines.append(f'{len(report.no_grad_student)} trainable student '
                     'parameters received no gradient (unused in these '
                     'steps): ' + ', '.join(report.no_grad_student[:8]) +
                     (' ...' if len(report.no_grad_student) > 8 else ''))
    else:
        lines.append('every trainable student parameter received a '
                     'gradient')
    lines.append('every connector and loss parameter received a gradient'
                 if not report.no_grad_distiller else
                 'NO gradient: ' + ', '.join(report.no_grad_distiller))
    return '\n'.join(lines)
