#!/usr/bin/env python3
"""The reclaim.qmp scenario with the Python standard library only: a QMP client over a Unix or TCP
socket that starts the paused guest, takes the LBR back with a CPU-pinned host event, and prints
the guest's LBR stack and KVM's accounting before and after.

    ./lbrvmm run configs/contention.conf --kernel examples/bin/forever.elf -o kvm.lbr-policy=upstream -S --qmp unix:/tmp/lbrvmm.sock &
    python3 examples/monitor/lbr_dump.py unix:/tmp/lbrvmm.sock
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, address):
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = address[5:]
        else:
            host, port = address[4:].rsplit(":", 1)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host or "127.0.0.1", int(port))
        for _ in range(100):
            try:
                self.sock.connect(target)
                break
            except OSError:
                time.sleep(0.05)
        self.file = self.sock.makefile("rb")
        self.greeting = json.loads(self.file.readline())
        self.events = []
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = {k.replace("_", "-"): v for k, v in args.items()}
        self.sock.sendall(json.dumps(msg).encode())
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError("%s: %s" % (reply["error"]["class"], reply["error"]["desc"]))
            return reply["return"]


def show(qmp, title):
    lbr = qmp.cmd("query-lbr", cpu_index=0)
    stats = qmp.cmd("query-lbr-stats")
    print("== %s: pass-through %s, host event %s, %d entries, TOS %d" % (
        title, lbr["passthrough"], lbr["host-event"], len(lbr["entries"]), lbr["tos"]))
    for e in lbr["entries"][:4]:
        print("   0x%x -> 0x%x" % (e["from"], e["to"]))
    print("   exits %d, LBR-MSR exits %d, accesses lost to reclaim %d, warnings %d" % (
        stats["vm-exits"], stats["lbr-msr-exits"], stats["reclaim-drops"], stats["warnings"]))


def main():
    qmp = Qmp(sys.argv[1] if len(sys.argv) > 1 else "unix:/tmp/lbrvmm.sock")
    print("connected:", qmp.greeting["QMP"]["version"]["package"], "-", qmp.cmd("query-status")["status"])
    qmp.cmd("cont")
    time.sleep(0.2)
    qmp.cmd("stop")
    show(qmp, "guest owns the LBR")
    event = qmp.cmd("x-host-lbr-event-add", cpu=0, pinned=True)
    qmp.cmd("cont")
    time.sleep(0.2)
    qmp.cmd("stop")
    show(qmp, "after a CPU-pinned host LBR event (id %d)" % event["id"])
    print("events seen:", ", ".join(e["event"] for e in qmp.events))
    qmp.cmd("quit")


if __name__ == "__main__":
    main()
