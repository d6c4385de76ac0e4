# Copyright (c) cankd contributors. All rights reserved.
"""ONNX export of the demo students with mmdeploy 1.3.1 on current torch,
and onnxruntime against PyTorch on the same images. Random weights, small
images: the point is that the exported graph computes what the model
computes, at static and dynamic shapes."""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config

from cankd.deploy import (build_deploy_models, compare_outputs, export_onnx,
                          legacy_onnx_exporter)
from cankd.utils.build import build_model_offline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
DET_STUDENT = DEMO / 'retinanet_r18-w16_fpn64_fashion.py'
SEG_STUDENT = DEMO / 'deeplabv3_r18-w16-d8_cityscapes-mini.py'


def test_legacy_exporter_is_selected_only_inside_the_block(monkeypatch):
    calls = []

    def export(model, args, f=None, *, dynamo=True, **kwargs):
        calls.append(dynamo)

    monkeypatch.setattr(torch.onnx, 'export', export)
    with legacy_onnx_exporter():
        torch.onnx.export(None, ())
        torch.onnx.export(None, (), dynamo=True)  # an explicit choice wins
    torch.onnx.export(None, ())
    assert calls == [False, True, True]
    assert torch.onnx.export is export


def random_student(cfg: Config, folder: Path) -> str:
    """A plain checkpoint of the config's model, random weights."""
    path = folder / 'student.pth'
    torch.save(dict(state_dict=build_model_offline(cfg).state_dict()), path)
    return str(path)


def image(folder: Path, name: str, height: int, width: int) -> str:
    import cv2
    path = folder / name
    rng = np.random.default_rng(height * width)
    cv2.imwrite(str(path), rng.integers(0, 255, (height, width, 3),
                                        dtype=np.uint8))
    return str(path)


def graph_facts(onnx_file: str):
    model = onnx.load(onnx_file)
    dims = [d.dim_value or d.dim_param
            for d in model.graph.input[0].type.tensor_type.shape.dim]
    domains = {node.domain for node in model.graph.node}
    return dims, domains, model.opset_import[0].version


def test_detection_student_static_export_matches_pytorch(tmp_path):
    cfg = Config.fromfile(DET_STUDENT)
    checkpoint = random_student(cfg, tmp_path)
    images = [image(tmp_path, f'{i}.png', 128, 128) for i in range(2)]
    export = export_onnx(cfg, checkpoint, str(tmp_path / 'onnx'), images[0])

    assert export.input_shape == (128, 128)
    dims, domains, opset = graph_facts(export.onnx_file)
    # Standard ONNX ops only (NMS included): no mmdeploy custom op library.
    assert dims == [1, 3, 128, 128] and domains <= {''} and opset == 11

    models = build_deploy_models(export, checkpoint)
    report = compare_outputs(export, models, images)
    assert report.ok, report
    assert report.counts['pytorch'] > 0
    assert report.max_abs['score'] < 1e-4 and report.max_abs['box'] < 1e-2

    # Beyond a tolerance, the report says what differs (the tool exits 1).
    strict = compare_outputs(export, models, images[:1],
                             atol=dict(score=-1.0, box=-1.0))
    assert not strict.ok
    assert [f.split('|')[1] for f in strict.failures] == [
        'delta score', 'delta box']


def test_segmentation_student_dynamic_export_matches_pytorch(tmp_path):
    cfg = Config.fromfile(SEG_STUDENT)
    checkpoint = random_student(cfg, tmp_path)
    # Two sizes through one dynamic graph.
    images = [image(tmp_path, 'a.png', 128, 160),
              image(tmp_path, 'b.png', 96, 128)]
    export = export_onnx(cfg, checkpoint, str(tmp_path / 'onnx'), images[0],
                         dynamic=True)

    assert export.input_shape is None
    dims, domains, _ = graph_facts(export.onnx_file)
    assert dims == ['batch', 3, 'height', 'width'] and domains <= {''}

    models = build_deploy_models(export, checkpoint)
    report = compare_outputs(export, models, images)
    assert report.ok, report
    assert report.max_abs['logit'] < 1e-3
    assert report.counts['pixels'] == 128 * 160 + 96 * 128

    # The batch is dynamic too: onnxruntime alone, two images at once.
    import onnxruntime
    batch = np.random.default_rng(0).standard_normal(
        (2, 3, 64, 96)).astype(np.float32)
    logits, = onnxruntime.InferenceSession(export.onnx_file).run(
        None, dict(input=batch))
    with torch.no_grad():
        expected = models.pytorch.encode_decode(
            torch.from_numpy(batch), [dict(img_shape=(64, 96))] * 2)
    assert logits.shape == (2, 19, 64, 96)
    assert np.abs(logits - expected.numpy()).max() < 1e-3


def test_export_tool_evaluates_both_with_the_demo_test_batch_of_8(
        tmp_path, run_command):
    """A static export, evaluated through the config's test dataloader
    (batch size 8 in the demo config) on a few validation mosaics."""
    cfg = tmp_path / 'student.py'
    cfg.write_text(f"_base_ = '{DET_STUDENT}'\n"
                   'test_dataloader = dict(dataset=dict(indices=4))\n')
    checkpoint = random_student(Config.fromfile(cfg), tmp_path)
    out = tmp_path / 'onnx'
    log = run_command(sys.executable, 'tools/deployment/export_onnx.py', cfg,
                      checkpoint, '--out', out, '--eval')
    assert 'static 1x3x128x128' in log
    assert 'max |delta score| onnxruntime vs PyTorch' in log
    assert 'coco/bbox_mAP: PyTorch' in log
    assert 'onnxruntime matches PyTorch' in log
    report = json.loads((out / 'export_report.json').read_text())
    assert report['failures'] == []
    metrics = report['metrics']
    assert metrics['pytorch']['coco/bbox_mAP'] == pytest.approx(
        metrics['onnxruntime']['coco/bbox_mAP'], abs=0.005)
