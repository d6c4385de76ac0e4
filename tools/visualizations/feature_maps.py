# Copyright (c) cankd contributors. All rights reserved.
"""Activation heatmaps of the distilled features (CanKD paper, Figure 4):
what ``feature_heatmaps.py`` draws, in steps that its tests use alone.

1. :func:`prepare_image` runs an image through a config's test pipeline and
   the model's data preprocessor, as at test time.
2. :func:`collect_pair_features` runs the teacher or the student once under
   the distiller's own recorders and reads, for every distillation loss, the
   feature that the loss receives: the levels shown are exactly the
   distilled ones.
3. :func:`feature_heatmap` reduces a feature map over its channels
   (channel-mean of ``|f|``, or the L2 norm) and min-max normalises it;
   :func:`overlay` colour-maps it onto the image and :func:`compose_grid`
   tiles the overlays with row and column labels.
4. :func:`select_state_dict` and :func:`load_weights` pick the weights of
   one model out of a distillation or plain checkpoint.
"""
import copy
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cankd.utils.distill_pairs import (distilled_mappings, extract_features,
                                      recorder_sources)
from cankd.utils.student_checkpoint import weights_under

REDUCTIONS = {
    'mean_abs': 'channel-mean of |feature|',
    'l2': 'L2 norm over channels',
}

# Layout of compose_grid, in pixels.
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.45
LINE_HEIGHT = 18
MARGIN = 6
LABEL_WIDTH = 150
TITLE_LINES = 2
HEADER_LINES = 1
FOOTER_HEIGHT = 34


# --------------------------------------------------------------------------
# Heatmaps
# --------------------------------------------------------------------------
def feature_energy(feature: Tensor, reduction: str = 'mean_abs') -> Tensor:
    """Reduce a feature map over its channels.

    Args:
        feature (Tensor): ``(C, H, W)`` or ``(1, C, H, W)``.
        reduction (str): ``'mean_abs'`` (channel-mean of ``|f|``) or
            ``'l2'`` (L2 norm over channels).

    Returns:
        Tensor: ``(H, W)``, float32, non-negative.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction={reduction!r}; expected one of '
                         f'{tuple(REDUCTIONS)}.')
    if feature.dim() == 4:
        if feature.shape[0] != 1:
            raise ValueError('feature_energy takes one feature map, got a '
                             f'batch of {feature.shape[0]}.')
        feature = feature[0]
    if feature.dim() != 3:
        raise ValueError('feature_energy takes a (C, H, W) feature map, got '
                         f'shape {tuple(feature.shape)}.')
    feature = feature.detach().float()
    if reduction == 'mean_abs':
        return feature.abs().mean(dim=0)
    return feature.norm(dim=0)


def normalise(heatmap: np.ndarray) -> np.ndarray:
    """Min-max normalise to ``[0, 1]``; a constant map becomes zeros."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    low, high = float(heatmap.min()), float(heatmap.max())
    if not np.isfinite(low) or not np.isfinite(high) or high - low <= 0:
        return np.zeros_like(heatmap)
    return np.clip((heatmap - low) / (high - low), 0.0, 1.0)


def feature_heatmap(feature: Tensor,
                    reduction: str = 'mean_abs',
                    input_size: Optional[Sequence[int]] = None,
                    valid_size: Optional[Sequence[int]] = None,
                    out_size: Optional[Sequence[int]] = None) -> np.ndarray:
    """A feature map as a normalised heatmap aligned with its image.

    The channel reduction is upsampled (bilinear) to ``input_size``, the
    padded network input the feature was computed from, cropped to
    ``valid_size``, the image inside the padding, resized to ``out_size``,
    then min-max normalised: the padding never sets the scale.

    Args:
        feature (Tensor): ``(C, h, w)`` or ``(1, C, h, w)``.
        reduction (str): See :func:`feature_energy`.
        input_size (Sequence[int], optional): ``(H, W)`` of the network
            input. Defaults to the feature's own size (no upsampling).
        valid_size (Sequence[int], optional): ``(H, W)`` of the image within
            the input (top-left aligned). Defaults to ``input_size``.
        out_size (Sequence[int], optional): ``(H, W)`` of the result.
            Defaults to ``valid_size``.

    Returns:
        np.ndarray: ``(H, W)`` float32 in ``[0, 1]``; 1 where the energy is
        highest.
    """
    energy = feature_energy(feature, reduction)
    if input_size is not None and tuple(input_size) != tuple(energy.shape):
        energy = F.interpolate(
            energy[None, None], size=tuple(input_size), mode='bilinear',
            align_corners=False)[0, 0]
    if valid_size is not None:
        energy = energy[:valid_size[0], :valid_size[1]]
    heatmap = energy.cpu().numpy().astype(np.float32)
    if out_size is not None and tuple(out_size) != heatmap.shape:
        heatmap = cv2.resize(heatmap, (int(out_size[1]), int(out_size[0])),
                             interpolation=cv2.INTER_LINEAR)
    return normalise(heatmap)


