"""Interrupt delivery under stress: the management VM drives thousands of
interrupt-driven I/Os through its passed-through UART, virtio disk and
virtio NIC, on GICv2 and GICv3, and every phase must keep making progress.

A phase that makes no progress for STALL_S seconds is a stall: the test then
presses a key (one UART interrupt) and reports whether that unrelated
interrupt set things going again, which is the signature of an interrupt
left pending at the GIC without being signalled (see docs/ARCHITECTURE.md,
"QEMU's GICv2 and hardware list registers").

IRQ_STRESS_SCALE multiplies the operation counts (`make stress` runs it
with 10; the default keeps `make test` short)."""
import os
import re
import socket
import threading
import time

import pexpect
import pytest

from conftest import (HV_IMAGE, INITRD, PROMPT, READY, expect, mvm_devices,
                      require_images, sh)

SCALE = float(os.environ.get("IRQ_STRESS_SCALE", "1"))
# A healthy phase reports every few hundred milliseconds, even on a loaded
# 2-core host; a minute without progress is a stall.
STALL_S = float(os.environ.get("IRQ_STRESS_STALL_S", "60"))
DISK_SIZE = 64 << 20


class EchoServer:
    """TCP echo on the host's loopback, reached from the MVM through QEMU's
    user network as 10.0.2.2:<port>; each connection echoes one line."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.served = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(10)
                try:
                    data = conn.recv(256)
                    if data:
                        conn.sendall(data)
                        self.served += 1
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def phases(port):
    """(name, operation count, loop body); each body is one interrupt-driven
    operation that fails loudly, $i is its index."""
    n = lambda base: max(1, int(base * SCALE))
    return [
        # Short bursts to the UART with idle gaps: the transmit interrupt
        # and the timer waking an otherwise idle core.
        ("tty", n(200), "printf '%01200d\\n' $i; sleep 0.02"),
        # One 4 KiB direct read or write at a time: one disk interrupt each.
        ("disk", n(500),
         "if [ $((i % 2)) = 0 ]; then "
         "dd if=/dev/vda of=/dev/null bs=4k count=1 skip=$((i % 8192)) iflag=direct 2>/dev/null; "
         "else dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=$((i % 8192)) oflag=direct "
         "conv=notrunc 2>/dev/null; fi"),
        # A TCP connection per operation: handshake, data and close.
        ("net", n(300), f"[ \"$(echo x$i | nc 10.0.2.2 {port})\" = x$i ]"),
    ]


def interrupt_counts(child):
    """{name: count} of the MVM's device and timer interrupts."""
    rc, out = sh(child, "cat /proc/interrupts")
    counts = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3 or not fields[0].endswith(":") or not fields[1].isdigit():
            continue
        name = fields[-1]
        if re.match(r"virtio\d|uart-pl011|arch_timer", name):
            counts[name] = counts.get(name, 0) + int(fields[1])
    return counts


def run_phase(child, name, count, body):
    """Runs `count` operations, each reporting its index; fails on an error
    or on a stall, saying which phase and what a key press changed."""
    # Markers are split with quotes so that the echoed command cannot match.
    child.sendline(f"i=0; while [ $i -lt {count} ]; do {body} || "
                   f"{{ echo \"IO-F\"\"AIL {name} $i\"; break; }}; "
                   f"echo \"IO-O\"\"K {name} $i\"; i=$((i+1)); done; "
                   f"echo \"IO-E\"\"ND {name} $i\"")
    progress = 0  # reports seen; any report within STALL_S is progress
    start = time.monotonic()
    while True:
        k = child.expect([rf"IO-OK {name} \d+\r*\n", rf"IO-FAIL {name} (\d+)\r*\n",
                          rf"IO-END {name} (\d+)\r*\n", pexpect.TIMEOUT, pexpect.EOF],
                         timeout=STALL_S)
        if k == 0:
            progress += 1
        elif k == 1:
            pytest.fail(f"{name}: operation {child.match.group(1)} failed "
                        f"({body}); console:\n{child.before[-2000:]}")
        elif k == 2:
            done = int(child.match.group(1))
            break
        elif k == 4:
            pytest.fail(f"{name}: QEMU exited after {progress} reports:\n"
                        f"{child.before[-3000:]}")
        else:
            seen = child.before[-3000:]
            child.send(" ")
            try:
                child.expect(rf"IO-OK {name} \d+|IO-END {name}", timeout=20)
                after = "came back after one key press (a UART interrupt): " \
                        "an interrupt was pending at the GIC but not signalled"
            except pexpect.TIMEOUT:
                after = "stayed stuck after a key press"
            pytest.fail(f"STALL in phase {name}: no progress for {STALL_S:.0f} s "
                        f"after {progress} of {count} operations; it {after}. "
                        f"Console before the key press:\n{seen}")
    expect(child, PROMPT, f"the prompt after phase {name}")
    assert done == count, f"{name}: {done} of {count} operations completed"
    return time.monotonic() - start


@pytest.mark.parametrize("gic", [2, 3])
def test_interrupt_driven_io_never_stalls(qemu, tmp_path, gic):
    require_images()
    disk = tmp_path / "scratch.img"
    with open(disk, "wb") as f:
        f.truncate(DISK_SIZE)
    server = EchoServer()
    try:
        child = qemu(HV_IMAGE, gic=gic, smp=4, mem="1G", initrd=INITRD,
                     timeout=60, extra=mvm_devices(disk))
        expect(child, re.escape(READY), "the MVM's initramfs", timeout=120)
        expect(child, PROMPT, "the MVM shell prompt")
        sh(child, "printf '#!/bin/sh\\n[ \"$1\" = bound ] && ip addr add $ip/$mask dev $interface\\n'"
                  " > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; ip link set eth0 up")
        rc, out = sh(child, "udhcpc -i eth0 -n -q -t 10 -s /tmp/dhcp.sh", timeout=90)
        assert rc == 0, f"no DHCP lease on eth0:\n{out}"

        before = interrupt_counts(child)
        took = {name: run_phase(child, name, count, body)
                for name, count, body in phases(server.port)}
        after = interrupt_counts(child)
    finally:
        server.close()

    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    print(f"GICv{gic}: phases took " +
          ", ".join(f"{k} {v:.1f} s" for k, v in took.items()) +
          "; interrupts: " + ", ".join(f"{k} {v}" for k, v in sorted(delta.items())))
    counts = {name: count for name, count, _ in phases(server.port)}
    assert server.served >= counts["net"], (server.served, counts["net"])
    # The disk and the NIC (and the MVM's switch port, idle here) delivered
    # at least one interrupt per operation they served; the timer woke the
    # idle core between the console bursts.
    devices = [k for k in delta if k.startswith("virtio")]
    assert len(devices) >= 2, f"expected the MVM's virtio devices: {delta}"
    assert sum(delta[k] for k in devices) >= counts["disk"] + counts["net"], delta
    assert delta.get("arch_timer", 0) >= counts["tty"], delta
    child.sendline("poweroff")
    child.expect(pexpect.EOF, timeout=60)
