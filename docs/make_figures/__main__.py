"""``python -m docs.make_figures`` from the repository root."""

from . import main

main()
