# Copyright (c) cankd contributors. All rights reserved.
"""A converted student checkpoint is a plain mmdet/mmseg checkpoint:
``DetInferencer(weights=...)`` and ``MMSegInferencer(None, weights=...)``
with no config predict exactly as with the student's plain config, in a
fresh interpreter in which cankd cannot even be imported."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'

# Runs in a fresh interpreter: cankd is made unimportable, so nothing (a
# config's custom_imports included) can bring its loader or shims in.
INFER = '''
import json, sys
sys.modules['cankd'] = None
import numpy as np, torch
try:
    import torchvision
except RuntimeError:
    # A torchvision whose compiled ops do not load beside this torch (the
    # CPU test machine: PyPI's CUDA torchvision, the local CPU torch).
    # mmdet reaches it only through mmpretrain's optional models, which it
    # skips on ImportError; a user's matching torchvision imports. Hidden,
    # not patched: nothing of cankd's shims may help here.
    for name in [m for m in sys.modules if m.startswith('torchvision')]:
        del sys.modules[name]
    sys.modules['torchvision'] = None
from mmengine.runner.checkpoint import _load_checkpoint
INFERENCER, WEIGHTS, PLAIN_CFG = sys.argv[1:4]
if INFERENCER == 'det':
    from mmdet.apis import DetInferencer as Inferencer
    def predictions(inferencer, images):
        return [(p.pred_instances.scores, p.pred_instances.bboxes)
                for p in inferencer(images, return_datasamples=True)[
                    'predictions']]
else:
    from mmseg.apis import MMSegInferencer as Inferencer
    def predictions(inferencer, images):
        # MMSegInferencer returns the data samples themselves.
        return [(p.seg_logits.data, p.pred_sem_seg.data)
                for p in inferencer(images, return_datasamples=True)]
rng = np.random.default_rng(0)
images = [rng.integers(0, 255, (160, 192, 3), dtype=np.uint8)
          for _ in range(2)]
no_config = Inferencer(None, weights=WEIGHTS, device='cpu')
plain = Inferencer(PLAIN_CFG, weights=WEIGHTS, device='cpu')
state_dict = _load_checkpoint(WEIGHTS, map_location='cpu')['state_dict']
loaded = no_config.model.state_dict()
print(json.dumps(dict(
    model=type(no_config.model).__name__,
    weights_loaded=all(torch.equal(loaded[k], v)
                       for k, v in state_dict.items()),
    same_predictions=all(
        torch.equal(a, b) for x, y in zip(predictions(no_config, images),
                                          predictions(plain, images))
        for a, b in zip(x, y)),
    predicted=sum(len(x[0]) for x in predictions(no_config, images)),
    classes=no_config.model.dataset_meta['classes'],
    cankd_imported=sys.modules.get('cankd') is not None)))
'''


def infer_without_cankd(inferencer, weights, plain_config):
    result = subprocess.run(
        [sys.executable, '-c', INFER, inferencer, str(weights),
         str(plain_config)], capture_output=True, text=True, timeout=600,
        cwd=ROOT, env=dict(PATH='/usr/bin:/bin', OMP_NUM_THREADS='1',
                           HOME=os.environ.get('HOME', '/tmp')))
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_det_inferencer_needs_no_config_and_no_cankd(tmp_path,
                                                    converted_student):
    classes = Config.fromfile(DEMO / '_base_' / 'fashion_det_data.py').classes
    weights = converted_student(
        tmp_path,
        DEMO / 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py',
        classes)
    facts = infer_without_cankd('det', weights,
                                DEMO / 'retinanet_r18-w16_fpn64_fashion.py')
    assert facts == dict(model='RetinaNet', weights_loaded=True,
                         same_predictions=True,
                         predicted=facts['predicted'],
                         classes=list(classes), cankd_imported=False)
    assert facts['predicted'] > 0


@pytest.mark.slow
def test_mmseg_inferencer_needs_no_config_and_no_cankd(tmp_path,
                                                       converted_student):
    classes = ['class%d' % i for i in range(19)]
    weights = converted_student(
        tmp_path,
        DEMO / 'cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_cityscapes-mini.py',
        classes)
    plain_config = DEMO / 'deeplabv3_r18-w16-d8_cityscapes-mini.py'
    facts = infer_without_cankd('seg', weights, plain_config)
    assert facts == dict(model='EncoderDecoder', weights_loaded=True,
                         same_predictions=True,
                         predicted=facts['predicted'], classes=classes,
                         cankd_imported=False)
