"""kmeans_quant.dask on a real two-process LocalCluster: palettes, recoloured
arrays and written files equal the single-machine results; bad input and a
dying worker give clear errors and leave no output behind."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402
from conftest import make_quadrants  # noqa: E402

import kmeans_quant  # noqa: E402
import kmeans_quant.dask as kd  # noqa: E402
from kmeans_quant.cli import main  # noqa: E402
from kmeans_quant.io import read_image, write_image  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with kd.local_cluster(2) as c:
        yield c


def _image(kind: str, seed: int = 0, shape=(45, 61)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.uint16 if kind.startswith("uint16") else np.uint8
    top = 65535 if dt == np.uint16 else 255
    levels = rng.integers(0, top + 1, size=20).astype(dt)
    c = {"grey": None, "rgb": 3, "rgba": 4}[kind.split("-")[1]]
    img = levels[rng.integers(0, 20, size=shape if c is None else shape + (c,))]
    if c == 4:
        img[..., 3] = np.where(rng.random(shape) < 0.4, 0, top)
    return img


def _chunks(img, rows, cols):
    return (rows, cols) + img.shape[2:]


CHUNKINGS = [(45, 61), (10, 17), (8, 16), (13, 61), (45, 7)]


def _same_palette(pal, ref):
    np.testing.assert_array_equal(pal.colors, ref.colors)
    np.testing.assert_array_equal(pal.counts, ref.counts)
    assert pal.colors.dtype == ref.colors.dtype


# ------------------------------------------------------------------ palettes


@pytest.mark.parametrize(
    "kind", ["uint8-rgb", "uint8-grey", "uint8-rgba", "uint16-rgb", "uint16-rgba"]
)
def test_palette_equals_in_memory_for_any_chunking(client, kind):
    img = _image(kind)
    ref = kmeans_quant.extract_palette(img, 6)
    for rows, cols in CHUNKINGS:
        x = da.from_array(img, chunks=_chunks(img, rows, cols))
        _same_palette(kd.extract_palette(x, 6), ref)


def test_many_blocks_go_through_a_tree_of_merges(client):
    img = make_quadrants(96, 80, noise=30, seed=4)
    x = da.from_array(img, chunks=(7, 9, 3))  # 14 x 9 = 126 blocks: three levels
    from kmeans_quant.dask._reduce import FAN_IN

    assert x.npartitions > FAN_IN**2
    _same_palette(
        kd.extract_palette(x, 12, space="oklab"),
        kmeans_quant.extract_palette(img, 12, space="oklab"),
    )
    assert kd.histogram(x) == kmeans_quant.histogram.ColorHistogram.from_image(img)


def test_rgba_with_no_visible_pixel_counts_every_pixel(client):
    img = _image("uint8-rgba", seed=2)
    img[..., 3] = 0
    x = da.from_array(img, chunks=(20, 20, 4))
    _same_palette(kd.extract_palette(x, 4), kmeans_quant.extract_palette(img, 4))


def test_blocks_where_all_pixels_are_invisible(client):
    img = _image("uint8-rgba", seed=3)
    img[:20, ..., 3] = 0  # the first row of blocks is entirely transparent
    x = da.from_array(img, chunks=(20, 30, 4))
    _same_palette(kd.extract_palette(x, 5), kmeans_quant.extract_palette(img, 5))


# ------------------------------------------------------------------ recolouring


@pytest.mark.parametrize("kind", ["uint8-rgb", "uint8-grey", "uint8-rgba", "uint16-rgb"])
@pytest.mark.parametrize("dither", ["none", "ordered"])
def test_recolor_equals_in_memory_for_any_chunking(client, kind, dither):
    img = _image(kind, seed=5)
    pal = kmeans_quant.extract_palette(img, 5)
    ref = kmeans_quant.recolor(img, pal, dither=dither)
    for rows, cols in CHUNKINGS:
        x = da.from_array(img, chunks=_chunks(img, rows, cols))
        out = kd.recolor(x, pal, dither=dither)
        assert out.chunks == x.chunks and out.dtype == img.dtype
        np.testing.assert_array_equal(out.compute(), ref)


def test_ordered_dither_keeps_the_bayer_phase_in_oklab_on_a_photo(client):
    img = make_quadrants(70, 90, noise=12, seed=6)
    pal = kmeans_quant.extract_palette(img, 8, space="oklab")
    ref = kmeans_quant.recolor(img, pal, dither="ordered", space="oklab")
    out = kd.recolor(da.from_array(img, chunks=(11, 29, 3)), pal, dither="ordered", space="oklab")
    np.testing.assert_array_equal(out.compute(), ref)
    # and the phase matters: restarting the Bayer tile in every block differs
    restarted = (
        da.from_array(img, chunks=(11, 29, 3))
        .map_blocks(
            kmeans_quant.recolor,
            pal,
            dither="ordered",
            space="oklab",
            dtype=img.dtype,
            meta=np.empty((0, 0, 0), img.dtype),
        )
        .compute()
    )
    assert not np.array_equal(restarted, ref)


def test_quantize_equals_palette_then_recolor(client):
    img = make_quadrants(64, 64, noise=20, seed=7)
    x = da.from_array(img, chunks=(24, 40, 3))
    out = kd.recolor(x, kd.extract_palette(x, 6)).compute()
    np.testing.assert_array_equal(out, kmeans_quant.quantize(img, 6))


def test_bad_arrays_and_options():
    img = _image("uint8-rgb")
    with pytest.raises(
        ValueError,
        match=r"chunked along the channel axis \(chunks \(1, 2\)\); .*rechunk\(\{2: -1\}\)",
    ):
        kd.extract_palette(da.from_array(img, chunks=(10, 10, (1, 2))), 4)
    with pytest.raises(
        TypeError, match="x dtype must be uint8 or uint16, got float64; float colours"
    ):
        kd.histogram(da.from_array(img / 255.0, chunks=10))
    with pytest.raises(
        TypeError, match="x dtype must be uint8, uint16 or float with values in .0, 1., got int16"
    ):
        kd.recolor(da.from_array(img.astype(np.int16), chunks=10), [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"float x values must lie in \[0, 1\], got range"):
        kd.extract_palette(da.from_array(img * 1.0, chunks=10), 4)
    with pytest.raises(TypeError, match="x must be a dask.array.Array, got ndarray"):
        kd.extract_palette(img, 4)
    with pytest.raises(
        ValueError, match=r"shape \(H, W\), \(H, W, 3\) or \(H, W, 4\), got \(2, 2, 2\)"
    ):
        kd.histogram(da.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="empty"):
        kd.histogram(da.zeros((0, 2, 3), dtype=np.uint8))
    x = da.from_array(img, chunks=10)
    with pytest.raises(ValueError, match="floyd-steinberg.*across block boundaries"):
        kd.recolor(x, [[0, 0, 0]], dither="floyd-steinberg")
    with pytest.raises(ValueError, match="dither must be one of 'none', 'ordered', got 'x'"):
        kd.recolor(x, [[0, 0, 0]], dither="x")
    with pytest.raises(ValueError, match=r"palette must have shape \(m, 3\)"):
        kd.recolor(x, [[0, 0]])
    with pytest.raises(ValueError, match="space must be one of"):
        kd.recolor(x, [[0, 0, 0]], space="lab")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        kd.extract_palette(x, 0)


def test_option_checks_are_the_shared_ones(photos, tmp_path):
    """As everywhere else: a float k is a TypeError, a bad choice a ValueError."""
    x = da.from_array(_image("uint8-rgb"), chunks=10)
    with pytest.raises(TypeError, match="k must be a positive integer, got 2.0"):
        kd.extract_palette(x, 2.0)
    with pytest.raises(TypeError, match="k must be a positive integer, got 2.0"):
        kd.quantize_files(photos, 2.0, tmp_path / "o")
    with pytest.raises(
        TypeError, match="rng must be None, an int seed or a numpy.random.Generator"
    ):
        kd.quantize_files(photos, 2, tmp_path / "o", rng=1.5)
    with pytest.raises(ValueError, match="rng seed must be non-negative, got -1"):
        kd.quantize_files(photos, 2, tmp_path / "o", rng=-1)
    with pytest.raises(ValueError, match="space must be one of 'rgb', 'oklab', got 'lab'"):
        kd.quantize_files(photos, 2, tmp_path / "o", space="lab")
    with pytest.raises(TypeError, match="n_workers must be a positive integer, got 1.5"):
        with kd.local_cluster(1.5):
            pass
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["grey", "rgb", "rgba"])
def test_float_arrays_are_taken_like_in_memory(client, dtype, kind):
    img = (_image(f"uint8-{kind}", seed=8) / 255.0).astype(dtype)
    ref = kmeans_quant.extract_palette(img, 5)
    for rows, cols in CHUNKINGS[1:3]:
        x = da.from_array(img, chunks=_chunks(img, rows, cols))
        _same_palette(kd.extract_palette(x, 5), ref)
        for dither in ("none", "ordered"):
            out = kd.recolor(x, ref, dither=dither).compute()
            np.testing.assert_array_equal(out, kmeans_quant.recolor(img, ref, dither=dither))


def test_ordered_dither_is_exact_up_to_the_stated_bound(client):
    """2**14 distinct colours (kmeans_quant.dither._ordered.MIN_GOALS): blockwise = in memory."""
    from kmeans_quant.dither._ordered import MIN_GOALS

    codes = np.random.default_rng(9).permutation(MIN_GOALS).reshape(128, 128)
    img = np.stack([codes >> 7, codes & 127, (codes * 7) % 251], axis=2).astype(np.uint8) * 2
    assert len(np.unique(img.reshape(-1, 3), axis=0)) == MIN_GOALS
    pal = kmeans_quant.extract_palette(img, 24)
    ref = kmeans_quant.recolor(img, pal, dither="ordered")
    x = da.from_array(img, chunks=(37, 53, 3))  # blocks out of step with the 8x8 tile
    np.testing.assert_array_equal(kd.recolor(x, pal, dither="ordered").compute(), ref)


# ------------------------------------------------------------------ files


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Five small files: RGB, grey, RGBA with transparency, 16-bit RGB, RGB."""
    d = tmp_path_factory.mktemp("photos")
    imgs = {
        "a.png": make_quadrants(30, 40, noise=20, seed=1),
        "b.png": _image("uint8-grey", seed=2, shape=(25, 33)),
        "c.png": _image("uint8-rgba", seed=3, shape=(20, 20)),
        "d.png": _image("uint16-rgb", seed=4, shape=(18, 27)),
        "e.png": make_quadrants(33, 21, noise=40, seed=5),
    }
    for name, img in imgs.items():
        write_image(d / name, img)
    return [d / n for n in imgs]


