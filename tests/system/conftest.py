"""Shared helpers for the QEMU system tests: paths to built artefacts and a
launcher that returns a pexpect child talking to the board's first UART."""
import os
import re
import shlex
import socket

import pexpect
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
IMAGES = os.path.join(BUILD, "images")
# CSHYPER_HV_IMAGE: another build of the image to run the tests on (make
# test-ubsan runs them on build/hv-ubsan).
HV_IMAGE = os.environ.get("CSHYPER_HV_IMAGE") or os.path.join(BUILD, "hv", "cshyper.bin")
HV_UBSAN_IMAGE = os.path.join(BUILD, "hv-ubsan", "cshyper.bin")


def qemu_cmd(kernel, gic=3, smp=4, mem="1G", initrd=None, append=None, extra=(),
             machine=""):
    """The reference board: QEMU virt with EL2, a Cortex-A72 and a PL011 on
    stdio; machine: more -M options (e.g. "iommu=smmuv3")."""
    cmd = [
        "qemu-system-aarch64",
        "-M", f"virt,virtualization=on,gic-version={gic}" + (f",{machine}" if machine else ""),
        "-cpu", "cortex-a72",
        "-smp", str(smp),
        "-m", mem,
        "-nographic", "-no-reboot",
        # No default PCI NIC: its option ROM (ipxe-qemu) is not a dependency,
        # and every network a test wants is named explicitly.
        "-nic", "none",
        "-kernel", kernel,
    ]
    if initrd:
        cmd += ["-initrd", initrd]
    if append:
        cmd += ["-append", append]
    cmd += list(extra)
    return cmd


def spawn(cmd, timeout=60, log_name="last-console"):
    child = pexpect.spawn(shlex.join(cmd), timeout=timeout, encoding="utf-8",
                          codec_errors="replace")
    log_dir = os.path.join(BUILD, "test-logs")
    os.makedirs(log_dir, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in log_name)
    child.logfile_read = open(os.path.join(log_dir, safe + ".log"), "w")
    return child


@pytest.fixture
def qemu(request):
    """Yields a function that boots QEMU; every child is killed at teardown.
    Each test's console goes to build/test-logs/<test name>.log."""
    children = []

    def boot(*args, **kwargs):
        timeout = kwargs.pop("timeout", 60)
        name = request.node.name + (f"-{len(children)}" if children else "")
        child = spawn(qemu_cmd(*args, **kwargs), timeout=timeout, log_name=name)
        children.append(child)
        return child

    yield boot
    for child in children:
        if child.isalive():
            child.terminate(force=True)
        if child.logfile_read:
            child.logfile_read.close()


KERNEL = os.path.join(IMAGES, "Image")
INITRD = os.path.join(IMAGES, "initramfs.cpio.gz")
READY = "cshyper-initramfs: ready"
PROMPT = r"cshyper:[^\r\n]*# "
MVM_KERNEL_ADDR = 0x50000000


def expect(child, pattern, what, timeout=None):
    """child.expect that fails with the tail of what the console showed."""
    try:
        return child.expect(pattern, timeout=timeout or child.timeout)
    except (pexpect.TIMEOUT, pexpect.EOF) as e:
        kind = "timeout" if isinstance(e, pexpect.TIMEOUT) else "QEMU exited"
        seen = (child.before or "")[-3000:]
        pytest.fail(f"{kind} waiting for {what} ({pattern!r}); console showed:\n{seen}")


# A line the hypervisor prints for a guest ("[vm1] ..."): it shares the UART
# with the MVM and can land between any two characters the MVM writes.
HV_LINE = r"(?:\[vm\d+\] [^\r\n]*\r*\n)*"
# Such a line, one the hypervisor logs ("[cpu0] vm3 ... removed"), or the
# first part of either, whose rest comes after what the MVM wrote meanwhile
# ("@@BEG[vm1IN@@", then "] rt-latency: ..."): the writers meet at any
# character.
HV_PIECES = (r"(?:\[(?:vm|cpu)\d+\] [^\r\n]*\r*\n"
             r"|\[(?:(?:vm?|c(?:pu?)?)\d*)?(?:\] ?[^\r\n@]*)?)*")
