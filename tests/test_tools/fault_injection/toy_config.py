# The fault-injection tests' training job: 8 iterations of a toy regressor
# through tools/train.py, a checkpoint every 2 iterations, only the last one
# kept (the setting in which a badly ordered save loses everything).
custom_imports = dict(imports=['cankd_fault_toy'], allow_failed_imports=False)
default_scope = 'mmengine'
model = dict(type='FaultToyModel', ballast=4_000_000, step_sleep=0.0)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='FaultToyDataset', length=64))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2,
                    max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=1))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='nccl', timeout=60))
randomness = dict(seed=0)
