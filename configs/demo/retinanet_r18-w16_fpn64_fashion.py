# Demo student trained alone (the no-distillation baseline) on the mosaics;
# also the config that tests a converted student checkpoint.
_base_ = ['./_base_/fashion_det_data.py', './_base_/demo_detectors.py']
model = {{_base_.student_model}}
