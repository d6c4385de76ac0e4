# data/cityscapes_mini (tools/data/fetch_real_photos.py): 6 real photos
# (5 street frames, 1 VOC photo) in mmseg's Cityscapes layout, 19 classes,
# labelled pixels car 13, truck 14, bus 15, the rest 255 (ignored).
# val is a copy of train: the set is for overfitting and pipelines, not for
# measuring generalisation. Iteration-based schedule sized for a 2-core CPU,
# with the paper's optimiser (SGD, wd 5e-4, poly) at a demo learning rate.
_base_ = 'mmseg::_base_/default_runtime.py'

dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes_mini/'
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 288), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    # cat_max_ratio retries crops holding fewer than two labelled classes.
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
# Photos of two sizes: one image per batch at test time.
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 200
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100,
                    max_keep_ckpts=2),
    visualization=dict(type='SegVisualizationHook', draw=False))
# A rank that stops answering (stopped, swapping) ends a distributed job after
# 5 minutes instead of torch's 30; saving and evaluating here take seconds.
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(timeout=300))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=4)
