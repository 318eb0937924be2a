"""Benchmark suite for kmeans_quant: speed, memory and quality against its peers.

Run it as a plain script from the repository root::

    python -m benchmarks.run --quick --out /tmp/bench   # seconds, for CI
    python -m benchmarks.run --full --out docs          # the real run

The modules follow the shape of an asv suite, one idea each:

``images``
    The image set: sample photos (a tuning and a held-out group), a
    12-megapixel mosaic and a ladder of sizes, cached as ``.npy`` files.
``methods``
    One function per quantization method, each returning a uint8 image.
``suites``
    asv-style classes (``params``, ``setup``, ``time_*``, ``peakmem_*``,
    ``track_*``) over method, image and k, and the naive-versus-vectorized
    per-iteration comparison.
``measure``
    Timing (warm-up, then the median of repeats), peak memory above the
    input in a fresh subprocess, and quality (MSE, PSNR, colours used).
``stages``
    Where ``quantize`` spends its time, from a profile of the public call.
``report``
    The markdown report and the plots.
``perceptual``
    What people see against what it costs: SSIMULACRA2 and the written
    PNG's bytes of the command line's modes, pngquant, libimagequant and
    Pillow (``python -m benchmarks.perceptual``, its own section).
``run``
    The command line that ties them together.
"""
