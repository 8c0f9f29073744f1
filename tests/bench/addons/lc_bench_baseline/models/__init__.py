from . import lc_bench_row
