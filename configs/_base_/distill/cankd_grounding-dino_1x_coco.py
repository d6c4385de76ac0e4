# CanKD for GroundingDINO: mmdet's grounding_dino_r50_scratch_8xb2_1x_coco.py
# as it is (data, AdamW lr 1e-4 with backbone lr x0.1, grad clip 0.1, 12
# epochs) with its model as both student and teacher; a pair changes the
# teacher and sets teacher_ckpt.
# Building it needs what cankd's environment does not install: `transformers`
# for the text encoder, whose weights come from the Hugging Face hub
# ('bert-base-uncased'; for a local copy set language_model.name of both
# model.architecture and model.teacher to its directory), and `fairscale`,
# because mmdet's config checkpoints the encoder layers (encoder.num_cp=6;
# num_cp=0 builds without fairscale at the cost of memory). The config is
# therefore not built by tools/analysis/check_config.py offline.
_base_ = [
    'mmdet::grounding_dino/grounding_dino_r50_scratch_8xb2_1x_coco.py',
    './cankd_neck_distillers.py',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=_base_.model,
    teacher=_base_.model,
    teacher_ckpt=None,
    distiller=_base_.cankd_detr_distiller)

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
