package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.qmp.LbrStackJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Opens what {@code lbrvmm report} is given: the sampling guest's serial stream, binary or text (by its magic), or
 * an LBR dump ({@code --dump-lbr}, {@code query-lbr} output saved as a file), where each vCPU's
 * stack is one sample without an interrupted RIP.
 */
public final class SampleReader {
    /** What a file held: its kind and, for a sample stream, its header. */
    public record Source(Path file, String kind, SampleFile.Header header, long samples) {}

    private SampleReader() {}

    public static Source read(Path file, Consumer<Sample> sink, LongConsumer progress) throws ReportInputException {
        if (!Files.exists(file)) {
            throw new ReportInputException(file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new ReportInputException(file + ": is a directory, not a sample stream or an LBR dump");
        }
        if (!Files.isRegularFile(file)) {
            throw new ReportInputException(file + ": is not a regular file (a device or a pipe); give a sample stream or an LBR dump");
        }
        long[] n = {0};
        Consumer<Sample> counting = s -> {
            n[0]++;
            sink.accept(s);
        };
        try {
            switch (SampleFile.kindOf(file)) {
                case BINARY -> {
                    return new Source(file, "lbr_sample stream", SampleFile.read(file, counting, progress), n[0]);
                }
                case TEXT -> {
                    return new Source(file, "lbr_sample text stream", SampleTextFile.read(file, counting, progress), n[0]);
                }
                default -> { }
            }
            List<LbrSnapshot> stacks = LbrStackJson.read(file);
            for (int i = 0; i < stacks.size(); i++) {
                counting.accept(new Sample(i + 1, -1, stacks.get(i).entries(), file + " vcpu " + i, stacks.get(i).lbrSelect()));
            }
            progress.accept(Files.size(file));
            return new Source(file, "LBR dump", null, n[0]);
        } catch (IOException e) {
            throw new ReportInputException(file + ": cannot read: " + e.getMessage());
        } catch (LbrStackJson.DumpFormatException e) {
            throw new ReportInputException(e.getMessage() + " (expected an lbr_sample stream or an LBR dump)");
        }
    }
}
