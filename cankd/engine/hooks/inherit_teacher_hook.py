# Copyright (c) cankd contributors. All rights reserved.
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...utils.inherit import inherit_from_teacher


@HOOKS.register_module()
class InheritTeacherHook(Hook):
    """CanKD† inheriting strategy: start the student's ``modules`` from the
    teacher's weights, and log what each one inherited.

    Runs once, before the first iteration of a fresh run. A resumed run, or
    one started with ``load_from``, keeps the weights it loaded.

    Args:
        modules (Sequence[str]): Module names present in both models, e.g.
            ``('neck', 'bbox_head')``.
    """
    priority = 'VERY_HIGH'

    def __init__(self, modules: Sequence[str]) -> None:
        if isinstance(modules, str) or not modules:
            raise ValueError('InheritTeacherHook needs a list of module '
                             f'names, e.g. ["neck", "bbox_head"], got '
                             f'{modules!r}.')
        self.modules = tuple(modules)

    def before_train(self, runner) -> None:
        # before_train runs after the Runner loaded or resumed a checkpoint.
        if getattr(runner, '_has_loaded', False):
            print_log('InheritTeacherHook: weights come from a loaded '
                      'checkpoint, not inheriting from the teacher.',
                      logger='current')
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        reports = inherit_from_teacher(model.student, model.teacher,
                                       self.modules)
        for report in reports:
            print_log('Inherited from the teacher: ' + report.summary(),
                      logger='current')
