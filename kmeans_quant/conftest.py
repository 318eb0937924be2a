"""Collection rules for the package's doctests (``--doctest-modules``)."""

import importlib.util

# kmeans_quant.dask needs the optional [dask] extra; without it, its doctests
# cannot even be imported, and tests/test_dask.py skips itself.
collect_ignore = []
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore.append("dask")
