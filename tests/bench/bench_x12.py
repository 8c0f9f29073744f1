"""Benchmark of the X12 engine (no database): parse + validate an 846 with 100,000 LIN
loops, and serialize 940s for 1,000 orders.

Figures are segments per second and peak memory, with ratios against baselines measured in
the same run: a bare ``str.split`` tokenizer over the same file (the floor any X12 reader
pays; target: the engine within 3x of it) and a bare ``str.join`` writer for the same
segments. The baseline and the engine run in turns (REPEAT pairs), so a busy machine slows
both alike; the ratio printed is the median of the pairs' ratios, with their range;
segments/s are from the best run. Run from the repository root:

    python tests/bench/bench_x12.py        (or python -m tests.bench.bench_x12)

Nothing here asserts: it prints figures.
"""

import gc
import os
import pathlib
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "logistics_connector_edi"))

from x12 import (  # noqa: E402 - the engine is imported as a plain package
    FunctionalGroup,
    Interchange,
    Serializer,
    TransactionSet,
    X12Reader,
    iter_segments,
)
from x12.tokenizer import iter_raw_blocks  # noqa: E402

LIN_LOOPS = int(os.environ.get("LC_BENCH_X12_LIN_LOOPS", "100000"))
LOOPS_PER_SET = 10_000  # the 4010 846 allows at most 10,000 LIN loops per set
ORDERS = int(os.environ.get("LC_BENCH_X12_ORDERS", "1000"))
LINES_PER_ORDER = 5
REPEAT = int(os.environ.get("LC_BENCH_X12_REPEAT", "5"))

ISA = (
    "ISA*00*          *00*          *ZZ*PARTNER3PL     *ZZ*OURCOMPANY     "
    "*250301*1200*U*00401*000000001*0*P*>~\n"
)


def write_846(path, varied=False):
    """An interchange of 846s holding LIN_LOOPS LIN loops (LIN, on-hand and available
    QTY), one segment per line. The quantities are the same on every line, or with
    ``varied`` different on each (then no segment text repeats: nothing the validator
    remembers helps). Returns the number of segments."""
    segments = 0
    sets = (LIN_LOOPS + LOOPS_PER_SET - 1) // LOOPS_PER_SET
    with open(path, "w", encoding="ascii") as file:
        file.write(ISA)
        file.write("GS*IB*PARTNER3PL*OURCOMPANY*20250301*1200*1*X*004010~\n")
        segments += 2
        item = 0
        for number in range(1, sets + 1):
            loops = min(LOOPS_PER_SET, LIN_LOOPS - item)
            lines = [f"ST*846*{number:04d}", f"BIA*00*MM*INV{number}*20250308"]
            for _ in range(loops):
                item += 1
                on_hand, available = (item % 9973 + 2, item % 9967) if varied else (40, 38)
                lines += [
                    f"LIN**SK*SKU-{item:07d}*UP*0{item:011d}",
                    f"QTY*17*{on_hand}",
                    f"QTY*33*{available}",
                ]
            lines.append(f"CTT*{loops}")
            lines.append(f"SE*{len(lines) + 1}*{number:04d}")
            file.write("~\n".join(lines) + "~\n")
            segments += len(lines)
        file.write(f"GE*{sets}*1~\nIEA*1*000000001~\n")
        segments += 2
    return segments


def split_tokenizer(path):
    """The baseline: read the file, split on the terminator and the element separator."""
    text = path.read_text()
    count = 0
    for raw in text.split("~"):
        raw = raw.strip("\r\n")
        if raw:
            raw.split("*")
            count += 1
    return count


def engine_tokenizer(path):
    """Blocks of segment texts (and the ISA headers): what the validator reads. Elements
    are not split yet (the validator splits a segment only when it has not seen that text
    clean before), so this is no like-for-like match for the baseline."""
    return sum(len(block) if block.__class__ is list else 1 for block in iter_raw_blocks(path))


def engine_segments(path):
    """Segments as Segment objects (tag, elements, number): what iter_segments gives."""
    return sum(1 for _segment in iter_segments(path))


def engine_validate(path):
    report = X12Reader(path, keep_segments=False).run()
    assert report.status == "accepted", report.findings()[:3]
    return report


def elapsed(function, *args):
    gc.collect()
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def best_time(function, *args):
    return min(elapsed(function, *args) for _ in range(REPEAT))


def paired_times(baseline, function, *args):
    """(best baseline time, best time, [ratio of each pair]) with the two run in turns."""
    pairs = [(elapsed(baseline, *args), elapsed(function, *args)) for _ in range(REPEAT)]
    ratios = [spent / base for base, spent in pairs]
    return min(b for b, _ in pairs), min(s for _, s in pairs), ratios


def ratio_words(ratios):
    """The median ratio of the pairs (a busy machine slows a pair's two runs alike), and
    their range."""
    return (
        f"{statistics.median(ratios):.2f}x the baseline, median of {len(ratios)} pairs, "
        f"range {min(ratios):.2f}-{max(ratios):.2f}x"
    )


