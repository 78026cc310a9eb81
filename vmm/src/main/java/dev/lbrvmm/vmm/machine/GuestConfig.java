package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.kvm.CostTable;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * A validated guest configuration (see reference.conf for every key and its default).
 *
 * @param source the config file, or null when only defaults and command-line values were used
 */
public record GuestConfig(
        String name,
        long memory,
        int vcpus,
        ApStart apStart,
        CpuModel cpuModel,
        Program program,
        OptionalLong stackPointer,
        List<MsrSetting> msrs,
        SerialOutput serial,
        boolean guestLbr,
        String lbrPolicy,
        CostTable costs,
        Host host,
        Monitor monitor,
        Path source) {

    /** QMP endpoints (QEMU -qmp syntax) and whether to start paused. */
    public record Monitor(List<String> qmp, boolean startPaused) {}

    public enum ApStart { HALTED, ENTRY }

    public enum Format { ELF, FLAT }

    /**
     * @param path   null when no program was given
     * @param args   argv[1..] for ELF programs (argv[0] is the guest name)
     * @param stdout where the Linux shim's write(1/2) goes; null = the serial output (COM1's)
     */
    public record Program(Path path, Format format, long loadAddress, OptionalLong entry, java.util.List<String> args,
            SerialOutput stdout) {}

    /** One initial MSR value; {@code where} names the config line that set it. */
    public record MsrSetting(int index, long value, String key, String where) {}

    /** @param file null unless kind is FILE */
    public record SerialOutput(Kind kind, Path file) {
        public enum Kind { STDOUT, STDERR, NONE, FILE }
    }

    /**
     * @param vcpuAffinity bit i: vCPU threads may run on physical CPU i
     */
    public record Host(int cpus, CpuModel cpuModel, long timeSlice, long vcpuAffinity, List<HostTask> tasks,
            List<CpuLbrEvent> lbrEvents) {}

    /** A branchy host workload; {@code lbr} is none, task-pinned or task-flexible. */
    public record HostTask(String name, long affinity, String lbr) {}

    /** A CPU-wide host LBR user. */
    public record CpuLbrEvent(int cpu, boolean pinned) {}

    public GuestConfig withProgram(Program p) {
        return new GuestConfig(name, memory, vcpus, apStart, cpuModel, p, stackPointer, msrs, serial, guestLbr, lbrPolicy, costs,
                host, monitor, source);
    }

    public GuestConfig withSerial(SerialOutput s) {
        return new GuestConfig(name, memory, vcpus, apStart, cpuModel, program, stackPointer, msrs, s, guestLbr, lbrPolicy, costs,
                host, monitor, source);
    }
}
