"""``python -m kmeans_quant``: the ``kmeans-quant`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
