"""``python -m kmeans_quant``: the ``kmeans-quant`` command."""

import sys

try:  # Ctrl-C while the command loads: a message, no traceback
    from .cli import main
except KeyboardInterrupt:
    sys.stderr.write("kmeans-quant: interrupted\n")
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
