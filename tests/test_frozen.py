"""A few of the recorded output hashes of ``quantize`` (``docs/frozen_hashes.json``).

``python -m benchmarks.frozen --check docs/frozen_hashes.json`` compares all
240 rows, which needs the benchmark photos and half a minute. These rows
need no optional package and run in seconds: the bundled photo (the same
pixels as the benchmark's ``chelsea``) with every option, and each
synthetic image that reaches the grey, RGBA, 16-bit and float paths. A
failure here means an output changed: if on purpose, regenerate the file
with ``--write`` in a commit that says which rows changed and why.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest

from benchmarks import frozen
from kmeans_quant import quantize
from kmeans_quant.io import read_image

RECORDED = json.loads(
    (Path(__file__).resolve().parents[1] / "docs" / "frozen_hashes.json").read_text()
)
ROWS = [
    *(f"chelsea|k=16|{variant}" for variant in frozen.VARIANTS),
    "chelsea|k=256|plain",
    "chelsea|k=2|ordered",
    "synthetic-grey8|k=16|plain",
    "synthetic-grey8|k=2|floyd-steinberg",
    "synthetic-rgba8|k=16|plain",
    "synthetic-rgba8|k=16|oklab",
    "synthetic-rgb16|k=16|plain",
    "synthetic-rgb16|k=2|median-cut",
    "synthetic-float32|k=16|plain",
    "synthetic-float32|k=2|ordered",
]


@pytest.fixture(scope="module")
def images():
    path = importlib.resources.files("kmeans_quant").joinpath("data", "chelsea.png")
    with importlib.resources.as_file(path) as p:
        return {"chelsea": read_image(p), **frozen.synthetic_images()}


def test_the_rows_are_recorded():
    assert set(ROWS) <= set(RECORDED)


@pytest.mark.parametrize("row", ROWS)
def test_output_hash_is_the_recorded_one(row, images):
    name, k, variant = row.split("|")
    out = quantize(images[name], int(k.removeprefix("k=")), **frozen.VARIANTS[variant])
    assert frozen.digest(out) == RECORDED[row]
