# Copyright (c) cankd contributors. All rights reserved.
"""Root conftest: puts the repository first on sys.path so that our tests
are not shadowed by the ``tests`` packages mmdet and mmrazor install into
site-packages, and imports cankd before anything imports mmrazor."""
import os.path as osp
import sys

ROOT = osp.dirname(osp.abspath(__file__))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import cankd  # noqa: E402,F401