def peak_memory(function, *args):
    gc.collect()
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def orders_interchange():
    groups = FunctionalGroup("OW", "OURCOMPANY", "PARTNER3PL", 1)
    for number in range(1, ORDERS + 1):
        segments = [
            ("W05", ["N", f"SO{number:07d}", f"PO{number}"]),
            ("N1", ["ST", f"Customer {number}"]),
            ("N3", [f"{number} Main Street"]),
            ("N4", ["Springfield", "IL", "62701", "US"]),
            ("G62", ["10", "20250305"]),
            ("W66", ["PP", "M", None, None, None, None, None, None, None, "UPSN"]),
            ("LX", ["1"]),
        ]
        for line in range(1, LINES_PER_ORDER + 1):
            segments.append(("W01", [str(line * 2), "EA", None, "SK", f"SKU-{line:05d}"]))
        segments.append(("W76", [str(LINES_PER_ORDER * (LINES_PER_ORDER + 1))]))
        groups.sets.append(TransactionSet("940", number, segments))
    return Interchange("ZZ", "OURCOMPANY", "ZZ", "PARTNER3PL", 1, groups=[groups])


def engine_serialize(interchange, path):
    with open(path, "w", encoding="ascii") as file:
        for piece in Serializer().iter_serialize(interchange):
            file.write(piece)


def join_serialize(interchange, path):
    """The baseline writer: the same segments joined with no checks, no envelope logic."""
    with open(path, "w", encoding="ascii") as file:
        for group in interchange.groups:
            for transaction in group.sets:
                for tag, elements in transaction.segments:
                    values = ["" if v is None else v for v in elements]
                    file.write("*".join([tag, *values]) + "~\n")


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        inventory = folder / "inventory_846.x12"
        segments = write_846(inventory)
        size_mb = inventory.stat().st_size / 1e6
        print(f"846: {LIN_LOOPS:,} LIN loops, {segments:,} segments, {size_mb:.1f} MB")

        baseline, tokenize, tokenize_ratios = paired_times(
            split_tokenizer, engine_tokenizer, inventory
        )
        _baseline, objects, objects_ratios = paired_times(
            split_tokenizer, engine_segments, inventory
        )
        baseline = min(baseline, _baseline)
        _baseline, validate, validate_ratios = paired_times(
            split_tokenizer, engine_validate, inventory
        )
        baseline = min(baseline, _baseline)
        print(
            f"  str.split baseline      {segments / baseline:>12,.0f} segments/s "
            f"({baseline * 1000:.0f} ms)"
        )
        print(
            f"  engine tokenizer (texts){segments / tokenize:>12,.0f} segments/s "
            f"({tokenize * 1000:.0f} ms, {ratio_words(tokenize_ratios)})"
        )
        print(
            f"  engine Segment objects  {segments / objects:>12,.0f} segments/s "
            f"({objects * 1000:.0f} ms, {ratio_words(objects_ratios)})"
        )
        print(
            f"  parse + validate        {segments / validate:>12,.0f} segments/s "
            f"({validate * 1000:.0f} ms, {ratio_words(validate_ratios)}; "
            "target <= 3x)"
        )
        varied = folder / "inventory_846_varied.x12"
        write_846(varied, varied=True)
        varied_baseline, varied_time, varied_ratios = paired_times(
            split_tokenizer, engine_validate, varied
        )
        print(
            "  the same with quantities different on every line (no segment text repeats):\n"
            f"  str.split baseline      {segments / varied_baseline:>12,.0f} segments/s "
            f"({varied_baseline * 1000:.0f} ms)\n"
            f"  parse + validate        {segments / varied_time:>12,.0f} segments/s "
            f"({varied_time * 1000:.0f} ms, {ratio_words(varied_ratios)})"
        )
        baseline_peak = peak_memory(split_tokenizer, inventory)
        validate_peak = peak_memory(engine_validate, inventory)
        print(f"  peak memory str.split   {baseline_peak / 1e6:>9.1f} MB (whole file in memory)")
        print(f"  peak memory validate    {validate_peak / 1e6:>9.1f} MB (streaming)")

        interchange = orders_interchange()
        out_segments = sum(len(s.segments) + 2 for s in interchange.groups[0].sets) + 4
        written = folder / "orders_940.x12"
        join_time, serialize_time, serialize_ratios = paired_times(
            lambda: join_serialize(interchange, folder / "baseline.x12"),
            lambda: engine_serialize(interchange, written),
        )
        print(f"940: {ORDERS:,} orders, {out_segments:,} segments")
        print(f"  str.join baseline       {out_segments / join_time:>12,.0f} segments/s")
        print(
            f"  serializer              {out_segments / serialize_time:>12,.0f} segments/s "
            f"({ratio_words(serialize_ratios)})"
        )
        check = X12Reader(written, keep_segments=False).run()
        print(f"  written file re-validated: {check.status}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (ru_maxrss): {rss:.0f} MB")


if __name__ == "__main__":
    main()
