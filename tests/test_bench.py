"""The benchmark's own machinery: its anchors compute what they claim."""

import importlib.util

import numpy as np
import pytest

from tfrnn.bench import speed as bench


def test_block_lstm_gradient_wired_by_hand_matches_keras():
    """BlockLSTMV2's gradient, called directly (TF's registered one is
    wrong), gives Keras's gradients of sum(outputs) for x and every
    weight."""
    x, weights = bench.problem((3, 7, 5, 6), "lstm")
    block = bench.block_lstm_candidates(x, weights)
    keras_fns = bench.layer_candidates(bench.CELLS["lstm"][1], x, weights)
    np.testing.assert_allclose(block["fwd"](x), keras_fns["fwd"](x),
                               atol=1e-5)
    for got, want in zip(block["f+b"](x), keras_fns["f+b"](x)):
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_flops_count_the_gemms():
    # x.W and h.U per step: 2 * B * T * (I + H) * 4H; training triples it.
    assert bench.flops((2, 3, 4, 5), "lstm", False) == 2 * 2 * 3 * 9 * 20
    assert bench.flops((2, 3, 4, 5), "gru", True) == 3 * 2 * 2 * 3 * 9 * 15


def test_memory_of_a_training_step_counts_saved_activations():
    """The op saves gates [T,B,4H] and cell states [B,T,H] for the backward
    pass: the measured step takes at least that much."""
    batch, steps, units = 16, 200, 128
    saved = batch * steps * 5 * units * 4 / 2 ** 20
    assert bench.peak_step_memory("lstm", "tfrnn",
                                  (batch, steps, 8, units)) >= saved


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="the plot needs matplotlib (the bench extra)")
def test_plot_is_written(tmp_path):
    path = tmp_path / "speed.png"
    assert bench.main(["--configs", "2,3,4,4", "--rounds", "1", "--warmup",
                       "0", "--plot", str(path)]) == 0
    assert path.stat().st_size > 1000


def test_variant_bench_candidates_compute_one_function():
    """--variant's fused and loop candidates run the same cell and weights:
    equal gradients; the mask variants keep the plain mask's row lengths."""
    from tfrnn.bench import variants as bench_variants
    for variant in ("peephole", "holes"):  # zoneout: random in training
        x, fns = bench_variants.candidates(variant, (3, 6, 4, 4))
        fused, loop = fns["fused"](x), fns["loop"](x)
        for got, want in zip(fused, loop):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    right, holes = bench_variants.masks(5, 8, "holes")
    np.testing.assert_array_equal(np.sum(right, 1), np.sum(holes, 1))
    assert not np.array_equal(right, holes)


def test_variant_bench_prints_every_variant(capsys):
    from tfrnn.app import cli
    from tfrnn.bench import variants as bench_variants
    assert cli.main(["bench", "--variant", "peephole", "left_padding",
                     "--configs", "2,3,4,4", "--rounds", "1",
                     "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    assert "fused/plain" in out and "left_padding" in out
    with pytest.raises(SystemExit):
        bench_variants.main(["--variant", "nonsense", "--configs", "2,3,4,4"])
