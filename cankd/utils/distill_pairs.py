# Copyright (c) cankd contributors. All rights reserved.
"""Check, before training, that every distilled student level meets a
teacher level of the same stride and channel count.

Pairing FPN levels by index goes wrong silently when teacher and student
necks start at different levels (a teacher with P2-P6 against a student with
P3-P7 pairs P2 with P3): the loss then compares features of different
resolutions. A forward pass on a dummy image measures what each recorder
really holds, so the check works for any model.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn


class DistilledFeature(NamedTuple):
    """What one side of a distillation loss receives.

    Attributes:
        recorder (str): Recorder name in the distiller config.
        data_idx (int, optional): Which item of the recorded output.
        source (str): Module whose output the recorder holds.
        shape (tuple): Shape of the feature the loss receives.
        stride (float): Input size over feature height.
    """
    recorder: str
    data_idx: Optional[int]
    source: str
    shape: Tuple[int, ...]
    stride: Optional[float]

    @property
    def channels(self) -> Optional[int]:
        return self.shape[1] if len(self.shape) == 4 else None

    @property
    def label(self) -> str:
        """``recorder`` or ``recorder[data_idx]``."""
        if self.data_idx is None:
            return self.recorder
        return f'{self.recorder}[{self.data_idx}]'

    def describe(self) -> str:
        stride = 'n/a' if self.stride is None else f'{self.stride:g}'
        return (f"recorder '{self.label}' (source '{self.source}', "
                f'shape {self.shape}, stride {stride})')


class DistillPair(NamedTuple):
    """A distillation loss and the two features it compares.

    Attributes:
        loss_name (str): Name in ``distill_losses``.
        loss (nn.Module): The loss module.
        student (DistilledFeature): The student side.
        teacher (DistilledFeature): The teacher side.
    """
    loss_name: str
    loss: nn.Module
    student: DistilledFeature
    teacher: DistilledFeature

    def problems(self) -> List[str]:
        """Why this pair cannot be distilled; empty if it can."""
        found = []
        s, t = self.student, self.teacher
        if s.stride != t.stride:
            found.append(
                f'{self.loss_name} pairs student {s.describe()} with teacher '
                f'{t.describe()}: their strides differ. Pair levels by '
                'stride, e.g. change the teacher recorder\'s source or '
                'data_idx.')
        if s.channels != t.channels:
            found.append(
                f'{self.loss_name} pairs student {s.describe()} with teacher '
                f'{t.describe()}: their channels differ. Add a connector '
                'that maps the student to the teacher\'s channels.')
        expected = getattr(self.loss, 'in_channels', None)
        if expected is not None and t.channels not in (None, expected):
            found.append(
                f'{self.loss_name} ({type(self.loss).__name__}) has '
                f'in_channels={expected} but teacher {t.describe()} has '
                f'{t.channels} channels. Set in_channels={t.channels}.')
        return found

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.loss.parameters())


def _describe(distiller, mapping: dict, image_height: int) -> DistilledFeature:
    from_student = mapping['from_student']
    recorders = (distiller.student_recorders
                 if from_student else distiller.teacher_recorders)
    recorder = recorders.get_recorder(mapping['recorder'])
    feature = distiller.get_record(**mapping)
    shape = tuple(feature.shape) if torch.is_tensor(feature) else ()
    stride = image_height / shape[2] if len(shape) == 4 else None
    return DistilledFeature(mapping['recorder'], mapping.get('data_idx'),
                            str(recorder.source), shape, stride)


def _extract(model: nn.Module, images: torch.Tensor) -> None:
    if hasattr(model, 'extract_feat'):
        model.extract_feat(images)
    else:
        model(images, mode='tensor')


@torch.no_grad()
def inspect_distill_pairs(algorithm: nn.Module,
                          image_size: Sequence[int] = (256, 256),
                          s_key: str = 's_feature',
                          t_key: str = 't_feature') -> List[DistillPair]:
    """Run teacher and student once on a random image and describe every
    distilled pair.

    Args:
        algorithm (nn.Module): A MMRazor distillation algorithm with a
            ``ConfigurableDistiller`` (``FpnTeacherDistill``,
            ``SingleTeacherDistill``).
        image_size (Sequence[int]): ``(H, W)`` of the dummy image; a
            multiple of the largest stride. Defaults to ``(256, 256)``.
        s_key (str): Loss argument holding the student feature.
        t_key (str): Loss argument holding the teacher feature.

    Returns:
        List[DistillPair]: One entry per loss in ``loss_forward_mappings``.
    """
    distiller = algorithm.distiller
    was_training = algorithm.training
    algorithm.eval()
    try:
        param = next(algorithm.parameters())
        images = torch.randn(1, 3, *image_size, device=param.device)
        with distiller.teacher_recorders:
            _extract(algorithm.teacher, images)
        with distiller.student_recorders:
            _extract(algorithm.student, images)
        pairs = []
        for name, mapping in distiller.loss_forward_mappings.items():
            if s_key not in mapping or t_key not in mapping:
                continue
            pairs.append(
                DistillPair(name, distiller.distill_losses[name],
                            _describe(distiller, mapping[s_key],
                                      image_size[0]),
                            _describe(distiller, mapping[t_key],
                                      image_size[0])))
        return pairs
    finally:
        algorithm.train(was_training)


def check_distill_pairs(algorithm: nn.Module,
                        image_size: Sequence[int] = (256, 256)
                        ) -> List[DistillPair]:
    """Like :func:`inspect_distill_pairs`, but raise on any mismatch.

    Raises:
        ValueError: A pair whose strides or channels differ, naming both
            recorders and the fix.
    """
    pairs = inspect_distill_pairs(algorithm, image_size)
    problems = [problem for pair in pairs for problem in pair.problems()]
    if problems:
        raise ValueError('Distillation pairs do not match:\n- ' +
                         '\n- '.join(problems))
    return pairs


def format_pairs_table(pairs: Sequence[DistillPair]) -> str:
    """A plain-text table of the pairs, one row per loss."""
    header = ('loss', 'type', 'student recorder', 'teacher recorder',
              'shape (student / teacher)', 'stride', 'channels', 'params',
              'ok')
    rows = [header]
    for pair in pairs:
        s, t = pair.student, pair.teacher
        stride = (f'{s.stride:g}' if s.stride == t.stride else
                  f'{s.stride:g} / {t.stride:g}')
        channels = (f'{s.channels}' if s.channels == t.channels else
                    f'{s.channels} / {t.channels}')
        rows.append((pair.loss_name, type(pair.loss).__name__,
                     f'{s.label} ({s.source})', f'{t.label} ({t.source})',
                     f'{s.shape} / {t.shape}', stride, channels,
                     f'{pair.num_params:,}',
                     'yes' if not pair.problems() else 'NO'))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ['  '.join(str(c).ljust(w) for c, w in zip(row, widths))
             for row in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)
