# Copyright (c) cankd contributors. All rights reserved.
"""Run mmdeploy 1.3.1 on torch >= 2.9: select torch's TorchScript-based
ONNX exporter (``dynamo=False``) while mmdeploy exports.

torch 2.9 made ``torch.onnx.export`` default to the new exporter
(``dynamo=True``). mmdeploy 1.3.1 calls ``torch.onnx.export`` without that
argument, and its export then fails: first with ``No module named
'onnxscript'``, then (onnxscript installed) inside its rewriters, at
``mmdeploy/codebase/mmdet/models/detectors/single_stage.py:78``, with "The
tensor has a non-zero number of elements, but its data is not allocated
yet" (the new exporter traces with fake tensors, and mmdeploy's rewriters
read input shapes as data), reported as ``KeyError: -1`` from
``mmdeploy/core/rewriters/function_rewriter.py:252``. mmdeploy's rewriters
and symbolic functions are written for the TorchScript exporter; with it,
the export works (standard ONNX ops, opset 11).
"""
import contextlib
import functools
import inspect
from typing import Iterator

import torch


def exporter_takes_dynamo() -> bool:
    """Whether ``torch.onnx.export`` has the ``dynamo`` switch (torch >=
    2.5); before 2.9 it defaults to ``False`` already."""
    try:
        return 'dynamo' in inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def legacy_onnx_exporter() -> Iterator[None]:
    """Within the block, ``torch.onnx.export`` defaults to
    ``dynamo=False``; an explicit ``dynamo=`` argument still wins.

    Restores the original function on exit, also on error. A no-op on a
    torch without the switch.
    """
    if not exporter_takes_dynamo():
        yield
        return
    export = torch.onnx.export

    @functools.wraps(export)
    def legacy_export(*args, **kwargs):
        kwargs.setdefault('dynamo', False)
        return export(*args, **kwargs)

    torch.onnx.export = legacy_export
    try:
        yield
    finally:
        torch.onnx.export = export
