#!/usr/bin/python3
"""`make bench`: every benchmark beside its native baseline from the same run.

Prints a table (median of --runs repetitions, cshyper/native ratio, the
target from TARGETS.md where it sets one), writes build/bench/results.json
and, if matplotlib is importable, build/bench/results.png. Console logs of
every QEMU run are kept in build/bench/logs/.

A workload is a module with `run(opts, progress) -> (figures, notes, extra)`;
add it to WORKLOADS. Build QEMU command lines with bench/qemu.py.
"""
import argparse
import datetime
import hashlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import blk  # noqa: E402
import hostile  # noqa: E402
import hv_boot  # noqa: E402
import linux_boot  # noqa: E402
import mgmt_plane  # noqa: E402
import migrate  # noqa: E402
import net  # noqa: E402
import qemu  # noqa: E402
import report  # noqa: E402
import rt_latency  # noqa: E402
import update  # noqa: E402

WORKLOADS = {
    "linux-boot": linux_boot.run,
    "hv-boot": hv_boot.run,
    "mgmt-plane": mgmt_plane.run,
    "rt-latency": rt_latency.run,
    "net": net.run,
    "blk": blk.run,
    "migrate": migrate.run,
    "update": update.run,
    "hostile": hostile.run,
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="repetitions of every measurement (default 3)")
    p.add_argument("--only", action="append", choices=sorted(WORKLOADS),
                   help="run only this workload (repeatable)")
    p.add_argument("--vcpus", type=int, default=1,
                   help="MVM vCPUs (mvm.vcpus); native Linux gets as many CPUs (default 1)")
    p.add_argument("--native-full", action="store_true",
                   help="boot native Linux on the whole board (4 CPUs, 1 GiB) instead of "
                        "limiting it to the MVM's resources")
    p.add_argument("--gic", type=int, choices=(2, 3), default=3, help="GIC for the Linux boots")
    p.add_argument("--timeout", type=float, default=90, help="seconds allowed per QEMU wait")
    p.add_argument("--json", default=os.path.join(qemu.OUT, "results.json"))
    opts = p.parse_args(argv)
    if opts.runs < 1:
        p.error("--runs must be at least 1")
    if not 1 <= opts.vcpus <= qemu.SMP:
        p.error(f"--vcpus must be 1 to {qemu.SMP}")
    return opts


def git_rev():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=qemu.ROOT,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=qemu.ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return rev + ("-dirty" if dirty else "") if rev else None
    except (OSError, subprocess.SubprocessError):
        return None


def artefacts():
    """What was measured: build/ changes under our feet when others rebuild."""
    out = {}
    for path in (qemu.HV_IMAGE, qemu.KERNEL, qemu.INITRD):
        try:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:16]
            st = os.stat(path)
            out[os.path.relpath(path, qemu.ROOT)] = {
                "sha256_16": digest, "bytes": st.st_size,
                "mtime": datetime.datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds")}
        except OSError:
            pass
    return out


def main(argv):
    opts = parse_args(argv)
    # SIGTERM (e.g. from make or a CI timeout) unwinds like ^C, so every
    # `with qemu.boot(...)` block kills its QEMU.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def progress(msg):
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    selected = opts.only or list(WORKLOADS)
    start = time.monotonic()
    figures, notes, extra = [], [], {}
    before = artefacts()
    try:
        version = qemu.qemu_version()
        for name in selected:
            f, n, x = WORKLOADS[name](opts, progress)
            figures += f
            notes += n
            extra.update(x)
    except qemu.BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - start
    if artefacts() != before:
        notes.append("build artefacts changed during the run (rebuilt by someone else?): "
                     "the figures may mix two builds")

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git": git_rev(), "qemu": version, "runs": opts.runs, "vcpus": opts.vcpus,
            "native_full": opts.native_full, "gic": opts.gic, "host_cpus": os.cpu_count(),
            "workloads": selected, "elapsed_s": round(elapsed, 1), "artefacts": before, **extra}
    png = os.path.splitext(opts.json)[0] + ".png"
    notes.append(report.plot(png, figures))
    report.write_json(opts.json, meta, figures, notes)

    print(f"\ncshyper benchmarks: median of {opts.runs} run(s), {version}, "
          f"{os.cpu_count()} host cores, {elapsed:.0f} s\n")
    print(report.table(figures))
    print("\nWhat each figure measures:")
    print(report.legend(figures))
    print("\nNotes:")
    for n in notes:
        print(f"  - {n}")
    print(f"\nresults: {os.path.relpath(opts.json, qemu.ROOT)}; console logs: "
          f"{os.path.relpath(qemu.LOGS, qemu.ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
