package dev.lbrvmm.vmm.machine;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The {@code guest.program} section: what runs in the guest and how it is loaded.
 *
 * @param path   null when no program was given
 * @param args   argv[1..] for ELF programs (argv[0] is the guest name)
 * @param stdout where the Linux shim's write(1/2) goes; null = the serial output (COM1's)
 */
public record ProgramSection(Path path, Format format, long loadAddress, OptionalLong entry, List<String> args, OutputTarget stdout,
        String cmdline, Path initrd) {

    public enum Format { ELF, FLAT, MULTIBOOT }

    static ProgramSection from(ConfigReader r) throws GuestConfigException {
        Path path = r.string("guest.program.path").isEmpty() ? null : r.relativePath("guest.program.path");
        OptionalLong entry = r.isNull("guest.program.entry") ? OptionalLong.empty() : OptionalLong.of(r.number("guest.program.entry"));
        OutputTarget stdout = r.string("guest.program.stdout").equals("serial") ? null : OutputTarget.from(r, "guest.program.stdout");
        Path initrd = r.string("guest.program.initrd").isEmpty() ? null : r.relativePath("guest.program.initrd");
        return new ProgramSection(path, r.enumOf("guest.program.format", Format.class), r.number("guest.program.load-address"), entry,
                r.strings("guest.program.args"), stdout, r.string("guest.program.cmdline"), initrd);
    }

    /** The same program settings for another file (run --kernel FILE). */
    public ProgramSection withPath(Path p) {
        return new ProgramSection(p, format, loadAddress, entry, args, stdout, cmdline, initrd);
    }

    /** The same program with a Multiboot command line and module (run --append, --initrd); null keeps each. */
    public ProgramSection withMultiboot(String newCmdline, Path newInitrd) {
        return new ProgramSection(path, format, loadAddress, entry, args, stdout, newCmdline == null ? cmdline : newCmdline,
                newInitrd == null ? initrd : newInitrd);
    }
}
