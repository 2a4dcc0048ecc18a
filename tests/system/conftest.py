"""Shared helpers for the QEMU system tests: paths to built artefacts and a
launcher that returns a pexpect child talking to the board's first UART."""
import os
import shlex

import pexpect
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
IMAGES = os.path.join(BUILD, "images")
HV_IMAGE = os.path.join(BUILD, "hv", "cshyper.bin")


def qemu_cmd(kernel, gic=3, smp=4, mem="1G", initrd=None, append=None, extra=()):
    """The reference board: QEMU virt with EL2, a Cortex-A72 and a PL011 on stdio."""
    cmd = [
        "qemu-system-aarch64",
        "-M", f"virt,virtualization=on,gic-version={gic}",
        "-cpu", "cortex-a72",
        "-smp", str(smp),
        "-m", mem,
        "-nographic", "-no-reboot",
        "-kernel", kernel,
    ]
    if initrd:
        cmd += ["-initrd", initrd]
    if append:
        cmd += ["-append", append]
    cmd += list(extra)
    return cmd


def spawn(cmd, timeout=60):
    child = pexpect.spawn(shlex.join(cmd), timeout=timeout, encoding="utf-8",
                          codec_errors="replace")
    log_dir = os.path.join(BUILD, "test-logs")
    os.makedirs(log_dir, exist_ok=True)
    child.logfile_read = open(os.path.join(log_dir, "last-console.log"), "w")
    return child


@pytest.fixture
def qemu():
    """Yields a function that boots QEMU; every child is killed at teardown."""
    children = []

    def boot(*args, **kwargs):
        timeout = kwargs.pop("timeout", 60)
        child = spawn(qemu_cmd(*args, **kwargs), timeout=timeout)
        children.append(child)
        return child

    yield boot
    for child in children:
        if child.isalive():
            child.terminate(force=True)
        if child.logfile_read:
            child.logfile_read.close()
