# Copyright (c) cankd contributors. All rights reserved.
"""MMRazor's recording, mended: an in-place activation after a recorded
module cannot alter what the loss reads, and a recorder whose source is not
a module names the closest module names."""
import pytest
import torch
from mmengine.model import BaseModel
from mmrazor.models.algorithms import BaseAlgorithm
from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from torch import nn

from cankd.utils.distill_pairs import _InPlaceWatch


class BnThenInPlaceReLU(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(2)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x, data_samples=None, mode='tensor'):
        return self.act(self.bn(x))


def test_set_module_inplace_false_switches_every_inplace_module_off():
    model = nn.Sequential(BnThenInPlaceReLU(), nn.Sequential(nn.ReLU(True)))

    BaseAlgorithm.set_module_inplace_false(None, model, 'self.architecture')

    assert [m.inplace for m in model.modules() if hasattr(m, 'inplace')
            ] == [False, False]


def test_a_distillation_algorithm_records_the_pre_activation_values():
    model = BnThenInPlaceReLU().eval()
    algorithm = BaseAlgorithm(architecture=model)  # module_inplace=False
    recorder = ModuleOutputsRecorder('bn')
    recorder.initialize(algorithm.architecture)
    x = torch.randn(1, 2, 4, 4)

    with recorder:
        algorithm.architecture(x)

    recorded = recorder.get_record_data()
    assert (recorded < 0).any(), 'the ReLU modified the recorded output'
    torch.testing.assert_close(recorded, model.bn(x))


def test_an_in_place_change_after_recording_is_detected():
    model = BnThenInPlaceReLU().eval()  # inplace still on: not an algorithm
    watch = _InPlaceWatch(model, ['bn'])
    try:
        model(torch.randn(1, 2, 4, 4))
        assert watch.modified('bn')
    finally:
        watch.remove()


def test_a_missing_source_names_the_closest_modules():
    model = nn.Sequential()
    model.add_module('neck', nn.Sequential(nn.Conv2d(2, 2, 1)))
    recorder = ModuleOutputsRecorder('nek')

    with pytest.raises(ValueError, match=r"'nek' is not a module.*neck"):
        recorder.initialize(model)
