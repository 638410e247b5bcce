"""``python -m harness`` is the ``gradharness`` command."""

import sys

from .cli import main

sys.exit(main())
