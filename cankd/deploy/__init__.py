# Copyright (c) cankd contributors. All rights reserved.
"""Deploy a plain (converted) student: ONNX export with mmdeploy 1.3.1 on
current torch, onnxruntime-versus-PyTorch parity and test-set metrics.

Needs ``requirements/deploy.txt`` (mmdeploy, onnx, onnxruntime)."""
from .deploy_config import codebase_of, onnxruntime_deploy_config
from .evaluation import (default_metric_atol, evaluate_both,
                         evaluation_dataloader, headline_metric)
from .legacy_exporter import exporter_takes_dynamo, legacy_onnx_exporter
from .onnx_export import (DeployModels, OnnxExport, build_deploy_models,
                          export_onnx, first_test_image)
from .parity import DEFAULT_ATOL, ParityReport, compare_outputs

__all__ = [
    'legacy_onnx_exporter', 'exporter_takes_dynamo',
    'onnxruntime_deploy_config', 'codebase_of', 'export_onnx',
    'build_deploy_models', 'first_test_image', 'OnnxExport', 'DeployModels',
    'compare_outputs', 'ParityReport', 'DEFAULT_ATOL', 'evaluate_both',
    'evaluation_dataloader', 'headline_metric', 'default_metric_atol'
]
