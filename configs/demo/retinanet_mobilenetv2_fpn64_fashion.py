# Demo teacher trained on the mosaics.
_base_ = ['./_base_/fashion_det_data.py', './_base_/demo_detectors.py']
model = {{_base_.teacher_model}}
