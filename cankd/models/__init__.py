# Copyright (c) cankd contributors. All rights reserved.
from .losses import *  # noqa: F401,F403
