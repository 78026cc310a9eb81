package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The example Multiboot kernels (examples/src/mb_*.S) through the CLI entry point. */
class MultibootExamplesTest {
    private static CliRunner.Result run(String kernel, String... extra) {
        String[] args = new String[3 + extra.length];
        args[0] = "run";
        args[1] = "--kernel";
        args[2] = CliRunner.home().resolve("examples/bin/" + kernel).toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return CliRunner.run(args);
    }

    @Test
    void bootsThroughProtectedModeIntoLongModeWithPaging() {
        CliRunner.Result r = run("mb_longmode.elf", "--append", "a b");
        assertThat(r.out()).contains("loader magic 0x2badb002").contains("mb_longmode.elf a b")
                .contains("cr0 = 0x80010011").contains("efer = 0xd00"); // SCE clear; LME, LMA, NXE set
        assertThat(r.status()).as(r.err()).isEqualTo(1);
    }

    @Test
    void pageFaultHandlerMapsThePageAndTheStoreIsRetried() {
        CliRunner.Result r = run("mb_pagefault.elf");
        assertThat(r.out()).contains("#PF at cr2 = 0x40000010, error code 0x2; mapped and retried: ok");
        assertThat(r.status()).as(r.err()).isEqualTo(1);
    }

    @Test
    void codeAndDataRunThroughANonIdentityMapping() {
        CliRunner.Result r = run("mb_highmap.elf");
        assertThat(r.out()).contains("code running at 0x40100").contains("reads back through the identity map: ok");
        assertThat(r.status()).as(r.err()).isEqualTo(1);
    }

    @Test
    void codeRemappedUnderARunningLoopRunsAsMappedUnderBothEngines() {
        // translated at once (threshold 2, on the vCPU thread), so every phase runs translated code
        for (String[] engine : new String[][] {{"-o", "guest.cpu.engine=interpreter"},
                {"-o", "guest.cpu.engine=jit", "-o", "guest.cpu.jit.threshold=2", "-o", "guest.cpu.jit.background=off", "--stats"}}) {
            CliRunner.Result r = run("mb_remap.elf", engine);
            assertThat(r.out()).as(engine[1]).contains("= 0x13880; every call ran the code mapped at the time: ok");
            assertThat(r.status()).as(r.err()).isEqualTo(1);
            if (engine.length > 2) {
                assertThat(r.err()).as("the remapped function ran translated and its translations were dropped")
                        .containsPattern("invalidated\\s+[1-9]");
            }
        }
    }

    @Test
    void lbrDumpAddressesAreLinear() throws Exception {
        java.nio.file.Path dump = java.nio.file.Files.createTempFile("lbr", ".json");
        try {
            CliRunner.Result r = run("mb_highmap.elf", "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1",
                    "--dump-lbr", dump.toString());
            assertThat(r.status()).isEqualTo(1);
            assertThat(java.nio.file.Files.readString(dump)).as("a branch inside the alias at linear 1 GiB + 1 MiB")
                    .containsPattern("\"(from|to)\" : 10747[0-9]{5}");
        } finally {
            java.nio.file.Files.deleteIfExists(dump);
        }
    }

    @Test
    void moreThanOneVcpuIsRefusedInsteadOfHangingForAps() {
        CliRunner.Result r = run("mb_longmode.elf", "-o", "guest.vcpus=2");
        assertThat(r.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("guest.vcpus = 2").contains("INIT/SIPI is not modelled");
    }
}
