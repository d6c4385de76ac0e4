# Copyright (c) cankd contributors. All rights reserved.
"""mmdeploy deploy configs for the onnxruntime backend, built from the
student's model config (mmdeploy's wheel ships no config files)."""
import copy
from typing import Optional, Sequence

from mmengine.config import Config

ONNX_FILE = 'end2end.onnx'
# The batch, height and width of the input may vary in a dynamic export.
_DYNAMIC_INPUT = {0: 'batch', 2: 'height', 3: 'width'}


def codebase_of(model_cfg: Config) -> str:
    """``'mmdet'`` or ``'mmseg'``: the package of a plain model config.

    Args:
        model_cfg (Config): A plain mmdet or mmseg config.

    Returns:
        str: The codebase name.

    Raises:
        ValueError: Neither (e.g. a distillation config).
    """
    scope = model_cfg.model.get('_scope_') or model_cfg.get('default_scope')
    if scope in ('mmdet', 'mmseg'):
        return scope
    raise ValueError(
        f'Cannot export this config: its model is in scope {scope!r} (type '
        f'{model_cfg.model.get("type")!r}); export_onnx takes the plain '
        'mmdet or mmseg config of a student. For a distillation checkpoint, '
        'convert it first (tools/model_converters/'
        'convert_kd_ckpt_to_student.py) and pass the student config.')


def onnxruntime_deploy_config(model_cfg: Config,
                              input_shape: Optional[Sequence[int]] = None,
                              dynamic: bool = False,
                              opset: int = 11) -> Config:
    """An end-to-end onnxruntime deploy config for a detector or segmentor.

    Args:
        model_cfg (Config): The plain model config.
        input_shape (Sequence[int], optional): ``(width, height)`` of a
            static export. Ignored when ``dynamic``.
        dynamic (bool): Let batch, height and width vary.
        opset (int): ONNX opset. Defaults to 11, mmdeploy's.

    Returns:
        Config: mmdeploy's ``onnx_config``, ``codebase_config`` and
        ``backend_config``.
    """
    codebase = codebase_of(model_cfg)
    if codebase == 'mmdet':
        outputs = ['dets', 'labels']
        codebase_config = dict(
            type='mmdet', task='ObjectDetection', model_type='end2end',
            post_processing=_detection_post_processing(model_cfg))
        dynamic_axes = dict(
            input=_DYNAMIC_INPUT, dets={0: 'batch', 1: 'num_dets'},
            labels={0: 'batch', 1: 'num_dets'})
    else:
        outputs = ['output']
        # Logits, not their argmax: the parity check compares them, and
        # mmdeploy's model takes the argmax after onnxruntime.
        codebase_config = dict(
            type='mmseg', task='Segmentation', with_argmax=False)
        dynamic_axes = dict(input=_DYNAMIC_INPUT, output=_DYNAMIC_INPUT)
    onnx_config = dict(
        type='onnx', export_params=True, keep_initializers_as_inputs=False,
        opset_version=opset, save_file=ONNX_FILE, input_names=['input'],
        output_names=outputs, optimize=True,
        input_shape=None if dynamic or input_shape is None else
        list(input_shape))
    if dynamic:
        onnx_config['dynamic_axes'] = copy.deepcopy(dynamic_axes)
    return Config(
        dict(onnx_config=onnx_config, codebase_config=codebase_config,
             backend_config=dict(type='onnxruntime')))


def _detection_post_processing(model_cfg: Config) -> dict:
    """mmdeploy's NMS settings. Its head rewriters read ``score_thr``,
    ``nms.iou_threshold``, ``nms_pre`` and ``max_per_img`` from the model's
    ``test_cfg`` first; these are the fallbacks, set to the same values."""
    test_cfg = model_cfg.model.get('test_cfg') or {}
    test_cfg = test_cfg.get('rcnn', test_cfg)
    nms = test_cfg.get('nms') or {}
    return dict(
        score_threshold=test_cfg.get('score_thr', 0.05),
        confidence_threshold=0.005,
        iou_threshold=nms.get('iou_threshold', 0.5),
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=test_cfg.get('max_per_img', 100),
        background_label_id=-1)
