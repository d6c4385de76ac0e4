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
        self.loaded_checkpoint = False

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Note that the Runner loaded (``load_from``) or resumed weights.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        self.loaded_checkpoint = True

    def before_train(self, runner) -> None:
        """Inherit, unless the Runner loaded a checkpoint.

        Args:
            runner (Runner): The runner; ``before_train`` runs after it
                loaded or resumed a checkpoint.
        """
        if self.loaded_checkpoint:
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