def colorize(heatmap: np.ndarray,
             colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """A ``[0, 1]`` heatmap as a BGR uint8 image (blue low, red high)."""
    scaled = np.round(np.clip(heatmap, 0, 1) * 255).astype(np.uint8)
    return cv2.applyColorMap(scaled, colormap)


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5,
            colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend the colour-mapped ``heatmap`` onto ``image`` (BGR uint8, same
    height and width): ``alpha`` of heatmap, ``1 - alpha`` of image."""
    if image.shape[:2] != heatmap.shape[:2]:
        raise ValueError(f'image {image.shape[:2]} and heatmap '
                         f'{heatmap.shape[:2]} differ in size.')
    return cv2.addWeighted(colorize(heatmap, colormap), alpha, image,
                           1 - alpha, 0)


# --------------------------------------------------------------------------
# Grid
# --------------------------------------------------------------------------
def grid_shape(num_rows: int, num_cols: int,
               cell_size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` of the image :func:`compose_grid` makes."""
    cell_h, cell_w = cell_size
    height = (HEADER_LINES * LINE_HEIGHT + TITLE_LINES * LINE_HEIGHT +
              2 * MARGIN + num_rows * (cell_h + MARGIN) + FOOTER_HEIGHT)
    width = LABEL_WIDTH + num_cols * (cell_w + MARGIN) + MARGIN
    return height, width


def _fit(text: str, width: int) -> str:
    """Shorten ``text`` in the middle until it fits ``width`` pixels."""
    def text_width(t):
        return cv2.getTextSize(t, FONT, FONT_SCALE, 1)[0][0]

    if text_width(text) <= width:
        return text
    keep = len(text)
    while keep > 4:
        keep -= 1
        head = (keep + 1) // 2
        short = text[:head] + '...' + text[len(text) - (keep - head):]
        if text_width(short) <= width:
            return short
    return text[:4]


def _put(canvas: np.ndarray, text: str, x: int, y: int, width: int) -> None:
    cv2.putText(canvas, _fit(text, width), (x, y), FONT, FONT_SCALE,
                (0, 0, 0), 1, cv2.LINE_AA)


def compose_grid(cells: Sequence[Sequence[np.ndarray]],
                 col_titles: Sequence[Sequence[str]],
                 row_titles: Sequence[Sequence[str]],
                 header: str = '',
                 footer: str = '') -> np.ndarray:
    """Tile equally sized BGR images with titles, on white.

    Args:
        cells (Sequence[Sequence[np.ndarray]]): ``cells[row][col]``, BGR uint8,
            all of one size.
        col_titles (Sequence[Sequence[str]]): Up to :data:`TITLE_LINES` lines
            per column.
        row_titles (Sequence[Sequence[str]]): Lines per row, written left of
            the row.
        header (str): One line above everything.
        footer (str): Text after a blue-to-red colour bar at the bottom.

    Returns:
        np.ndarray: The grid, BGR uint8, of :func:`grid_shape`.
    """
    num_rows, num_cols = len(cells), len(cells[0])
    cell_h, cell_w = cells[0][0].shape[:2]
    height, width = grid_shape(num_rows, num_cols, (cell_h, cell_w))
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    y = MARGIN + LINE_HEIGHT - 5
    _put(canvas, header, MARGIN, y, width - 2 * MARGIN)
    top = MARGIN + HEADER_LINES * LINE_HEIGHT
    for col, lines in enumerate(col_titles):
        x = LABEL_WIDTH + col * (cell_w + MARGIN)
        for i, line in enumerate(list(lines)[:TITLE_LINES]):
            _put(canvas, line, x, top + (i + 1) * LINE_HEIGHT - 5, cell_w)
    top += TITLE_LINES * LINE_HEIGHT + MARGIN
    for row, images in enumerate(cells):
        y0 = top + row * (cell_h + MARGIN)
        for i, line in enumerate(row_titles[row]):
            _put(canvas, line, MARGIN, y0 + (i + 1) * LINE_HEIGHT - 4,
                 LABEL_WIDTH - 2 * MARGIN)
        for col, image in enumerate(images):
            if image.shape[:2] != (cell_h, cell_w):
                raise ValueError('compose_grid needs cells of one size.')
            x0 = LABEL_WIDTH + col * (cell_w + MARGIN)
            canvas[y0:y0 + cell_h, x0:x0 + cell_w] = image
    y0 = top + num_rows * (cell_h + MARGIN) + 4
    bar_w = min(120, width // 4)
    bar = colorize(np.tile(np.linspace(0, 1, bar_w, dtype=np.float32),
                           (12, 1)))
    canvas[y0:y0 + 12, LABEL_WIDTH:LABEL_WIDTH + bar_w] = bar
    _put(canvas, '0', LABEL_WIDTH - 14, y0 + 11, 12)
    _put(canvas, '1', LABEL_WIDTH + bar_w + 4, y0 + 11, 12)
    _put(canvas, footer, LABEL_WIDTH + bar_w + 20, y0 + 11,
         width - LABEL_WIDTH - bar_w - 20 - MARGIN)
    return canvas


# --------------------------------------------------------------------------
# Images through the model's preprocessing
# --------------------------------------------------------------------------
class PreparedImage(NamedTuple):
    """An image as the model sees it.

    Attributes:
        inputs (Tensor): ``(1, 3, H, W)`` network input, normalised and
            padded by the data preprocessor.
        image (np.ndarray): The resized image before normalisation, cropped
            to ``valid_size``, BGR uint8.
        valid_size (tuple): ``(h, w)`` of the image inside ``inputs``
            (top-left aligned; the rest is padding).
    """
    inputs: Tensor
    image: np.ndarray
    valid_size: Tuple[int, int]

    @property
    def input_size(self) -> Tuple[int, int]:
        return tuple(self.inputs.shape[-2:])


def image_pipeline_cfg(cfg) -> List[dict]:
    """The config's test pipeline without annotation loading (an arbitrary
    image has no annotations)."""
    dataset = cfg.get('test_dataloader', cfg.get('val_dataloader', {}))
    dataset = dataset.get('dataset', {}) if dataset else {}
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']
    if 'pipeline' not in dataset:
        raise ValueError('The config has no test_dataloader.dataset.pipeline '
                         'to prepare the image with.')
    return [copy.deepcopy(t) for t in dataset['pipeline']
            if 'LoadAnnotations' not in t['type']]


def _data_scope(cfg) -> Optional[str]:
    model = cfg.model.get('architecture', cfg.model)
    return model.get('_scope_', cfg.get('default_scope'))


@torch.no_grad()
def prepare_image(cfg, model: nn.Module, image_path: str) -> PreparedImage:
    """Run an image through the config's test pipeline and the model's data
    preprocessor.

    Args:
        cfg (Config): The (distillation) config.
        model (nn.Module): A model with a ``data_preprocessor``; for a
            distillation algorithm, the student's, which feeds both teacher
            and student in training.
        image_path (str): The image file.

    Returns:
        PreparedImage: The network input and the image it shows.
    """
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    if not osp.isfile(image_path):
        raise FileNotFoundError(f'Image {image_path} does not exist.')
    with DefaultScope.overwrite_default_scope(_data_scope(cfg)):
        pipeline = Compose(image_pipeline_cfg(cfg))
    packed = pipeline(dict(img_path=image_path, img_id=0))
    if packed is None:
        raise ValueError(f'The test pipeline dropped {image_path}.')
    raw = packed['inputs']  # (3, H, W) uint8, as loaded (BGR for mmcv)
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    inputs = data['inputs']
    img_shape = packed['data_samples'].metainfo.get('img_shape',
                                                    tuple(raw.shape[-2:]))
    valid = (min(int(img_shape[0]), inputs.shape[-2]),
             min(int(img_shape[1]), inputs.shape[-1]))
    image = raw.permute(1, 2, 0).cpu().numpy()[:valid[0], :valid[1]]
    image = np.ascontiguousarray(image.astype(np.uint8))
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return PreparedImage(inputs, image, valid)


# --------------------------------------------------------------------------
# Distilled features
# --------------------------------------------------------------------------
class PairFeature(NamedTuple):
    """The feature one side of a distillation loss receives.

    Attributes:
        loss_name (str): Name in ``distill_losses``.
        label (str): ``recorder`` or ``recorder[data_idx]``.
        source (str): Module the recorder hooks.
        feature (Tensor): ``(1, C, h, w)``.
    """
    loss_name: str
    label: str
    source: str
    feature: Tensor


@torch.no_grad()
def collect_pair_features(algorithm: nn.Module, inputs: Tensor,
                          from_student: bool) -> List[PairFeature]:
    """Run the teacher or the student once under the distiller's recorders
    and read each distilled pair's feature on that side.

    The feature is the recorded one (``recorder``, ``record_idx``,
    ``data_idx`` of the loss mapping), before any connector: the model's own
    activation, not a connector's projection of it.

    Args:
        algorithm (nn.Module): A MMRazor distillation algorithm with a
            ``ConfigurableDistiller``.
        inputs (Tensor): Network input, ``(1, 3, H, W)``.
        from_student (bool): The student (``architecture``) or the teacher.

    Returns:
        List[PairFeature]: One per distilled pair, in the distiller's order.
    """
    distiller = algorithm.distiller
    model = algorithm.student if from_student else algorithm.teacher
    recorders = (distiller.student_recorders
                 if from_student else distiller.teacher_recorders)
    was_training = algorithm.training
    algorithm.eval()
    try:
        with recorders:
            extract_features(model, inputs, recorder_sources(recorders))
        side = 'student' if from_student else 'teacher'
        found = []
        for name, (_, s_map, _, t_map) in distilled_mappings(
                distiller).items():
            mapping = s_map if from_student else t_map
            recorder = recorders.get_recorder(mapping['recorder'])
            data_idx = mapping.get('data_idx')
            feature = recorder.get_record_data(
                mapping.get('record_idx', 0), data_idx)
            if not torch.is_tensor(feature) or feature.dim() != 4:
                raise ValueError(
                    f'{name}: the {side} recorder {mapping["recorder"]!r} '
                    'does not hold a (B, C, H, W) feature map.')
            label = (mapping['recorder'] if data_idx is None else
                     f'{mapping["recorder"]}[{data_idx}]')
            found.append(
                PairFeature(name, label, str(recorder.source),
                            feature.detach().cpu()))
        return found
    finally:
        algorithm.train(was_training)


# --------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------
def select_state_dict(checkpoint: dict, prefix: str) -> Dict[str, Tensor]:
    """The weights of one model of a checkpoint.

    Args:
        checkpoint (dict): A distillation checkpoint, or a plain model's.
        prefix (str): The model's part in a distillation checkpoint,
            :data:`~cankd.utils.student_checkpoint.STUDENT_PREFIX` or
            :data:`~cankd.utils.student_checkpoint.TEACHER_PREFIX`.

    Returns:
        Dict[str, Tensor]: The weights under ``prefix``, prefix removed; the
        whole state dict if no key has the prefix (a plain checkpoint).
    """
    return (weights_under(checkpoint, prefix)
            or dict(checkpoint.get('state_dict', checkpoint)))


def load_weights(model: nn.Module, state_dict: Dict[str, Tensor],
                 what: str) -> None:
    """``load_state_dict(strict=True)`` with a readable error."""
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:  # shapes differ
        raise ValueError(f'The {what} checkpoint does not match the '
                         f'config\'s model: {error}') from error
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f'The {what} checkpoint does not match the config\'s model: '
            f'{len(result.missing_keys)} missing keys '
            f'{result.missing_keys[:3]}, {len(result.unexpected_keys)} '
            f'unexpected keys {result.unexpected_keys[:3]}.')
