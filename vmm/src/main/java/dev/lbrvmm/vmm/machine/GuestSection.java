package dev.lbrvmm.vmm.machine;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.JitSettings;
import dev.lbrvmm.vmm.cpu.Msr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The {@code guest} section (without {@code guest.program}): the virtual machine's shape.
 *
 * @param apStart      what vCPUs other than 0 do at start
 * @param stackPointer RSP at entry; empty = a Linux-style stack at the top of memory
 * @param msrs         initial MSR values, set through the host-initiated MSR interface
 * @param serial       where COM1's output goes
 */
public record GuestSection(String name, long memory, int vcpus, ApStart apStart, CpuModel cpuModel, OptionalLong stackPointer,
        List<MsrSetting> msrs, OutputTarget serial, Paging paging, Engine engine, JitSettings jit) {

    /** How guest code runs: interpreted, or hot blocks translated to JVM bytecode (identical results). */
    public enum Engine { INTERPRETER, JIT }

    /** The translating engine's settings when it is chosen, else null. */
    public JitSettings jitOrNull() {
        return engine == Engine.JIT ? jit : null;
    }

    /** Paging for 64-bit programs. */
    public enum Paging { OFF, IDENTITY }

    /** The config key whose members are free-form MSR names and numbers (checked here, not by reference.conf). */
    static final String MSRS = "guest.msrs";

    public enum ApStart { HALTED, ENTRY }

    /** One initial MSR value; {@code where} names the config line that set it. */
    public record MsrSetting(int index, long value, String key, String where) {}

    static GuestSection from(ConfigReader r) throws GuestConfigException {
        long memory = r.bytes("guest.memory");
        if (memory < (1 << 20) || memory > (4L << 30) || (memory & 0xFFF) != 0) {
            throw r.bad("guest.memory", "must be a multiple of 4 KiB between 1 MiB and 4 GiB, got " + memory + " bytes");
        }
        OptionalLong sp = r.isNull("guest.stack-pointer") ? OptionalLong.empty() : OptionalLong.of(r.number("guest.stack-pointer"));
        return new GuestSection(r.string("guest.name"), memory, r.intIn("guest.vcpus", 1, 64),
                r.enumOf("guest.ap-start", ApStart.class), r.model("guest.cpu.model"), sp, msrs(r),
                OutputTarget.from(r, "guest.serial.output"), r.enumOf("guest.paging", Paging.class),
                r.enumOf("guest.cpu.engine", Engine.class), new JitSettings(r.intIn("guest.cpu.jit.threshold", 1, 1 << 30),
                        r.intIn("guest.cpu.jit.max-regions", 0, 1 << 16), r.bool("guest.cpu.jit.background")));
    }

    public GuestSection withSerial(OutputTarget s) {
        return new GuestSection(name, memory, vcpus, apStart, cpuModel, stackPointer, msrs, s, paging, engine, jit);
    }

    private static List<MsrSetting> msrs(ConfigReader r) throws GuestConfigException {
        ConfigValue node = r.value(MSRS);
        if (!(node instanceof ConfigObject obj)) {
            throw new GuestConfigException(ConfigReader.where(node) + ": " + MSRS + " must be an object of MSR name = value");
        }
        List<MsrSetting> out = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : obj.entrySet()) {
            String path = MSRS + "." + ConfigUtil.joinPath(e.getKey());
            OptionalInt idx = Msr.parse(e.getKey());
            if (idx.isEmpty()) {
                throw new GuestConfigException(ConfigReader.where(e.getValue()) + ": " + path + ": '" + e.getKey()
                        + "' is not an MSR name or number; use a quoted number such as \"0x1d9\" or one of: "
                        + String.join(", ", Msr.names().keySet()));
            }
            out.add(new MsrSetting(idx.getAsInt(), ConfigReader.number(e.getValue(), path), path, ConfigReader.where(e.getValue())));
        }
        return List.copyOf(out);
    }
}
