package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.qmp.LbrStackJson;
import dev.lbrvmm.vmm.qmp.RecordFile;
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
    /** What a file held: its kind and, for a sample stream, its header; for lbrvmm record data, how it was recorded. */
    public record Source(Path file, String kind, SampleFile.Header header, long samples, RecordFile.Header recording) {
        Source(Path file, String kind, SampleFile.Header header, long samples) {
            this(file, kind, header, samples, null);
        }
    }

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
            if (RecordFile.isRecordFile(file)) {
                return recording(file, counting, progress, n);
            }
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
                counting.accept(new Sample(i + 1, -1, stacks.get(i).entries(), file + " vcpu " + i, stacks.get(i).lbrSelect(),
                        stacks.get(i).depth()));
            }
            progress.accept(Files.size(file));
            return new Source(file, "LBR dump", null, n[0]);
        } catch (IOException e) {
            throw new ReportInputException(file + ": cannot read: " + e.getMessage());
        } catch (LbrStackJson.DumpFormatException e) {
            throw new ReportInputException(e.getMessage() + " (expected an lbr_sample stream or an LBR dump)");
        }
    }

    /** lbrvmm record data: its samples, or the stacks at exit when it was recorded without a period. */
    private static Source recording(Path file, Consumer<Sample> sink, LongConsumer progress, long[] n)
            throws IOException, LbrStackJson.DumpFormatException {
        RecordFile.Contents c = RecordFile.read(file);
        if (!c.samples().isEmpty()) {
            for (RecordFile.Stack s : c.samples()) {
                sink.accept(new Sample(s.seq(), s.ip(), s.lbr().entries(), file + " vcpu " + s.vcpu(), s.lbr().lbrSelect(),
                        s.lbr().depth()));
            }
        } else {
            for (int i = 0; i < c.atExit().size(); i++) {
                LbrSnapshot s = c.atExit().get(i);
                sink.accept(new Sample(i + 1, -1, s.entries(), file + " vcpu " + i + " at exit", s.lbrSelect(), s.depth()));
            }
        }
        progress.accept(Files.size(file));
        return new Source(file, c.samples().isEmpty() ? "lbrvmm record data (stacks at exit)" : "lbrvmm record data", null, n[0],
                c.header());
    }
}
