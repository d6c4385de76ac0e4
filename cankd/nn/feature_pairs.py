# Copyright (c) cankd contributors. All rights reserved.
"""What every feature-distillation loss of ``cankd.nn`` checks of its
arguments and inputs, with messages that say what to change."""
import torch
from torch import Tensor


def check_positive_int(owner: str, name: str, value) -> None:
    """Raise unless ``value`` is an int (not a bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f'{owner} expects {name} to be a positive int, got {value!r}.')


def check_feature_pair(owner: str, in_channels: int, s_feature: Tensor,
                       t_feature: Tensor) -> None:
    """Raise unless student and teacher are ``(B, in_channels, H, W)`` maps
    of the same batch and spatial size.

    Args:
        owner (str): The loss's class name, as users wrote it in a config.
        in_channels (int): The channel count the loss was built with.
        s_feature (Tensor): Student feature, shape ``(B, C, H, W)``.
        t_feature (Tensor): Teacher feature, shape ``(B, C, H, W)``.
    """
    for name, feature in (('s_feature', s_feature),
                          ('t_feature', t_feature)):
        if not isinstance(feature, Tensor):
            raise TypeError(
                f'{owner} expects {name} to be a Tensor of shape '
                f'(B, C, H, W), got {type(feature).__name__}. If the '
                'recorder holds several levels (e.g. a whole FPN output), '
                'select one with `data_idx` in loss_forward_mappings.')
        if feature.dim() != 4:
            raise ValueError(
                f'{owner} expects {name} of shape (B, C, H, W), got '
                f'{tuple(feature.shape)}. Record a convolutional feature '
                'map (an FPN level or a backbone stage), not a pooled or '
                'flattened output.')
        if feature.shape[1] != in_channels:
            raise ValueError(
                f'{owner} was built with in_channels={in_channels} '
                f'but {name} has {feature.shape[1]} channels (shape '
                f'{tuple(feature.shape)}). Set in_channels to the '
                "teacher's channel count and map the student to it with "
                'a connector (e.g. ConvModuleConnector).')
    s_shape, t_shape = tuple(s_feature.shape), tuple(t_feature.shape)
    if s_shape[0] != t_shape[0]:
        raise ValueError(
            f'{owner} got a batch of {s_shape[0]} student features and '
            f'{t_shape[0]} teacher features (student {s_shape}, teacher '
            f'{t_shape}): both models must see the same batch.')
    if s_shape[2:] != t_shape[2:]:
        raise ValueError(
            f'{owner} needs student and teacher features of the same '
            f'spatial size, got student {s_shape} and teacher {t_shape}. '
            'Pair levels of the same stride in the recorders of '
            'loss_forward_mappings, or add a connector that resizes the '
            'student feature to the teacher\'s.')


def check_finite_teacher(owner: str, loss: Tensor, t_feature: Tensor) -> None:
    """Raise when a non-finite loss comes from a non-finite teacher.

    Any inf or nan in the teacher reaches the loss, so the full scan of the
    teacher map runs only when the loss scalar is already bad.
    """
    if not torch.isfinite(loss) and not torch.isfinite(t_feature).all():
        raise ValueError(
            f'{owner} got non-finite values (inf or nan) in the teacher '
            f'feature {tuple(t_feature.shape)}. Check the teacher '
            'checkpoint and, under AMP, whether the teacher overflows '
            'in fp16.')


def at_least_fp32(tensor: Tensor) -> Tensor:
    """Upcast half precision; fp32 and fp64 stay as they are."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor
