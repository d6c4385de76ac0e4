# Copyright (c) cankd contributors. All rights reserved.
"""Find and check, before training, what every distillation loss compares.

Pairing FPN levels by index goes wrong silently when teacher and student
necks start at different levels (a teacher with P2-P6 against a student with
P3-P7 pairs P2 with P3): the loss then compares features of different
resolutions. A forward pass on a dummy image measures what each recorder
really holds, so the check works for any model, and every problem it finds
comes with the exact change that fixes it.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn


class DistilledFeature(NamedTuple):
    """What one side of a distillation loss receives.

    Attributes:
        recorder (str): Recorder name in the distiller config.
        data_idx (int, optional): Which item of the recorded output.
        source (str): Module whose output the recorder holds.
        shape (tuple): Shape the loss receives (after the connector).
        stride (float, optional): Input height over feature height.
        connector (str, optional): Connector applied before the loss.
        recorded_shape (tuple): Shape the recorder holds (before it).
        outputs (tuple): ``(shape, stride)`` of every item of the recorded
            output when it is a tuple or list (neck outputs), else empty.
        error (str, optional): Why the feature could not be read.
        modified_in_place (bool): Whether the recorded tensor was changed
            in place after its module returned it.
        own_rows (str, optional): Why the rows of this output belong to
            its model alone (a RoI head's proposals, a DETR's queries), so
            that no row of the other model corresponds; see
            :func:`own_rows_reason`.
    """
    recorder: str
    data_idx: Optional[int]
    source: str
    shape: Tuple[int, ...] = ()
    stride: Optional[float] = None
    connector: Optional[str] = None
    recorded_shape: Tuple[int, ...] = ()
    outputs: Tuple[Tuple[Tuple[int, ...], Optional[float]], ...] = ()
    error: Optional[str] = None
    modified_in_place: bool = False
    own_rows: Optional[str] = None

    @property
    def channels(self) -> Optional[int]:
        return self.shape[1] if len(self.shape) == 4 else None

    @property
    def recorded_channels(self) -> Optional[int]:
        shape = self.recorded_shape
        return shape[1] if len(shape) == 4 else None

    @property
    def label(self) -> str:
        """``recorder`` or ``recorder[data_idx]``."""
        if self.data_idx is None:
            return self.recorder
        return f'{self.recorder}[{self.data_idx}]'

    def describe(self) -> str:
        stride = 'n/a' if self.stride is None else f'{self.stride:g}'
        via = f', connector \'{self.connector}\'' if self.connector else ''
        return (f"recorder '{self.label}' (source '{self.source}'{via}, "
                f'shape {self.shape}, stride {stride})')

    def index_with_stride(self, stride: Optional[float]) -> Optional[int]:
        """The ``data_idx`` of the recorded output with ``stride``."""
        for idx, (_, item_stride) in enumerate(self.outputs):
            if stride is not None and item_stride == stride:
                return idx
        return None


class DistillPair(NamedTuple):
    """A distillation loss and the two features it compares.

    Attributes:
        loss_name (str): Name in ``distill_losses``.
        loss (nn.Module): The loss module.
        student (DistilledFeature): The student side.
        teacher (DistilledFeature): The teacher side.
        connectors (dict): The distiller's connectors by name.
    """
    loss_name: str
    loss: nn.Module
    student: DistilledFeature
    teacher: DistilledFeature
    connectors: Dict[str, nn.Module] = {}

    @property
    def loss_weight(self) -> Optional[float]:
        return getattr(self.loss, 'loss_weight', None)

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.loss.parameters())

    def problems(self) -> List[str]:
        """Why this pair cannot be distilled, each with its fix; empty if
        it can."""
        s, t, name = self.student, self.teacher, self.loss_name
        errors = [f'{name}: {side.error}' for side in (s, t) if side.error]
        if errors:
            return errors
        found = [
            _in_place_problem(name, side, who)
            for side, who in ((s, 'student'), (t, 'teacher'))
            if side.modified_in_place
        ]
        if s.stride != t.stride:
            found.append(self._stride_problem())
        if s.channels != t.channels:
            found.append(self._channel_problem())
        own_rows = [side.own_rows for side in (s, t) if side.own_rows]
        if own_rows:
            found.append(self._own_rows_problem(own_rows[0]))
        elif s.stride is None and t.stride is None and s.shape and \
                t.shape and s.shape[0] != t.shape[0]:
            found.append(self._row_problem())
        expected = getattr(self.loss, 'in_channels', None)
        if expected is not None and t.channels not in (None, expected):
            found.append(
                f'{name} ({type(self.loss).__name__}) has in_channels='
                f'{expected} but teacher {t.describe()} has {t.channels} '
                f'channels. Fix: distill_losses.{name}.in_channels='
                f'{t.channels}.')
        return found

    def _pairing(self, why: str) -> str:
        """``'<loss> pairs student <...> with teacher <...>: <why>'``."""
        return (f'{self.loss_name} pairs student {self.student.describe()} '
                f'with teacher {self.teacher.describe()}: {why}')

    def _stride_problem(self) -> str:
        s, t, name = self.student, self.teacher, self.loss_name
        text = self._pairing('their strides differ.')
        t_idx = t.index_with_stride(s.stride)
        s_idx = s.index_with_stride(t.stride)
        if t_idx is not None:
            return (f'{text} Fix: teacher output {t_idx} of recorder '
                    f"'{t.recorder}' has stride {s.stride:g}: set "
                    f'loss_forward_mappings.{name}.t_feature.data_idx={t_idx} '
                    f'(or the teacher-side key of this loss).')
        if s_idx is not None:
            return (f'{text} Fix: student output {s_idx} of recorder '
                    f"'{s.recorder}' has stride {t.stride:g}: set "
                    f'loss_forward_mappings.{name}.s_feature.data_idx={s_idx}.')
        return (f'{text} Fix: record a teacher module of stride '
                f'{s.stride:g} (tools/analysis/check_config.py CONFIG '
                '--list-modules lists them with their strides).')

    def _own_rows_problem(self, reason: str) -> str:
        return self._pairing(
            f'{reason}, so the two sides describe different boxes even when '
            'their shapes agree. Fix: distil what both detectors compute at '
            'the same positions: backbone or neck features (the FPN levels, '
            'as in configs/_base_/distill/cankd_fpn.py).')

    def _row_problem(self) -> str:
        return self._pairing(
            f'they hold {self.student.shape[0]} and {self.teacher.shape[0]} '
            'rows, so rows do not correspond. Fix: record outputs with one '
            'row per image (logits, pooled features) in both models, or '
            'distil feature maps.')

    def _channel_problem(self) -> str:
        s, t, name = self.student, self.teacher, self.loss_name
        text = self._pairing('their channels differ.')
        if s.connector:
            return (f"{text} Fix: connector '{s.connector}' must output "
                    f'{t.channels} channels (out_channel={t.channels}).')
        connector = (f"connectors=dict(s_{name}=dict(type='ConvModuleConnector'"
                     f', in_channel={s.recorded_channels}, out_channel='
                     f'{t.channels}, kernel_size=1, norm_cfg=None, '
                     'act_cfg=None))')
        return (f'{text} Fix: map the student to the teacher\'s channels with '
                f'a 1x1 connector, in the distiller: {connector}, and in '
                f"loss_forward_mappings.{name}.s_feature: connector='s_{name}'.")


def _in_place_problem(loss_name: str, side: DistilledFeature,
                      who: str) -> str:
    return (f"{loss_name}: the {who}'s recorded output of '{side.source}' is "
            'modified in place after the module returns it (an in-place '
            'activation or `+=` that follows), so the loss would read '
            'altered values. Fix: record the module that produces the final '
            'value (e.g. the block instead of its last norm), or build the '
            'following activation with inplace=False.')


def distilled_mappings(distiller) -> Dict[str, Tuple[str, dict, str, dict]]:
    """The student and teacher side of every loss that compares the two.

    A side is the loss argument whose mapping has ``from_student=True``
    (student) or ``False`` (teacher), whatever the argument is called:
    CanKD's ``s_feature``/``t_feature`` and MMRazor's ``preds_S``/``preds_T``
    alike.

    Args:
        distiller (nn.Module): A ``ConfigurableDistiller``.

    Returns:
        dict: ``loss name -> (student argument, its mapping, teacher
        argument, its mapping)``, in ``loss_forward_mappings`` order.
    """
    found = {}
    for name, mapping in distiller.loss_forward_mappings.items():
        student = [(k, v) for k, v in mapping.items()
                   if isinstance(v, dict) and v.get('from_student') is True]
        teacher = [(k, v) for k, v in mapping.items()
                   if isinstance(v, dict) and v.get('from_student') is False]
        if student and teacher:
            found[name] = (*student[0], *teacher[0])
    return found


# Modules that ``extract_feat`` runs (mmdet, mmseg, mmpretrain models).
FEATURE_MODULES = ('backbone', 'neck')


def is_detector(model: nn.Module) -> bool:
    """Whether ``model`` has a detection head (a classifier has a ``head``
    and often a ``neck`` too, but none of these)."""
    return any(
        hasattr(model, head) for head in ('bbox_head', 'rpn_head', 'roi_head'))


def own_rows_reason(model: nn.Module, source: str) -> Optional[str]:
    """Why the output of ``source`` has rows of ``model``'s own, which no
    row of another model corresponds to; None for any other output.

    Args:
        model (nn.Module): Teacher or student.
        source (str): A recorded module, e.g. ``'roi_head.bbox_head.fc_cls'``.

    Returns:
        str, optional: The reason, a clause for an error message.
    """
    top = source.split('.')[0]
    if top == 'roi_head':
        return ("a RoI head computes one row per proposal of its own "
                "detector's RPN (in training, of the RoIs its own sampler "
                'draws)')
    # mmdet's DETR family (DetectionTransformer) has a decoder of queries.
    if hasattr(model, 'decoder') and top in ('bbox_head', 'decoder'):
        return ('a DETR-style decoder and head compute one row per query, '
                "and each detector's queries are its own (learnt, or "
                'selected from its own encoder; in training, denoising '
                'queries from the ground truth come first)')
    return None


def image_metainfo(height: int, width: int) -> dict:
    """The meta of an unresized, unpadded ``(height, width)`` input, as the
    data pipeline and preprocessor would record it."""
    return dict(img_shape=(height, width), ori_shape=(height, width),
                pad_shape=(height, width), scale_factor=(1.0, 1.0),
                batch_input_shape=(height, width), flip=False)


def extract_features(model: nn.Module, images: torch.Tensor,
                     sources: Sequence[str] = ()) -> None:
    """Run the part of a model that distillation records.

    Args:
        model (nn.Module): Teacher or student.
        images (torch.Tensor): ``(B, 3, H, W)``.
        sources (Sequence[str]): What its recorders record. When every one
            is a module of the backbone or the neck and the model has an
            ``extract_feat``, only that runs (cheapest); otherwise the whole
            network runs in ``'tensor'`` mode (e.g. a segmentor's logits,
            ``decode_head.conv_seg``, or a two-stage detector's RPN head).
    """
    in_features = all(
        source.split('.')[0] in FEATURE_MODULES for source in sources)
    if in_features and hasattr(model, 'extract_feat'):
        model.extract_feat(images)
    elif is_detector(model):
        # The RPN (proposals for the RoI head) and DETR-style transformers
        # (padding masks) read the image meta from the data samples.
        from mmdet.structures import DetDataSample
        meta = image_metainfo(*images.shape[-2:])
        model(images, [DetDataSample(metainfo=meta) for _ in images],
              mode='tensor')
    else:
        model(images, mode='tensor')


class _InPlaceWatch:
    """Remembers the version counter of every tensor that the recorded
    modules return, to tell later whether one was modified in place."""

    def __init__(self, model: nn.Module, sources: Sequence[str]) -> None:
        self.versions: Dict[str, List[Tuple[torch.Tensor, int]]] = {}
        modules = dict(model.named_modules())
        self.handles = [
            modules[src].register_forward_hook(self._hook(src))
            for src in set(sources) if src in modules
        ]

    def _hook(self, source: str):

        def hook(module, inputs, outputs):
            items = outputs if isinstance(outputs, (list, tuple)) \
                else (outputs, )
            self.versions[source] = [(t, t._version) for t in items
                                     if torch.is_tensor(t)]

        return hook

    def modified(self, source: str) -> bool:
        return any(t._version != version
                   for t, version in self.versions.get(source, ()))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def feature_stride(shape: Tuple[int, ...],
                   image_height: int) -> Optional[float]:
    """The stride of a feature map: how many input rows one of its rows
    covers.

    Strided convolutions round up (a 100-row input gives 13 rows at stride
    8), so the stride is the power of two whose rounded-up division of the
    input height gives the feature height; when none does, the plain ratio.

    Args:
        shape (Tuple[int, ...]): Shape of the feature, ``(B, C, H, W)``.
        image_height (int): Height of the input it was computed from.

    Returns:
        float, optional: The stride (``8.0``); None for a shape that is not
        ``(B, C, H, W)``.
    """
    if len(shape) != 4:
        return None
    for exponent in range(11):
        if math.ceil(image_height / 2**exponent) == shape[2]:
            return float(2**exponent)
    return image_height / shape[2]


def _describe(algorithm: nn.Module, mapping: dict, image_height: int,
              watch: _InPlaceWatch) -> DistilledFeature:
    distiller = algorithm.distiller
    from_student = mapping['from_student']
    model = algorithm.student if from_student else algorithm.teacher
    recorders = (distiller.student_recorders
                 if from_student else distiller.teacher_recorders)
    name, data_idx = mapping['recorder'], mapping.get('data_idx')
    connector = mapping.get('connector')
    side = 'student' if from_student else 'teacher'
    # An unknown recorder name never gets here: ConfigurableDistiller
    # refuses it when the algorithm is built.
    recorder = recorders.get_recorder(name)
    source = str(recorder.source)
    record = recorder.get_record_data(mapping.get('record_idx', 0))
    outputs = ()
    if isinstance(record, (list, tuple)):
        outputs = tuple(
            (tuple(item.shape), feature_stride(tuple(item.shape),
                                               image_height))
            for item in record if torch.is_tensor(item))
        if data_idx is not None and data_idx >= len(record):
            return DistilledFeature(
                name, data_idx, source, connector=connector, outputs=outputs,
                error=(f"{side} recorder '{name}' (source '{source}') holds "
                       f'{len(record)} outputs, indices 0-{len(record) - 1}, '
                       f'but data_idx={data_idx}. Fix: use an index of 0-'
                       f'{len(record) - 1} (strides '
                       f"{', '.join(f'{s:g}' for _, s in outputs)}), or drop "
                       'this loss: replace distill_losses and '
                       'loss_forward_mappings with _delete_=True '
                       '(docs/adding_a_pair.md, "3 levels instead of 4").'))
    elif data_idx is not None:
        return DistilledFeature(
            name, data_idx, source, connector=connector,
            error=(f"{side} recorder '{name}' (source '{source}') holds one "
                   f'output, not a tuple, but data_idx={data_idx}. Fix: drop '
                   'data_idx from the mapping.'))
    recorded = record if data_idx is None else record[data_idx]
    feature = distiller.get_record(**mapping)
    shape = tuple(feature.shape) if torch.is_tensor(feature) else ()
    recorded_shape = (tuple(recorded.shape)
                      if torch.is_tensor(recorded) else ())
    return DistilledFeature(name, data_idx, source, shape,
                            feature_stride(shape, image_height), connector,
                            recorded_shape, outputs,
                            modified_in_place=watch.modified(source),
                            own_rows=own_rows_reason(model, source))


def recorder_sources(recorders) -> List[str]:
    """What each recorder of a ``RecorderManager`` records (module names,
    or a method's or function's path)."""
    return [str(r.source) for r in recorders.recorders.values()]


@torch.no_grad()
def inspect_distill_pairs(algorithm: nn.Module,
                          image_size: Sequence[int] = (256, 256)
                          ) -> List[DistillPair]:
    """Run teacher and student once on a random image and describe every
    distilled pair.

    Args:
        algorithm (nn.Module): A MMRazor distillation algorithm with a
            ``ConfigurableDistiller`` (``FpnTeacherDistill``,
            ``SingleTeacherDistill``).
        image_size (Sequence[int]): ``(H, W)`` of the dummy image; a
            multiple of the largest stride. Defaults to ``(256, 256)``.

    Returns:
        List[DistillPair]: One entry per loss that compares a student and a
        teacher feature (see :func:`distilled_mappings`).
    """
    distiller = algorithm.distiller
    was_training = algorithm.training
    algorithm.eval()
    watches = [
        _InPlaceWatch(algorithm.teacher,
                      recorder_sources(distiller.teacher_recorders)),
        _InPlaceWatch(algorithm.student,
                      recorder_sources(distiller.student_recorders)),
    ]
    try:
        param = next(algorithm.parameters())
        images = torch.randn(1, 3, *image_size, device=param.device)
        with distiller.teacher_recorders:
            extract_features(algorithm.teacher, images,
                             recorder_sources(distiller.teacher_recorders))
        with distiller.student_recorders:
            extract_features(algorithm.student, images,
                             recorder_sources(distiller.student_recorders))
        t_watch, s_watch = watches
        pairs = []
        for name, (_, s_map, _, t_map) in distilled_mappings(
                distiller).items():
            pairs.append(
                DistillPair(
                    name, distiller.distill_losses[name],
                    _describe(algorithm, s_map, image_size[0], s_watch),
                    _describe(algorithm, t_map, image_size[0], t_watch),
                    dict(distiller.connectors.items())))
        return pairs
    finally:
        for watch in watches:
            watch.remove()
        algorithm.train(was_training)


def check_distill_pairs(algorithm: nn.Module,
                        image_size: Sequence[int] = (256, 256)
                        ) -> List[DistillPair]:
    """Like :func:`inspect_distill_pairs`, but raise on any problem.

    Raises:
        ValueError: No pair at all, or a pair whose strides, channels or
            indices do not match, each with its fix.
    """
    pairs = inspect_distill_pairs(algorithm, image_size)
    if not pairs:
        raise ValueError(
            'No distillation loss compares a student and a teacher feature: '
            'every loss_forward_mappings entry needs one argument with '
            'from_student=True and one with from_student=False.')
    problems = [problem for pair in pairs for problem in pair.problems()]
    if problems:
        raise ValueError('Distillation pairs do not match:\n- ' +
                         '\n- '.join(problems))
    return pairs


def format_pairs_table(pairs: Sequence[DistillPair]) -> str:
    """A plain-text table of the pairs, one row per loss."""
    header = ('loss', 'type', 'weight', 'student recorder', 'connector',
              'teacher recorder', 'shape (student / teacher)', 'stride',
              'channels', 'params', 'ok')
    rows = [header]
    for pair in pairs:
        s, t = pair.student, pair.teacher
        stride = (_number(s.stride) if s.stride == t.stride else
                  f'{_number(s.stride)} / {_number(t.stride)}')
        channels = (_number(s.channels) if s.channels == t.channels else
                    f'{_number(s.channels)} / {_number(t.channels)}')
        rows.append((pair.loss_name, type(pair.loss).__name__,
                     f'{pair.loss_weight:g}' if pair.loss_weight is not None
                     else '-', f'{s.label} ({s.source})',
                     _connector_label(pair), f'{t.label} ({t.source})',
                     f'{s.shape} / {t.shape}', stride, channels,
                     f'{pair.num_params:,}',
                     'yes' if not pair.problems() else 'NO'))
    widths = [max(len(str(row[i])) for row in rows)
              for i in range(len(header))]
    lines = ['  '.join(str(c).ljust(w) for c, w in zip(row, widths))
             for row in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _number(value) -> str:
    return '-' if value is None else f'{value:g}'


def _connector_label(pair: DistillPair) -> str:
    name = pair.student.connector
    if not name:
        return '-'
    module = pair.connectors.get(name)
    params = sum(p.numel() for p in module.parameters()) if module else 0
    return (f'{name} {pair.student.recorded_channels}->'
            f'{pair.student.channels} ({params:,} params)')
