# Copyright (c) cankd contributors. All rights reserved.
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...utils.distill_pairs import check_distill_pairs, format_pairs_table


@HOOKS.register_module()
class DistillationCheckHook(Hook):
    """Fail fast, before the first iteration, on the two mistakes that
    otherwise waste a whole distillation run: a teacher left at random
    initialisation (``teacher_ckpt`` unset), and a distilled student level
    paired with a teacher level of another stride or channel count.

    Args:
        image_size (Sequence[int]): ``(H, W)`` of the dummy image used to
            measure strides, a multiple of the largest stride. Defaults to
            ``(256, 256)``.
        require_teacher_ckpt (bool): Refuse a teacher that loaded no weights.
            Defaults to True.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 image_size: Sequence[int] = (256, 256),
                 require_teacher_ckpt: bool = True) -> None:
        self.image_size = tuple(image_size)
        self.require_teacher_ckpt = require_teacher_ckpt

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'distiller'):
            print_log(f'{type(self).__name__}: {type(model).__name__} is not '
                      'a distillation algorithm, nothing to check.',
                      logger='current')
            return
        # SingleTeacherDistill marks the teacher initialised once it loaded
        # teacher_ckpt (or pretrained weights through cfg_path): mmengine's
        # BaseModule.is_init.
        if self.require_teacher_ckpt and not getattr(model.teacher, 'is_init',
                                                     False):
            raise ValueError(
                'The teacher has no weights: model.teacher_ckpt is not set, '
                'so it would teach from a random initialisation. Set '
                'teacher_ckpt in the config or pass --cfg-options '
                'model.teacher_ckpt=PATH_OR_URL.')
        pairs = check_distill_pairs(model, self.image_size)
        print_log('Distilled pairs:\n' + format_pairs_table(pairs),
                  logger='current')
