"""virtio-net on the hypervisor's virtual switch: two Linux guests
(guests/configs/linux-net-{a,b}.json) and the MVM (its eth1, MAC
02:53:48:59:50:00) on one switch. The guests' /init (cshyper.net-test)
serves 4 MiB of random data over HTTP, pings its peers and fetches theirs;
the MVM pings both guests and fetches both blobs. Every transfer arrives
intact (md5 on both ends), and `shyper vm info` shows the ports' counters."""
import re

from conftest import PROMPT, READY, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure

MVM_MAC = "02:53:48:59:50:00"
MVM_IP = "192.168.77.1"
GUEST_IP = {"a": "192.168.77.11", "b": "192.168.77.12"}
BLOB = 4 * 1024 * 1024


def mvm_net_up(child):
    """The MVM's port: the interface with the built-in MAC, whatever its name."""
    rc, out = sh(child, f"ip -o link | grep -i {MVM_MAC} | cut -d: -f2 | tr -d ' '")
    ifname = out.strip()
    assert rc == 0 and ifname, f"no interface with MAC {MVM_MAC}:\n{out}"
    rc, out = sh(child, f"ip addr add {MVM_IP}/24 dev {ifname} && ip link set {ifname} up")
    assert rc == 0, out
    rc, out = sh(child, "mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/blob bs=64k "
                        "count=64 2>/dev/null && httpd -p 8080 -h /tmp/www && "
                        "md5sum </tmp/www/blob")
    assert rc == 0, out
    return ifname, re.search(r"^([0-9a-f]{32})", out, re.M).group(1)


def net_info(child, vm):
    rc, out = sh(child, f"shyper vm info {vm}")
    assert rc == 0, out
    m = re.search(r"^net: mac ([0-9a-f:]{17}), link (up|down), tx (\d+) packets (\d+) bytes "
                  r"(\d+) drops, rx (\d+) packets (\d+) bytes (\d+) drops$", out, re.M)
    assert m, f"no net line in `shyper vm info {vm}`:\n{out}"
    keys = ("tx_packets", "tx_bytes", "tx_drops", "rx_packets", "rx_bytes", "rx_drops")
    info = dict(zip(keys, (int(x) for x in m.groups()[2:])))
    info.update(mac=m.group(1), link=m.group(2))
    return info


def wait_guest_results(child, vms, timeout=240):
    """Every guest's `cshyper-net:` lines: what it serves, its pings and its
    fetches (the two guests' lines come in any order)."""
    want = {vm: {"serving", "ping " + peers[0], "ping " + peers[1],
                 "fetched " + peers[0], "fetched " + peers[1]}
            for vm, peers in vms.items()}
    got = {vm: {} for vm in vms}
    while any(want[vm] - set(got[vm]) for vm in vms):
        # Whole lines only (they arrive in pieces); the guest's shell
        # prompt may come first on the line.
        expect(child, r"\[vm(\d+)\] [^\r\n]*?cshyper-net: (serving|ping|fetched) ([^\r\n]*)\r",
               f"the guests' network test (still missing "
               f"{ {vm: want[vm] - set(got[vm]) for vm in vms} })", timeout=timeout)
        vm, what, rest = child.match.groups()
        vm, words = int(vm), rest.split() + ["", "", ""]
        if vm not in vms:
            continue
        if what == "serving":
            got[vm]["serving"] = words[0]
        else:
            got[vm][f"{what} {words[0]}"] = (words[1], words[2])
    return got


def test_guests_and_mvm_on_the_switch(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path, mem="1G")
    ifname, mvm_md5 = mvm_net_up(child)
    a = configure(child, f"{GUESTS}/linux-net-a.json")
    b = configure(child, f"{GUESTS}/linux-net-b.json")
    peers = {a: (GUEST_IP["b"], MVM_IP), b: (GUEST_IP["a"], MVM_IP)}
    ip = {a: GUEST_IP["a"], b: GUEST_IP["b"]}

    child.sendline(f"shyper vm boot {a} >/dev/null && shyper vm boot {b} >/dev/null")
    got = wait_guest_results(child, peers)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    serving = {vm: got[vm]["serving"] for vm in (a, b)}
    for vm in (a, b):
        other = b if vm == a else a
        for peer in peers[vm]:
            rtt, _ = got[vm][f"ping {peer}"]
            assert rtt != "FAILED", f"vm{vm} could not ping {peer}"
        md5, size = got[vm][f"fetched {ip[other]}"]
        assert (md5, int(size)) == (serving[other], BLOB), f"vm{vm} from vm{other}"
        md5, size = got[vm][f"fetched {MVM_IP}"]
        assert (md5, int(size)) == (mvm_md5, BLOB), f"vm{vm} from the MVM"

    # The MVM reaches both guests, and their data reaches it intact.
    for vm in (a, b):
        rc, out = sh(child, f"ping -c 3 -W 2 {ip[vm]}", timeout=20)
        assert rc == 0 and " 0% packet loss" in out, out
        rc, out = sh(child, f"wget -q -O /tmp/from-{vm} http://{ip[vm]}:8080/blob && "
                            f"md5sum </tmp/from-{vm} && wc -c </tmp/from-{vm}", timeout=60)
        assert rc == 0, out
        assert serving[vm] in out and str(BLOB) in out, out

    # Counters: each guest sent and received at least its three blobs' worth.
    for vm in (a, b):
        info = net_info(child, vm)
        assert info["link"] == "up"
        assert info["rx_bytes"] > 2 * BLOB and info["tx_bytes"] > 2 * BLOB, info
        assert info["tx_drops"] == 0, info
    mvm = net_info(child, 0)
    assert mvm["mac"] == MVM_MAC
    assert mvm["rx_bytes"] > 2 * BLOB and mvm["tx_bytes"] > 2 * BLOB, mvm
    # The MVM's own uplink (the passed-through NIC) is untouched by all this.
    rc, out = sh(child, f"ip -o link | grep -v {ifname} | grep -c ether")
    assert rc == 0 and int(out.strip().splitlines()[-1]) >= 1, out
