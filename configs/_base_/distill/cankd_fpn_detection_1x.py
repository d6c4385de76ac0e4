# cankd_fpn_detection_2x.py on mmdet's 1x schedule (12 epochs, steps 8 and
# 11, as mmdet::_base_/schedules/schedule_1x.py): the paper's heterogeneous
# pair.
_base_ = './cankd_fpn_detection_2x.py'

train_cfg = dict(max_epochs=12)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
