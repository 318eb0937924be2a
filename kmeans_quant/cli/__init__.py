"""The ``kmeans-quant`` command (also ``python -m kmeans_quant``).

:mod:`._args` holds the command line's arguments; :mod:`._main` plans the
run and carries it out, one :mod:`kmeans_quant.job` per file.
"""

import sys

try:  # Ctrl-C while the command loads: a message, no traceback
    from ._args import build_parser
    from ._main import main
except KeyboardInterrupt:
    sys.stderr.write("kmeans-quant: interrupted\n")
    sys.exit(130)

__all__ = ["main", "build_parser"]
