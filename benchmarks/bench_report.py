"""The full default matrix's report: how long writing the HTML takes, how big it is, and how
long headless Chromium takes to open it next to an empty page (medians of --repeat runs).

    python benchmarks/bench_report.py                      # builds the full matrix first
    python benchmarks/bench_report.py --also old.html      # and times another page beside it

The matrix is ``gradharness compare --cell all --layers 1,2,3 --backends all``.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def chromium_seconds(path, chromium):
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1400,2600", f"--screenshot={tmp}/shot.png", f"file://{os.path.abspath(path)}"],
                       capture_output=True, timeout=600, check=True)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--also", action="append", default=[], help="another HTML page to open beside it")
    args = parser.parse_args()
    from harness.terminal import quiet_tensorflow
    quiet_tensorflow()
    import harness
    from harness.report import Report
    report = Report.concat(harness.compare(c, layers=k, backends="all") for c in ("rnn", "lstm", "gru")
                           for k in (1, 2, 3))
    out = tempfile.mkdtemp(prefix="bench_report-")
    page = os.path.join(out, "full.html")
    write = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report.to_html(page)
        write.append(time.perf_counter() - start)
    print(f"full matrix: {len(report.table):,} rows, {len(report.cases)} cases")
    print(f"HTML: {os.path.getsize(page):,} bytes, written in {statistics.median(write):.2f} s (median)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not installed: no load times")
        return
    empty = os.path.join(out, "empty.html")
    with open(empty, "w") as f:
        f.write("<!DOCTYPE html><html><body>empty</body></html>")
    pages = {"empty page": empty, "full-matrix page": page, **{p: p for p in args.also}}
    times = {name: [] for name in pages}
    for _ in range(args.repeat):                 # interleaved, so load on the machine hits all alike
        for name, path in pages.items():
            times[name].append(chromium_seconds(path, chromium))
    base = statistics.median(times["empty page"])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"chromium, {name} ({os.path.getsize(pages[name]):,} bytes): {m:.2f} s "
              f"({m - base:+.2f} s over the empty page)")


if __name__ == "__main__":
    main()