def _cli(paths, out, *extra):
    assert main([*map(str, paths), "-k", "7", "--out-dir", str(out), *extra]) == 0


def _same_files(a: Path, b: Path):
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b))
    for n in names:
        assert filecmp.cmp(a / n, b / n, shallow=False), n


@pytest.mark.parametrize("shared", [True, False])
def test_files_equal_the_command_byte_for_byte(client, photos, tmp_path, shared, capsys):
    extra = ["--shared-palette"] if shared else []
    _cli(photos, tmp_path / "serial", *extra)
    written = kd.quantize_files(photos, 7, tmp_path / "dask", shared_palette=shared, client=client)
    assert [p.name for p in written] == [f"{p.stem}_k7.png" for p in photos]
    _same_files(tmp_path / "serial", tmp_path / "dask")


def test_all_grey_inputs_keep_a_grey_palette(client, photos, tmp_path):
    grey = [photos[1]]
    shutil.copy(photos[1], tmp_path / "g2.png")
    grey.append(tmp_path / "g2.png")
    _cli(grey, tmp_path / "serial", "--shared-palette")
    kd.quantize_files(grey, 7, tmp_path / "dask", client=client)
    _same_files(tmp_path / "serial", tmp_path / "dask")


def test_cli_on_the_cluster_equals_the_serial_cli(client, photos, tmp_path, capsys):
    opts = ["--shared-palette", "--dither", "ordered", "--seed", "3", "--palette-out"]
    _cli(photos, tmp_path / "serial", *opts, str(tmp_path / "serial" / "p.json"))
    serial_out = capsys.readouterr().out
    _cli(
        photos,
        tmp_path / "dask",
        *opts,
        str(tmp_path / "dask" / "p.json"),
        "--scheduler",
        client.scheduler.address,
    )
    dask_out = capsys.readouterr().out
    _same_files(tmp_path / "serial", tmp_path / "dask")
    assert dask_out == serial_out.replace("serial", "dask")


