"""Input checks shared by the public functions.

Every public function validates and normalises its input here, once, and
then hands clean arrays to private kernels that assume them (the layering
scikit-learn uses). Messages name the problem and the offending value.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

RNGLike = int | np.random.Generator | None


def check_k(k: Any, name: str = "k") -> int:
    """Return ``k`` as a Python int, or raise if it is not a positive integer.

    Booleans, floats (even ``2.0``), strings and None are rejected: silently
    truncating ``2.5`` or accepting ``True`` as 1 hides bugs in the caller.
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {k!r}")
    if k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def check_rng(rng: Any) -> np.random.Generator:
    """Make the one ``np.random.Generator`` a public call passes down.

    ``None`` gives fresh OS entropy, an int seeds a new Generator, and a
    Generator is used as is (so its state advances). Global state is never
    touched.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}"
        )
    if rng < 0:
        raise ValueError(f"rng seed must be non-negative, got {rng!r}")
    return np.random.default_rng(int(rng))


def check_positive_int(value: Any, name: str) -> int:
    """Like :func:`check_k`, for other counts such as ``max_iter``."""
    return check_k(value, name)


def check_tol(tol: Any) -> float:
    """Return ``tol`` as a float, or raise unless it is a finite number >= 0."""
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a non-negative number, got {tol!r}")
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a non-negative finite number, got {tol!r}")
    return float(tol)


# Largest over-relaxation factor accepted. The palette fit uses 3; much
# longer steps throw the trial centres far past their clusters.
MAX_RELAX = 8.0


def check_relax(relax: Any) -> float:
    """Return ``relax`` as a float, or raise unless ``1 <= relax <= MAX_RELAX``."""
    if isinstance(relax, (bool, np.bool_)) or not isinstance(relax, numbers.Real):
        raise TypeError(f"relax must be a number in [1, {MAX_RELAX:g}], got {relax!r}")
    if not np.isfinite(relax) or not 1 <= relax <= MAX_RELAX:
        raise ValueError(f"relax must lie in [1, {MAX_RELAX:g}], got {relax!r}")
    return float(relax)


def check_data(X: Any) -> NDArray[np.floating]:
    """Return ``X`` as a C-contiguous 2-D float array, float32 kept as float32.

    Integer and boolean data become float64. Complex, object and string data
    are refused, as are NaN and infinity.
    """
    if X is None:
        raise TypeError("X must be an array of shape (n_samples, n_features), got None")
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"X must hold real numbers, got an array of dtype {arr.dtype}"
        )
    if arr.ndim != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_samples, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X is empty, got shape {arr.shape}")
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError("X contains NaN or infinite values")
    return arr


def check_sample_weight(sample_weight: Any, n: int, dtype: np.dtype) -> NDArray[np.floating]:
    """Return weights of shape ``(n,)``: ones when None, else checked >= 0."""
    if sample_weight is None:
        return np.ones(n, dtype=dtype)
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},) to match X, got shape {w.shape}"
        )
    w = np.ascontiguousarray(w, dtype=dtype)
    if not np.isfinite(w).all():
        raise ValueError("sample_weight contains NaN or infinite values")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got minimum {float(w.min()):g}")
    if not (w > 0).any():
        raise ValueError("sample_weight must have at least one positive entry")
    return w


def check_k_fits(k: int, n: int) -> None:
    """Raise unless ``k`` clusters can be drawn from ``n`` samples."""
    if k > n:
        raise ValueError(f"k={k} must not exceed n_samples={n}")


def check_init(init: Any, k: int, X: NDArray, names: tuple[str, ...]) -> NDArray | str:
    """One of the strategy ``names``, or a ``(k, d)`` array of starting centres.

    An array comes back checked, in ``X``'s dtype.
    """
    if isinstance(init, str):
        if init not in names:
            choices = ", ".join(repr(n) for n in names)
            raise ValueError(f"init must be {choices} or an array of centres, got {init!r}")
        return init
    C = check_data(init).astype(X.dtype, copy=False)
    if C.shape != (k, X.shape[1]):
        raise ValueError(
            f"init centres must have shape (k, n_features) = ({k}, {X.shape[1]}), "
            f"got {C.shape}"
        )
    return C
