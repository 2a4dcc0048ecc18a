#!/usr/bin/env python3
"""Builds the cshyper busybox initramfs (newc cpio, gzip) from what
scripts/images.sh unpacked: busybox-static, the kernel's modules tree
(virtio drivers and their dependencies, resolved from modules.dep and
decompressed here because busybox insmod may not read .ko.xz/.ko.zst) and,
when given, shyper.ko.

The archive is written directly (no staging tree, no root needed for the
/dev/console node) and is reproducible: fixed owners and timestamps.

Usage: build.py --images build/images [--kmod build/kmod/shyper.ko]
                [--module NAME ...] --out build/images/initramfs.cpio.gz
"""
import argparse
import gzip
import io
import lzma
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Drivers for QEMU virt's virtio-mmio devices; their dependencies are added.
DEFAULT_MODULES = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_console",
                   # A PCIe NIC passed through to a guest (tests/system/test_smmu.py).
                   "e1000e",
                   # The MVM keeps guest images and mediated disks on ext4.
                   "crc32c_generic", "ext4"]

ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/group": "root:x:0:\n",
    "etc/hostname": "cshyper\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n127.0.1.1\tcshyper\n",
    "etc/profile": (
        "export PATH=/sbin:/usr/sbin:/bin:/usr/bin\n"
        "export HOME=/root\n"
        "export PS1='\\h:\\w\\$ '\n"
    ),
}


def die(msg):
    sys.exit(f"initramfs: error: {msg}")


def mod_name(path):
    """kernel/drivers/net/virtio_net.ko.xz -> virtio_net"""
    base = os.path.basename(path)
    base = base[: base.index(".ko")]
    return base.replace("-", "_")


def strip_compression(path):
    return path[: path.index(".ko") + 3]


def read_module(path):
    if path.endswith(".ko"):
        with open(path, "rb") as f:
            return f.read()
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-q", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    die(f"unknown module compression: {path}")


def resolve(moddir, wanted):
    """Returns module paths relative to moddir in load order (deps first)."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            target, _, rest = line.partition(":")
            deps[mod_name(target)] = (target, rest.split())
    builtin = set()
    with open(os.path.join(moddir, "modules.builtin")) as f:
        for line in f:
            if line.strip():
                builtin.add(mod_name(line.strip()))

    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        path, dep_paths = deps[name]
        for d in dep_paths:
            visit(mod_name(d))
        order.append(path)

    for name in wanted:
        name = name.replace("-", "_")
        if name in deps:
            visit(name)
        elif name in builtin:
            print(f"initramfs: {name} is built into the kernel")
        else:
            die(f"module {name} is neither in modules.dep nor built in")
    return order


class Cpio:
    """A newc ("070701") archive writer."""

    def __init__(self, mtime):
        self.buf = io.BytesIO()
        self.ino = 1
        self.mtime = mtime
        self.names = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        if name in self.names:
            die(f"duplicate archive entry {name}")
        self.names.add(name)
        nameb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, self.mtime,
            len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + nameb)
        self.buf.write(b"\0" * (-(110 + len(nameb)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        parent = os.path.dirname(name)
        if parent and parent not in self.names:
            self.dir(parent)
        if name not in self.names:
            self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, perm=0o644):
        if os.path.dirname(name):
            self.dir(os.path.dirname(name))
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, perm, major, minor):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True,
                    help="output directory of scripts/images.sh")
    ap.add_argument("--kmod", help="shyper.ko to include as /lib/modules/shyper.ko")
    ap.add_argument("--module", action="append", default=[],
                    help="extra kernel module to include and load")
    ap.add_argument("--file", action="append", default=[], metavar="SRC:DEST",
                    help="extra executable to include, e.g. build/cli/shyper:usr/bin/shyper")
    ap.add_argument("--init", default=os.path.join(HERE, "init"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(os.path.join(args.images, "kernel-abi")) as f:
        abi = f.read().strip()
    moddir = os.path.realpath(os.path.join(args.images, "modules"))
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    a = Cpio(mtime)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys",
              "tmp", "run", "root", "etc", f"lib/modules/{abi}"):
        a.dir(d)
    a.chardev("dev/console", 0o600, 5, 1)
    with open(os.path.join(args.images, "busybox"), "rb") as f:
        a.file("bin/busybox", f.read(), 0o755)
    a.symlink("bin/sh", "busybox")
    with open(args.init, "rb") as f:
        a.file("init", f.read(), 0o755)
    for name, text in ETC.items():
        a.file(name, text.encode())

    load = []
    for rel in resolve(moddir, DEFAULT_MODULES + args.module):
        dest = f"{abi}/{strip_compression(rel)}"
        a.file(f"lib/modules/{dest}", read_module(os.path.join(moddir, rel)))
        load.append(dest)
    a.file("etc/modules.list", "".join(m + "\n" for m in load).encode())

    if args.kmod:
        with open(args.kmod, "rb") as f:
            a.file("lib/modules/shyper.ko", f.read())

    for spec in args.file:
        src, sep, dest = spec.partition(":")
        if not sep or not dest or dest.startswith("/"):
            die(f"--file {spec}: expected SRC:DEST with a relative DEST")
        with open(src, "rb") as f:
            a.file(dest, f.read(), 0o755)

    data = gzip.compress(a.finish(), compresslevel=9, mtime=mtime)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    print(f"initramfs: {args.out} ({len(data)} bytes; modules: "
          f"{' '.join(mod_name(m) for m in load)}"
          f"{' shyper' if args.kmod else ''})")


if __name__ == "__main__":
    main()
