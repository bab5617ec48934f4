"""Tests of the Glue validation job. Run from the repository root:

    python3 -m unittest discover -s glue/tests -t . -v
"""

import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parents[1] / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)
