# Copyright (c) cankd contributors. All rights reserved.
"""The machine and the library versions a measurement of the method ran on,
as the benchmarks and the reproduction record them beside their results."""
import platform
from typing import Dict


def cpu_model() -> str:
    """The CPU's model name.

    Returns:
        str: E.g. ``'AMD EPYC 7B13'``; the processor or machine name where
        ``/proc/cpuinfo`` does not say.
    """
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> Dict[str, str]:
    """Versions of Python and of the libraries a result depends on.

    Returns:
        Dict[str, str]: ``python``, ``torch``, ``mmcv``, ``mmengine``,
        ``mmrazor`` and ``cankd`` versions.
    """
    import mmcv
    import mmengine
    import mmrazor
    import torch

    from ..version import __version__
    return dict(python=platform.python_version(), torch=torch.__version__,
                mmcv=mmcv.__version__, mmengine=mmengine.__version__,
                mmrazor=mmrazor.__version__, cankd=__version__)