def test_cli_workers_starts_a_local_cluster(photos, tmp_path, capsys):
    _cli(photos[:2], tmp_path / "serial", "--shared-palette")
    _cli(photos[:2], tmp_path / "dask", "--shared-palette", "--workers", "1")
    _same_files(tmp_path / "serial", tmp_path / "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "address, reason",
    [
        ("tcp://127.0.0.1:{port}", r"nothing listens at 127.0.0.1:\d+ \(connection refused\)"),
        ("not-an-address", "missing port number in address 'not-an-address'"),
        ("http://x:1", "unknown address scheme 'http'"),
        ("tcp://", "missing port number"),
    ],
)
def test_cli_dead_or_malformed_scheduler_is_one_line_within_5_s(
    photos, tmp_path, capsys, address, reason
):
    address = address.format(port=_free_port())
    start = time.monotonic()
    status = main([str(photos[0]), "--out-dir", str(tmp_path / "o"), "--scheduler", address])
    took = time.monotonic() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1, err
    assert err[0].startswith(f"kmeans-quant: error: cannot connect to scheduler {address!r}: ")
    assert re.search(reason, err[0]), err[0]
    assert took < 5, took
    assert os.listdir(tmp_path / "o") == []


def test_cli_silent_scheduler_is_one_line_within_5_s(photos, tmp_path, capsys):
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        status = main([str(photos[0]), "--out-dir", str(tmp_path), "--scheduler", address])
        took = time.monotonic() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1, err
    assert err[0].startswith(f"kmeans-quant: error: cannot connect to scheduler {address!r}")
    assert took < 5, took


