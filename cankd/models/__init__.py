# Copyright (c) cankd contributors. All rights reserved.
from .backbones import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
