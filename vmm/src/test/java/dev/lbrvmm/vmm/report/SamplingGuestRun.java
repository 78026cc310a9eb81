package dev.lbrvmm.vmm.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.vmm.cpu.BranchKind;
import dev.lbrvmm.vmm.cpu.BranchListener;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineExit;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs configs/lbr_sample.conf in-process with the serial stream going to a file, and meanwhile
 * derives from the interpreter's own branch trace what the LBR must hold at every PMI: the trace
 * without the handler's branches between its entry and its IRETQ (the handler stops the LBR
 * before its first branch and restarts it just before the IRETQ), and without the PMI itself
 * where KVM froze the LBR before delivering it.
 */
final class SamplingGuestRun {
    static Path home() {
        return Path.of(System.getProperty("lbrvmm.home", "..")).toAbsolutePath().normalize();
    }

    static final Path PROGRAM = home().resolve("examples/bin/lbr_sample.elf");

    /** The {@code depth} newest expected records at each PMI, newest first, as {from, to}. */
    final List<long[][]> expectedAtPmi = new ArrayList<>();
    /** The calls still open at each PMI (the LBR's content in call-stack mode), innermost first, as {from, to}. */
    final List<long[][]> openCallsAtPmi = new ArrayList<>();
    final Path samples;
    long branches;

    /**
     * @param depth             the model's LBR depth
     * @param pmiRecorded       whether the PMI itself lands in the LBR (DEBUGCTL without
     *                          FREEZE_LBRS_ON_PMI) or not (KVM's freeze emulation, intel_pmu_legacy_freezing_lbrs_on_pmi)
     */
    SamplingGuestRun(Path dir, int depth, boolean pmiRecorded, String... overrides) throws Exception {
        samples = dir.resolve("samples.bin");
        List<String> o = new ArrayList<>(List.of("guest.serial.output=\"" + samples + "\"", "guest.program.stdout=none"));
        o.addAll(List.of(overrides));
        GuestConfig cfg = GuestConfigLoader.load(home().resolve("configs/lbr_sample.conf"), o);
        long handler = ProgramImage.load(PROGRAM).address("pmi_handler");
        try (Machine m = Machine.create(cfg, new PrintStream(OutputStream.nullOutputStream()), System.err)) {
            Vcpu v = m.vm().vcpus().get(0);
            v.setBranchTracer(new BranchListener() {
                final long[] from = new long[64];
                final long[] to = new long[64];
                final java.util.ArrayDeque<long[]> calls = new java.util.ArrayDeque<>();
                long n;
                boolean inHandler;

                @Override
                public void onBranch(long f, long t, BranchKind kind, int cpl) {
                    branches++;
                    if (inHandler) {
                        if (kind == BranchKind.FAR) { // the IRETQ: recorded, the handler's other branches are not
                            inHandler = false;
                            keep(f, t);
                        }
                        return;
                    }
                    boolean pmi = kind == BranchKind.FAR && t == handler;
                    if (!pmi || pmiRecorded) {
                        keep(f, t);
                    }
                    if (kind == BranchKind.NEAR_REL_CALL || kind == BranchKind.NEAR_IND_CALL) {
                        calls.push(new long[] {f, t});
                    } else if (kind == BranchKind.NEAR_RET && !calls.isEmpty()) {
                        calls.pop();
                    }
                    if (pmi) {
                        openCallsAtPmi.add(calls.stream().limit(depth).toArray(long[][]::new));
                        inHandler = true;
                        long[][] window = new long[(int) Math.min(depth, n)][];
                        for (int k = 0; k < window.length; k++) {
                            int i = (int) ((n - 1 - k) & 63);
                            window[k] = new long[] {from[i], to[i]};
                        }
                        expectedAtPmi.add(window);
                    }
                }

                private void keep(long f, long t) {
                    int i = (int) (n++ & 63);
                    from[i] = f;
                    to[i] = t;
                }
            });
            MachineExit exit = m.run();
            assertThat(exit.kind()).as(exit.toString()).isEqualTo(MachineExit.Kind.GUEST_EXIT);
            assertThat(exit.status()).isZero();
        }
    }

    List<Sample> read() throws ReportInputException {
        List<Sample> out = new ArrayList<>();
        SampleFile.read(samples, out::add, b -> { });
        return out;
    }
}
