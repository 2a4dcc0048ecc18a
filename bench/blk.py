"""Sequential throughput of a guest's disk: 64 MiB written to /dev/vda, then
read back, 1 MiB blocks, O_DIRECT (busybox dd oflag=direct / iflag=direct),
timed inside the guest by /proc/uptime (10 ms), wall time.

- under cshyper: the reference board with the MVM and a copy of its disk;
  in the MVM a 64 MiB image in /tmp (tmpfs: RAM), `shyper system daemon`
  serving it, and a guest derived from linux-blk-a.json (core 1, a mediated
  virtio-blk of 131072 sectors) booted with `cshyper.blk-bench`: every
  request goes guest -> hypervisor -> the MVM's daemon (pread/pwrite) -> back.
- natively: the same Image and initramfs booted by QEMU (-smp 1, 128 MiB)
  with a 64 MiB image file of the host attached to QEMU's own virtio-blk
  (cache=writeback: the host's page cache, as the MVM's tmpfs is RAM).
"""
import os
import re

import qemu
from report import Figure

GUESTS = "/mnt/guests"
LINE = r"cshyper-blk-bench: w=(\d+) r=(\d+) t0=([\d.]+) t1=([\d.]+) t2=([\d.]+)"
MIB = 64


def figures_from(m, where):
    w, r, t0, t1, t2 = int(m[1]), int(m[2]), float(m[3]), float(m[4]), float(m[5])
    if w != MIB or r != MIB or t1 <= t0 or t2 <= t1:
        raise qemu.BenchError(f"{where}: dd moved {w} and {r} MiB (want {MIB}), times "
                              f"{t0} {t1} {t2}: is O_DIRECT supported?")
    return {"write_mbps": MIB * 1.048576 / (t1 - t0), "read_mbps": MIB * 1.048576 / (t2 - t1)}


def native_run(opts, rep):
    qemu.require(qemu.KERNEL, qemu.INITRD)
    os.makedirs(qemu.OUT, exist_ok=True)
    img = os.path.join(qemu.OUT, "blk-native.img")
    with open(img, "wb") as f:
        f.truncate(MIB << 20)
    cmd = qemu.board(3, smp=1, mem="128M") + [
        "-kernel", qemu.KERNEL, "-initrd", qemu.INITRD,
        "-append", "console=ttyAMA0 quiet rdinit=/init cshyper.blk-bench",
        "-drive", f"if=none,id=d1,format=raw,cache=writeback,file={img}",
        "-device", "virtio-blk-device,drive=d1"]
    try:
        with qemu.boot(cmd, f"blk-native-{rep}", opts.timeout) as con:
            con.expect(LINE, "the native guest's figures", timeout=opts.timeout * 3)
            return figures_from(con.child.match, con.name)
    finally:
        os.remove(img)


def cshyper_run(opts, rep):
    with qemu.mvm_with_disk(f"blk-cshyper-{rep}", opts.timeout) as con:
        rc, out = con.sh(
            f"dd if=/dev/zero of=/tmp/vm.img bs=1M count={MIB} 2>/dev/null && "
            "echo '{\"mediated\": [\"/tmp/vm.img\"]}' > /tmp/med.json && "
            "(shyper system daemon /tmp/med.json > /tmp/daemon.log 2>&1 &) && "
            f"sed 's/cshyper.blk-test/cshyper.blk-bench/; s/linux-blk-a/blk-bench/' "
            f"{GUESTS}/linux-blk-a.json > {GUESTS}/blk-bench.json && "
            f"shyper vm config {GUESTS}/blk-bench.json", timeout=opts.timeout)
        m = re.search(r"^VM (\d+) configured", out, re.M)
        if rc or not m:
            raise qemu.BenchError(f"{con.name}: setting up the mediated disk failed:\n{out}")
        vm = int(m.group(1))
        con.child.sendline(f"shyper vm boot {vm} >/dev/null")
        con.expect(rf"\[vm{vm}\] [^\n]*" + LINE, "the guest's figures",
                   timeout=opts.timeout * 3)
        return figures_from(con.child.match, con.name)


def run(opts, progress):
    res = qemu.native_and_cshyper(
        opts, progress, "blk", native_run, cshyper_run,
        lambda r: f"write {r['write_mbps']:.1f} MB/s, read {r['read_mbps']:.1f} MB/s")

    def both(key):
        return [r[key] for r in res["native"]], [r[key] for r in res["cshyper"]]

    target = "mediated virtio-blk sequential throughput vs QEMU's own virtio-blk ≥ 0.7×"
    figures = [
        Figure("blk_seq_write", "disk sequential write, 64 MiB O_DIRECT", "MB/s",
               "wall: dd bs=1M oflag=direct in the guest; natively QEMU's virtio-blk on a "
               "host file, under cshyper the mediated disk served by the MVM's daemon",
               *both("write_mbps"), target=0.7, target_text=target, higher_is_better=True),
        Figure("blk_seq_read", "disk sequential read, 64 MiB O_DIRECT", "MB/s",
               "wall: dd bs=1M iflag=direct in the guest, the same disks",
               *both("read_mbps"), target=0.7, target_text=target, higher_is_better=True),
    ]
    return figures, [], {"blk": res}
