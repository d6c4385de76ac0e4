# Fashion-MNIST mini-ImageNet (one real product photo per 128x128 image,
# 10 balanced classes), built by tools/data/make_fashion_imagenet.py into
# data/ in ImageNet's layout, read by mmpretrain's own ImageNet dataset.
# Iteration-based schedule sized for a 2-core CPU.
_base_ = 'mmpretrain::_base_/default_runtime.py'

data_root = 'data/fashion_cls/'
classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
# Typed: a distillation algorithm takes it as is (a classifier would add
# the type itself).
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=10,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='train',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='val',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         eta_min=1e-4),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters, max_keep_ckpts=2))
# A rank that stops answering ends a distributed job after 5 minutes.
env_cfg = dict(dist_cfg=dict(timeout=300))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=32)
randomness = dict(seed=0)
