package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What names the guest, shared by run and record: CONFIG, -o, --kernel, --append, --initrd. */
final class GuestOptions {
    @Parameters(index = "0", arity = "0..1", paramLabel = "CONFIG", description = "Guest config file (HOCON).")
    Path config;

    @Mixin
    ConfigOverrides overrides = new ConfigOverrides();

    @Option(names = "--kernel", paramLabel = "FILE", description = "Guest program to run instead of the config's guest.program.path "
            + "(an ELF32 Multiboot kernel, such as a kvm-unit-tests .flat, is recognised as one).")
    Path kernel;

    @Option(names = "--append", paramLabel = "ARGS", description = "Multiboot kernel command line after its name, as QEMU's -append "
            + "(guest.program.cmdline).")
    String append;

    @Option(names = "--initrd", paramLabel = "FILE", description = "A module for a Multiboot kernel, as QEMU's -initrd (guest.program.initrd).")
    Path initrd;

    /** The config with the -o values, then {@code more} overrides, then --kernel/--append/--initrd. */
    GuestConfig load(List<String> more) throws GuestConfigException {
        GuestConfig cfg = GuestConfigLoader.load(config, overrides.with(more));
        if (kernel != null) {
            cfg = cfg.withProgram(cfg.program().withPath(kernel));
        }
        if (append != null || initrd != null) {
            cfg = cfg.withProgram(cfg.program().withMultiboot(append, initrd));
        }
        return cfg;
    }
}
