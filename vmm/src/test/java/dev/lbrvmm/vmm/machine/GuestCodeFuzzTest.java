package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Random bytes as a flat guest program: whatever the guest does (faults, triple faults, wild jumps,
 * port I/O, system calls, MSR accesses, endless loops and endless REPs), the run ends in a guest
 * outcome or is still going after {@link #SLICES} time slices; no Java exception escapes and the interpreter never reports an internal
 * error. The first byte picks the setup (paging, guest LBR recording, a second vCPU), the rest is
 * the code. Seeds, including every guest crash found so far, are in GuestCodeFuzzTestInputs.
 */
class GuestCodeFuzzTest {
    /** Scheduling slices of host.time-slice = 5000 instructions (or REP elements) a run may take. */
    private static final int SLICES = 40;
    private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());
    private static Path program;
    private static GuestConfig[] setups;

    private static synchronized GuestConfig setup(int selector) throws Exception {
        if (setups == null) {
            program = Files.createTempFile("lbrvmm-fuzz", ".bin");
            program.toFile().deleteOnExit();
            setups = new GuestConfig[8];
            for (int i = 0; i < 8; i++) {
                List<String> o = new ArrayList<>(List.of("guest.program.path=\"" + program + "\"", "guest.program.format=flat",
                        "guest.memory=2M", "host.time-slice=5000", "guest.serial.output=none", "guest.program.stdout=none"));
                if ((i & 1) != 0) {
                    o.add("guest.paging=identity");
                }
                if ((i & 2) != 0) {
                    o.addAll(List.of("kvm.guest-lbr=on", "guest.msrs.IA32_DEBUGCTL=1"));
                }
                if ((i & 4) != 0) {
                    o.addAll(List.of("guest.vcpus=2", "guest.ap-start=entry"));
                }
                setups[i] = GuestConfigLoader.load(null, o);
            }
        }
        return setups[selector & 7];
    }

    @FuzzTest(maxDuration = "10m")
    void flatProgram(byte[] data) throws Exception {
        if (data.length < 2) {
            return;
        }
        GuestConfig cfg = setup(data[0]);
        Files.write(program, Arrays.copyOfRange(data, 1, Math.min(data.length, 1 + 64 * 1024)));
        try (Machine m = Machine.create(cfg, DISCARD, DISCARD)) {
            int[] slices = {0};
            MachineExit exit = m.runUntil(() -> ++slices[0] > SLICES);
            if (exit != null) {
                assertThat(exit.kind()).as(exit.message()).isNotEqualTo(MachineExit.Kind.INTERNAL_ERROR);
            }
        }
    }
}
