# Copyright (c) cankd contributors. All rights reserved.
"""What the benchmarks print about the machine they ran on."""
import platform
from typing import Dict


def cpu_model() -> str:
    """The CPU's model name, e.g. ``'AMD EPYC 7B13'``."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> Dict[str, str]:
    """Versions of Python and of the libraries a result depends on."""
    import cankd
    import mmcv
    import mmengine
    import mmrazor
    import torch
    return dict(python=platform.python_version(), torch=torch.__version__,
                mmcv=mmcv.__version__, mmengine=mmengine.__version__,
                mmrazor=mmrazor.__version__, cankd=cankd.__version__)
