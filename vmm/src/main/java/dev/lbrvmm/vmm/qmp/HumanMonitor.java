package dev.lbrvmm.vmm.qmp;

import dev.lbrvmm.monitor.QmpError;
import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.LoadedProgram;
import dev.lbrvmm.vmm.qmp.QmpReplies.CpuInfoFast;

/**
 * The HMP subset behind human-monitor-command ({@code info status}, {@code info cpus},
 * {@code info registers}, {@code info lbr}): text renderings of the same commands QMP runs, with
 * QEMU's CRLF line ends. Unknown commands are text, not errors, as in QEMU. Runs on the VM thread.
 */
final class HumanMonitor {
    private static final String[] REGISTERS = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12",
        "R13", "R14", "R15"};

    private final VmmCommands commands;

    HumanMonitor(VmmCommands commands) {
        this.commands = commands;
    }

    String run(String line, Integer cpuIndex) throws QmpError {
        Vcpu current = commands.vcpu(cpuIndex);
        String cmd = line.trim().replaceAll("\\s+", " ");
        return switch (cmd) {
            case "info status" -> "VM status: " + commands.queryStatus().status() + "\r\n";
            case "info cpus" -> infoCpus(current);
            case "info registers" -> infoRegisters(current.cpu());
            case "info lbr" -> infoLbr(current);
            default -> "unknown command: '" + cmd.split(" ")[0] + "'\r\n";
        };
    }

    private String infoCpus(Vcpu current) {
        StringBuilder sb = new StringBuilder();
        for (CpuInfoFast c : commands.queryCpusFast()) {
            sb.append(c.cpuIndex() == current.index() ? "* " : "  ").append("CPU #").append(c.cpuIndex()).append(": thread_id=")
                    .append(c.threadId()).append("\r\n");
        }
        return sb.toString();
    }

    private static String infoRegisters(Cpu c) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append(String.format("%-3s=%016x", REGISTERS[i], c.r[i])).append(i % 4 == 3 ? "\r\n" : " ");
        }
        sb.append(String.format("RIP=%016x RFL=%08x CPL=%d\r\n", c.rip(), c.rflags(), c.cpl()));
        return sb.toString();
    }

    /** The stack with each record's ring slot (which QMP's query-lbr leaves out) and ELF symbols. */
    private String infoLbr(Vcpu current) {
        LbrSnapshot snap = current.lbrSnapshot().orElse(null);
        if (snap == null) {
            return "CPU #" + current.index() + " has no LBR\r\n";
        }
        StringBuilder sb = new StringBuilder(String.format("CPU #%d LBR: format %d, depth %d, TOS %d, DEBUGCTL %x, LBR_SELECT %x\r\n",
                current.index(), snap.format(), snap.depth(), snap.tos(), current.guestDebugctl(), snap.lbrSelect()));
        LoadedProgram program = commands.controller().machine().program();
        for (LbrSnapshot.Entry e : snap.entries()) {
            sb.append(String.format("  [%2d] %016x -> %016x  %s -> %s%s%s\r\n", e.index(), e.from(), e.to(),
                    program.describe(e.from()), program.describe(e.to()),
                    Boolean.TRUE.equals(e.mispredicted()) ? " mispredicted" : "",
                    e.cycles() == null ? "" : " cycles=" + e.cycles()));
        }
        return sb.toString();
    }
}
