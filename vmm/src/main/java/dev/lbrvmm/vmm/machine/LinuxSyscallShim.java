package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The minimal Linux user ABI for guests that execute SYSCALL without programming IA32_LSTAR:
 * write(2) to fd 1 or 2 goes to the serial output, exit(2) and exit_group(2) end the guest with
 * that status, and anything else returns -ENOSYS (logged once per number). RCX and R11 are
 * clobbered with the return address and RFLAGS, as the kernel does.
 */
public final class LinuxSyscallShim {
    private static final Logger LOG = LoggerFactory.getLogger(LinuxSyscallShim.class);
    public static final int SYS_WRITE = 1, SYS_EXIT = 60, SYS_EXIT_GROUP = 231;
    private static final long EBADF = 9, EFAULT = 14, ENOSYS = 38;

    private final SerialOutput out;
    private final Set<Long> unknownReported = new HashSet<>();

    public LinuxSyscallShim(SerialOutput out) {
        this.out = out;
    }

    /** Performs the call; returns the exit status for exit/exit_group, or -1 to continue the guest. */
    public int handle(Cpu cpu) {
        long nr = cpu.r[Cpu.RAX];
        long a0 = cpu.r[Cpu.RDI], a1 = cpu.r[Cpu.RSI], a2 = cpu.r[Cpu.RDX];
        cpu.r[Cpu.RCX] = cpu.rip();
        cpu.r[Cpu.R11] = cpu.rflags();
        if (nr == SYS_EXIT || nr == SYS_EXIT_GROUP) {
            return (int) (a0 & 0xFF);
        }
        long ret;
        if (nr == SYS_WRITE) {
            ret = write(cpu.memory(), a0, a1, a2);
        } else {
            if (unknownReported.add(nr)) {
                LOG.warn("vCPU {}: Linux system call {} at RIP 0x{} is not supported by the shim; returning -ENOSYS",
                        cpu.index, nr, Long.toHexString(cpu.rip() - 2));
            }
            ret = -ENOSYS;
        }
        cpu.r[Cpu.RAX] = ret;
        return -1;
    }

    private long write(GuestMemory mem, long fd, long buf, long count) {
        if (fd != 1 && fd != 2) {
            return -EBADF;
        }
        if (count < 0 || count > Integer.MAX_VALUE || !mem.inBounds(buf, (int) count)) {
            return -EFAULT;
        }
        for (long i = 0; i < count; i++) {
            out.write(mem.read8(buf + i));
        }
        return count;
    }
}