def _kinds(folder: Path) -> list[Path]:
    """One file of every kind: RGB, soft alpha, animation, ICC, 16-bit, grey."""
    from PIL import ImageCms

    from kmeans_quant.frames import write_frames

    rgb = make_quadrants(24, 30, noise=12, seed=11)
    soft = np.dstack([rgb, np.tile(np.linspace(0, 255, 30).astype(np.uint8), (24, 1))])
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    frames = [np.roll(rgb, 5 * i, axis=0) for i in range(3)]
    return [
        write_image(folder / "rgb.png", rgb),
        write_image(folder / "soft.png", soft),
        write_frames(folder / "anim.gif", frames, durations_ms=[0, 50, 90], loop=1),
        write_image(folder / "icc.png", rgb[::-1], icc_profile=srgb),
        write_image(folder / "deep.tif", rgb.astype(np.uint16) * 257 + 100),
        write_image(folder / "grey.png", rgb[..., 1].copy()),
    ]


@pytest.mark.parametrize("extra", [[], ["--shared-palette"], ["--dither", "ordered"]])
def test_cli_workers_equal_one_process_for_every_kind(client, tmp_path, capsys, extra):
    inputs = _kinds(tmp_path)
    _cli(inputs, tmp_path / "serial", *extra)
    serial = capsys.readouterr()
    _cli(inputs, tmp_path / "dask", *extra, "--scheduler", client.scheduler.address)
    dask_run = capsys.readouterr()
    _same_files(tmp_path / "serial", tmp_path / "dask")
    assert dask_run.out == serial.out.replace("serial", "dask")
    assert dask_run.err == serial.err == ""


