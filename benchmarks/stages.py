"""Where the time of ``kmeans_quant.quantize`` goes, from a profile of the public call.

One call is run under :mod:`cProfile` and the cumulative time of the
library's internal functions is grouped into the stages of the algorithm.
Internal names may change as the engine evolves; a stage whose function is
not found is reported as missing rather than guessed.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

# (stage, file inside kmeans_quant, function): the functions whose cumulative
# time makes each top-level stage. They do not call one another, so their
# times add up.
STAGES = (
    ("colour table (histogram)", "color_table.py", "color_table"),
    ("coarse pooling", "color_table.py", "pool_on_grid"),
    ("seeding (k-means++)", "engine/_seeding.py", "plusplus_starts"),
    ("Lloyd iterations", "engine/_lloyd.py", "_lloyd"),
    ("map colours to palette", "_fit/pipeline.py", "map_to_palette"),
    ("expand to pixels", "_fit/pipeline.py", "expand"),
)
# Parts of the Lloyd stage: the two steps (methods of engine._steps.Points),
# counted only when called from the loop or its over-relaxed step.
LLOYD_PARTS = (
    ("  of which assignment", "engine/_steps.py", ("assign",)),
    ("  of which update", "engine/_steps.py", ("sums", "means")),
)
LLOYD_CALLERS = (("engine/_lloyd.py", "_lloyd"), ("engine/_lloyd.py", "_relaxed_step"))


def _matches(key: tuple[str, int, str], file: str, func: str) -> bool:
    filename, _, name = key
    path = filename.replace("\\", "/")
    return name == func and path.endswith(f"kmeans_quant/{file}")


def profile_stages(call: Callable[[], Any]) -> dict[str, float | None]:
    """Seconds spent in each stage of one ``call()``; None for a stage not found.

    Also returns ``"total"`` (wall time of the profiled call) and ``"other"``
    (total minus the stages: validation, casts, Python overhead).
    """
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(call)
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # key -> (cc, nc, tt, ct, callers)

    out: dict[str, float | None] = {}
    for label, file, func in STAGES:
        found = [v[3] for k, v in stats.items() if _matches(k, file, func)]
        out[label] = sum(found) if found else None
    for label, file, funcs in LLOYD_PARTS:
        found = None
        for k, v in stats.items():
            if any(_matches(k, file, func) for func in funcs):
                from_lloyd = [
                    c[3]
                    for ck, c in v[4].items()
                    if any(_matches(ck, *caller) for caller in LLOYD_CALLERS)
                ]
                found = (found or 0.0) + sum(from_lloyd)
        out[label] = found
    top = sum(out[label] or 0.0 for label, _, _ in STAGES)
    out["other"] = max(0.0, total - top)
    out["total"] = total
    return out
