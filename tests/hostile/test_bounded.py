"""The harness itself: a bomb is stopped by the limits and reported as such."""

from .bounded import run_bounded


def test_a_memory_bomb_hits_the_memory_limit():
    result = run_bounded("blob = bytearray(4 * 1024**3)", memory_mb=512)
    assert not result.ok
    assert result.error_type == "MemoryError"


def test_a_busy_loop_hits_the_time_limit():
    result = run_bounded("while True: pass", seconds=2)
    assert result.error_type == "Timeout"


def test_an_error_comes_back_with_its_type_and_first_line():
    result = run_bounded("from ckptzoo_widgets.errors import ZooError\nraise ZooError('bad index\\nmore')")
    assert result.raised("ZooError") and result.raised("Exception")
    assert result.message == "bad index"


def test_names_are_bound_and_output_is_kept():
    result = run_bounded("print(WORD * 2)", WORD="ab")
    assert result.ok and result.stdout.strip() == "abab"
    assert result.peak_rss_mb and result.peak_rss_mb > 1