def test_cli_workers_bad_file_is_one_line_as_in_one_process(client, photos, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    inputs = [photos[0], bad, photos[1]]
    assert main([*map(str, inputs), "--out-dir", str(tmp_path / "serial")]) == 1
    serial = capsys.readouterr()
    address = client.scheduler.address
    assert (
        main([*map(str, inputs), "--out-dir", str(tmp_path / "dask"), "--scheduler", address]) == 1
    )
    dask_run = capsys.readouterr()
    assert dask_run.err == serial.err
    assert dask_run.err.strip().splitlines() == [
        f"kmeans-quant: error: cannot read image {str(bad)!r}: not an image file "
        "(no reader recognises its contents)"
    ]
    assert dask_run.out == serial.out.replace("serial", "dask")
    _same_files(tmp_path / "serial", tmp_path / "dask")


def test_cli_workers_skip_if_larger_as_in_one_process(client, tmp_path, capsys):
    tiny = write_image(tmp_path / "tiny.png", np.zeros((2, 2, 3), np.uint8))
    address = client.scheduler.address
    out = tmp_path / "out"
    assert main([str(tiny), "--skip-if-larger", "--out-dir", str(out)]) == 98
    serial = capsys.readouterr().err
    assert (
        main([str(tiny), "--skip-if-larger", "--out-dir", str(out), "--scheduler", address]) == 98
    )
    assert capsys.readouterr().err == serial
    assert serial.startswith("kmeans-quant: skipped: ")
    assert os.listdir(out) == []


def _subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(kmeans_quant.__file__).resolve().parents[1])}


def test_cli_workers_stdin_to_stdout_through_a_pipe(client, tmp_path):
    from kmeans_quant.frames import write_frames

    frames = [np.roll(make_quadrants(20, 24, noise=9), 4 * i, axis=1) for i in range(3)]
    src = write_frames(tmp_path / "in.gif", frames, durations_ms=[0, 60, 120], loop=0)
    runs = []
    for engine in ([], ["--scheduler", client.scheduler.address]):
        runs.append(
            subprocess.run(
                [sys.executable, "-m", "kmeans_quant", "-", "-k", "5", *engine],
                input=src.read_bytes(),
                capture_output=True,
                env=_subprocess_env(),
                timeout=120,
            )
        )
    serial, on_dask = runs
    assert on_dask.returncode == serial.returncode == 0, on_dask.stderr
    assert on_dask.stdout == serial.stdout and on_dask.stdout[:6] == b"GIF89a"
    assert on_dask.stderr == serial.stderr
    assert b"Traceback" not in on_dask.stderr


