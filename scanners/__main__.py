"""``python -m scanners SOURCE [options]``: ``archcheck`` without Django (:mod:`scanners.archcheck`)."""

import sys

from scanners.archcheck import main

sys.exit(main())
