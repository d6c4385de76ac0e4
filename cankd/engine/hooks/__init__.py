# Copyright (c) cankd contributors. All rights reserved.
from .distillation_check_hook import DistillationCheckHook
from .inherit_teacher_hook import InheritTeacherHook

__all__ = ['DistillationCheckHook', 'InheritTeacherHook']