@pytest.mark.slow
@pytest.mark.parametrize("signame, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_cli_signal_during_a_workers_run_is_one_line_and_leaves_nothing(tmp_path, signame, code):
    rng = np.random.default_rng(0)
    inputs = [
        write_image(tmp_path / f"in{i}.png", rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
        for i in range(8)
    ]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmeans_quant", *map(str, inputs), "-k", "64"]
        + ["--out-dir", str(out), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_subprocess_env(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and any(p.name.startswith(".kmeans-quant-") for p in out.iterdir()):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(getattr(signal, signame))
    stdout, stderr = proc.communicate(timeout=60)
    err = stderr.decode().strip().splitlines()
    assert proc.returncode == code, stderr
    stopped = "interrupted" if signame == "SIGINT" else f"stopped by {signame}"
    assert err == [f"kmeans-quant: {stopped}"], stderr
    assert stdout == b""
    assert os.listdir(out) == []


def test_cli_rejects_workers_with_scheduler_and_zero_workers(photos, capsys):
    assert main([str(photos[0]), "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    assert main([str(photos[0]), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "not allowed with argument" in err and "must be a positive integer, got '0'" in err


def test_file_errors(client, photos, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such input file: .*nope.png"):
        kd.quantize_files([tmp_path / "nope.png"], 4, tmp_path / "o", client=client)
    with pytest.raises(ValueError, match="non-empty sequence"):
        kd.quantize_files([], 4, tmp_path / "o", client=client)
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        kd.quantize_files(photos, 0, tmp_path / "o", client=client)
    with pytest.raises(ValueError, match="dither must be one of"):
        kd.quantize_files(photos, 3, tmp_path / "o", dither="bayer", client=client)
    out = tmp_path / "exists"
    out.mkdir()
    (out / "a_k4.png").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="a_k4.png' already exists; pass force=True"):
        kd.quantize_files(photos, 4, out, client=client)
    kd.quantize_files(photos[:1], 4, out, client=client, force=True)
    assert read_image(out / "a_k4.png").shape == (30, 40, 3)


def test_an_unreadable_file_fails_the_run_and_writes_nothing(client, photos, tmp_path):
    bad = tmp_path / "in" / "broken.png"
    bad.parent.mkdir()
    bad.write_bytes(b"not a png")
    out = tmp_path / "out"
    for shared in (True, False):
        with pytest.raises(RuntimeError, match="no output files were written"):
            kd.quantize_files([*photos, bad], 4, out, shared_palette=shared, client=client)
        assert os.listdir(out) == []


def _slow_jobs(seconds):
    """Run on a worker: make every file's job sleep first."""
    import kmeans_quant.job as job

    original = job.run_job

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    job.run_job = slow


async def _die():
    os._exit(1)


def _kill_a_busy_worker(c, started: threading.Thread) -> None:
    """Wait until a worker runs a file's job, then kill that worker."""
    deadline = time.monotonic() + 30
    busy: list[str] = []
    while time.monotonic() < deadline and not busy and started.is_alive():
        busy = [w for w, tasks in c.processing().items() if any("run_job" in str(k) for k in tasks)]
        time.sleep(0.05)
    assert busy, "no job started"
    time.sleep(0.5)
    c.run(_die, workers=busy[:1], wait=False)


def _in_thread(run) -> tuple[threading.Thread, list]:
    results: list = []

    def target():
        try:
            results.append(run())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            results.append(exc)

    t = threading.Thread(target=target)
    t.start()
    return t, results


def test_a_worker_dying_mid_run_beyond_the_retries_is_one_error_and_leaves_no_file(
    photos, tmp_path
):
    # No retries, so the killed worker's task fails the run at once.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        kd.local_cluster(2) as c,
    ):
        c.run(_slow_jobs, 3)
        out = tmp_path / "out"
        t, results = _in_thread(lambda: kd.quantize_files(photos, 4, out, client=c))
        _kill_a_busy_worker(c, t)
        t.join(60)
        assert not t.is_alive()
    assert len(results) == 1 and isinstance(results[0], RuntimeError), results
    assert "a worker died during the run" in str(results[0])
    assert "no output files were written" in str(results[0])
    assert os.listdir(out) == []


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_run_completes(photos, tmp_path, capsys):
    _cli(photos, tmp_path / "serial")
    serial = capsys.readouterr().out
    with kd.local_cluster(2) as c:  # distributed's default: 3 failures allowed
        c.run(_slow_jobs, 2)
        args = [*map(str, photos), "-k", "7", "--out-dir", str(tmp_path / "dask")]
        t, results = _in_thread(lambda: main([*args, "--scheduler", c.scheduler.address]))
        _kill_a_busy_worker(c, t)
        t.join(120)
        assert not t.is_alive()
    assert results == [0]
    _same_files(tmp_path / "serial", tmp_path / "dask")
    assert capsys.readouterr().out == serial.replace("serial", "dask")