# The rest of a line the hypervisor had begun: not a status digit, not a
# piece of "[cpuN]".
HV_LINE_REST = r"(?:[^\d\[\]\r\n][^\r\n]*)?"
# Between two characters of a marker also the rest of a hypervisor line that
# the marker's first part landed in ("@[cpu2] error: ins" ... "@" then
# "truction fetch ...\n" then "END@@0"): no '@' and no '"' in it, so that the
# echoed command line ('"@@BEG""IN@@"') never passes for the marker.
HV_BETWEEN = r"(?:" + HV_PIECES + r"(?:[^\r\n@\"]*\r*\n" + HV_PIECES + r")?)"
HV_WHOLE_LINE = re.compile(r"\[(?:vm|cpu)\d+\] [^\n]*\n")


def marker(text):
    """A pattern for text as the MVM printed it, guest or hypervisor lines or
    the start of one allowed between any two of its characters and after."""
    return HV_BETWEEN.join(re.escape(c) for c in text) + HV_PIECES


def sh(child, cmd, timeout=10):
    """Runs cmd in the guest shell; returns (exit status, output). The markers
    are split with quotes so that the echoed command line cannot match them."""
    child.sendline(f'echo "@@BEG""IN@@"; {cmd}; echo "@@E""ND@@$?"')
    # A marker can also land inside a line the hypervisor was printing: the
    # rest of that line then follows it ("fetch @@END@@0outside its ...").
    expect(child, marker("@@BEGIN@@") + r"\r*[^\r\n]*\r*\n", f"the start of `{cmd}`", timeout)
    # The status ends its line, or a hypervisor line's rest follows it, also
    # between the line end's \r and \n ("@@END@@0\rction \r\n", CI of
    # 5b23943); but a digit of a "[cpu0" cut in front of it is not taken
    # for the status.
    expect(child, marker("@@END@@") + r"(\d+)\r*" + HV_PIECES + HV_LINE_REST + r"\r*\n",
           f"the end of `{cmd}`", timeout)
    out, rc = child.before.replace("\r", ""), int(child.match.group(1))
    # The hypervisor's whole lines are not the command's output: one that
    # landed inside a line ("heap free: 3965 KiB[vm2] rt-latency: ...") would
    # otherwise break it. Tests that want them read the console log.
    out = HV_WHOLE_LINE.sub("", out)
    # A guest printing through the hypervisor's console at this moment can
    # split the prompt's characters; an empty line then brings a clean one.
    if child.expect([PROMPT, pexpect.TIMEOUT], timeout=min(timeout, 10)) == 1:
        child.sendline("")
        expect(child, PROMPT, f"the prompt after `{cmd}`", timeout)
    return rc, out


def mvm_devices(disk, netdev="user,id=n0"):
    """QEMU arguments for the MVM's kernel (loaded where the built-in MVM
    configuration expects it) and its passed-through virtio disk and NIC
    (QEMU's user network unless netdev, with id n0, says otherwise)."""
    return [
        "-device", f"loader,file={KERNEL},addr={MVM_KERNEL_ADDR:#x},force-raw=on",
        "-drive", f"if=none,id=d0,format=raw,file={disk}",
        "-device", "virtio-blk-device,drive=d0",
        "-netdev", netdev,
        "-device", "virtio-net-device,netdev=n0",
    ]


def free_udp_ports(n):
    """n UDP ports on 127.0.0.1 that nothing uses now."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def board_link():
    """Netdevs for two boards whose MVMs' eth0 are cabled together: UDP
    datagrams between two ports of 127.0.0.1, nothing else reachable."""
    pa, pb = free_udp_ports(2)
    return (f"socket,id=n0,udp=127.0.0.1:{pb},localaddr=127.0.0.1:{pa}",
            f"socket,id=n0,udp=127.0.0.1:{pa},localaddr=127.0.0.1:{pb}")


def require_images():
    for path in (HV_IMAGE, KERNEL, INITRD):
        if not os.path.exists(path):
            pytest.fail(f"{path} missing: run `make hv images kmod` first")
