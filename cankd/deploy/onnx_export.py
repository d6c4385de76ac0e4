# Copyright (c) cankd contributors. All rights reserved.
"""Export a plain student (mmdet or mmseg) to ONNX with mmdeploy, and build
the PyTorch and onnxruntime models that the parity check and the
evaluation compare."""
import copy
import os.path as osp
from typing import NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config
from torch import nn

from .deploy_config import ONNX_FILE, onnxruntime_deploy_config
from .legacy_exporter import legacy_onnx_exporter


class OnnxExport(NamedTuple):
    """An exported model and the configs it was exported with.

    Attributes:
        onnx_file (str): Path of the ONNX model.
        model_cfg (Config): The model config, with a ``test_pipeline``.
        deploy_cfg (Config): mmdeploy's deploy config.
        input_shape (Tuple[int, int], optional): ``(width, height)`` of the
            input of a static export; ``None`` when dynamic.
    """
    onnx_file: str
    model_cfg: Config
    deploy_cfg: Config
    input_shape: Optional[Tuple[int, int]]


class DeployModels(NamedTuple):
    """The same weights in PyTorch and in onnxruntime.

    Attributes:
        task_processor: mmdeploy's task processor (inputs, test runner).
        pytorch (nn.Module): The mmdet/mmseg model, checkpoint loaded.
        onnxruntime (nn.Module): mmdeploy's onnxruntime model.
    """
    task_processor: object
    pytorch: nn.Module
    onnxruntime: nn.Module


def with_test_pipeline(model_cfg: Config) -> Config:
    """``model_cfg`` with a top-level ``test_pipeline`` (mmdeploy reads
    that one), taken from the test dataloader when missing.

    Args:
        model_cfg (Config): A plain model config.

    Returns:
        Config: A copy.
    """
    model_cfg = copy.deepcopy(model_cfg)
    if 'test_pipeline' not in model_cfg:
        model_cfg.test_pipeline = copy.deepcopy(
            model_cfg.test_dataloader.dataset.pipeline)
    return model_cfg


def first_test_image(model_cfg: Config) -> str:
    """The first image of the config's test set.

    Args:
        model_cfg (Config): A plain model config.

    Returns:
        str: Its path.
    """
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope(model_cfg.get('default_scope', 'mmdet'))
    dataset_cfg = copy.deepcopy(model_cfg.test_dataloader.dataset)
    dataset_cfg.pipeline = []
    return DATASETS.build(dataset_cfg).get_data_info(0)['img_path']


def static_input_shape(model_cfg: Config, image: str,
                       device: str = 'cpu') -> Tuple[int, int]:
    """The ``(width, height)`` that the test pipeline and the data
    preprocessor (padding included) give ``image``.

    Args:
        model_cfg (Config): A plain model config with ``test_pipeline``.
        image (str): An image path.
        device (str): Device for mmdeploy's task processor.

    Returns:
        Tuple[int, int]: Width and height of the model's input.
    """
    from mmdeploy.apis.utils import build_task_processor
    deploy_cfg = onnxruntime_deploy_config(model_cfg)
    task_processor = build_task_processor(model_cfg, deploy_cfg, device)
    preprocessor = task_processor.build_data_preprocessor()
    _, inputs = task_processor.create_input(
        image, None, data_preprocessor=preprocessor)
    height, width = inputs.shape[-2:]
    return int(width), int(height)


def export_onnx(model_cfg: Config,
                checkpoint: str,
                out_dir: str,
                image: str,
                dynamic: bool = False,
                opset: int = 11,
                device: str = 'cpu') -> OnnxExport:
    """Export a detector or segmentor to ``out_dir/end2end.onnx``.

    mmdeploy's ``torch2onnx`` runs with torch's TorchScript exporter
    (:func:`legacy_onnx_exporter`): the default one of torch >= 2.9 breaks
    mmdeploy 1.3.1.

    Args:
        model_cfg (Config): The plain mmdet/mmseg config of the model.
        checkpoint (str): A plain (converted) checkpoint of it.
        out_dir (str): Folder of the ONNX model.
        image (str): The image traced through the model. A static export
            takes inputs of its size after the test pipeline and padding.
        dynamic (bool): Let batch size, height and width vary.
        opset (int): ONNX opset version.
        device (str): Device of the PyTorch model.

    Returns:
        OnnxExport: The ONNX file and the configs.
    """
    from mmdeploy.apis import torch2onnx
    model_cfg = with_test_pipeline(model_cfg)
    input_shape = None if dynamic else static_input_shape(
        model_cfg, image, device)
    deploy_cfg = onnxruntime_deploy_config(model_cfg, input_shape, dynamic,
                                           opset)
    with legacy_onnx_exporter():
        torch2onnx(image, out_dir, ONNX_FILE, deploy_cfg, model_cfg,
                   checkpoint, device)
    return OnnxExport(
        osp.join(out_dir, ONNX_FILE), model_cfg, deploy_cfg, input_shape)


def build_deploy_models(export: OnnxExport,
                        checkpoint: str,
                        device: str = 'cpu') -> DeployModels:
    """The PyTorch model (``checkpoint`` loaded) and the onnxruntime model
    of an export.

    Args:
        export (OnnxExport): What :func:`export_onnx` returned.
        checkpoint (str): The checkpoint that was exported.
        device (str): Device of both models.

    Returns:
        DeployModels: The task processor and both models, in eval mode.
    """
    from mmdeploy.apis.utils import build_task_processor
    task_processor = build_task_processor(export.model_cfg, export.deploy_cfg,
                                          device)
    pytorch = task_processor.build_pytorch_model(checkpoint)
    onnxruntime = task_processor.build_backend_model(
        [export.onnx_file], task_processor.update_data_preprocessor)
    return DeployModels(task_processor, pytorch, onnxruntime)


def image_inputs(export: OnnxExport, models: DeployModels,
                 images: Sequence[str]) -> list:
    """Each image as one model input batch, at the exported shape when
    static.

    Args:
        export (OnnxExport): The export.
        models (DeployModels): Its models.
        images (Sequence[str]): Image paths.

    Returns:
        list[dict]: ``test_step`` inputs, one per image.

    Raises:
        ValueError: A static export and an image of another size.
    """
    batches = []
    for image in images:
        data, _ = models.task_processor.create_input(image,
                                                     export.input_shape)
        if export.input_shape is not None:
            _check_static_shape(export, models, data, image)
        batches.append(data)
    return batches


def _check_static_shape(export: OnnxExport, models: DeployModels, data: dict,
                        image: str) -> None:
    inputs = models.pytorch.data_preprocessor(copy.deepcopy(data),
                                              False)['inputs']
    height, width = inputs.shape[-2:]
    if (int(width), int(height)) != tuple(export.input_shape):
        raise ValueError(
            f'{image} becomes a {width}x{height} input, but the model was '
            f'exported for {export.input_shape[0]}x{export.input_shape[1]} '
            '(static shape). Export with --dynamic for images of other '
            'sizes.')
