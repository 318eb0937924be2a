"""Facts about the machine and software a run was measured on."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = (
    "kmeans_quant",
    "numpy",
    "sklearn",
    "skimage",
    "PIL",
    "imagequant",
    "cv2",
    "matplotlib",
    "threadpoolctl",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        mod = importlib.import_module(name)
    except Exception:
        return "not installed"
    version = getattr(mod, "__version__", None)
    if version is None:
        from importlib import metadata

        try:
            version = metadata.version({"PIL": "pillow", "cv2": "opencv-python"}.get(name, name))
        except metadata.PackageNotFoundError:
            version = "installed (version unknown)"
    return str(version)


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    import numpy  # noqa: F401  (loads its BLAS so threadpoolctl can see it)

    parts = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
        f"{p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "none found"


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "kmeans_quant"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" (kmeans_quant/ has uncommitted changes)" if dirty else "")


def machine_facts() -> dict[str, str]:
    """CPU, memory, Python, BLAS and library versions, as table rows."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    facts = {
        "CPU": _cpu_model(),
        "CPUs (os.cpu_count / usable)": f"{os.cpu_count()} / {usable}",
        "load average at start (1, 5, 15 min)": load,
        "OS": platform.platform(),
        "Python": sys.version.split()[0],
        "NumPy BLAS (threadpoolctl)": _blas(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "not set"),
        "kmeans_quant commit": _git_commit(),
    }
    for name in PACKAGES:
        facts[f"{name} version"] = _version(name)
    return facts
