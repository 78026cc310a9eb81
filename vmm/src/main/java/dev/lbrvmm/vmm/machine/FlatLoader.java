package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** Loads a raw binary at a configured address; the entry defaults to the load address. */
public final class FlatLoader {
    private FlatLoader() {}

    public static LoadedProgram load(Path path, byte[] file, long loadAddress, OptionalLong entry, GuestMemory mem)
            throws ProgramLoadException {
        if (file.length == 0) {
            throw new ProgramLoadException(path + " is empty: a flat binary needs at least one instruction");
        }
        if (!mem.contains(loadAddress, file.length)) {
            throw new ProgramLoadException(String.format(
                    "%s (%d bytes) loaded at 0x%x does not fit in guest memory of %d MiB (0x%x bytes); raise guest.memory or lower guest.program.load-address",
                    path, file.length, loadAddress, mem.size() >> 20, mem.size()), "guest.program.load-address");
        }
        long e = entry.orElse(loadAddress);
        if (e < loadAddress || e >= loadAddress + file.length) {
            throw new ProgramLoadException(String.format(
                    "%s: entry 0x%x lies outside the program's %d bytes loaded at [0x%x, 0x%x) (truncated file or wrong guest.program.entry?)",
                    path, e, file.length, loadAddress, loadAddress + file.length),
                    entry.isPresent() ? "guest.program.entry" : "guest.program.load-address");
        }
        mem.load(loadAddress, file, 0, file.length);
        return new LoadedProgram(path, e, loadAddress, loadAddress + file.length, false, List.of());
    }
}
