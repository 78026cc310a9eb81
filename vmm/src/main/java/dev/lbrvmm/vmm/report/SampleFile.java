package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrFormat;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The sampling guest's serial stream (examples/src/lbr_sample.S), read sample by sample so a long
 * run needs no more memory than its samples. Little-endian:
 *
 * <pre>
 * header   16 bytes: "LBRSMPL1", u8 LBR format, u8 depth, u16 LBR_SELECT, u32 period (branches)
 * sample   16 + 24*n bytes: u8 'S', u8 n (at most depth), u16 0, u32 sequence number (1, 2, ...),
 *          u64 interrupted RIP, n records newest first: raw u64 FROM_IP, TO_IP, LBR_INFO MSR values
 * trailer  8 bytes: u8 'E', 3 zero bytes, u32 number of samples
 * </pre>
 *
 * The raw MSR values are decoded with the header's LBR format ({@link LbrFormat}), so the guest
 * does no work beyond copying them. Errors name the file, the byte offset and the sample. The
 * guest's text form of the same records is read by {@link SampleTextFile}.
 */
public final class SampleFile {
    static final byte[] MAGIC = {'L', 'B', 'R', 'S', 'M', 'P', 'L', '1'};
    static final int HEADER = 16, SAMPLE_HEADER = 16, RECORD = 24, TRAILER = 8;

    /** The file header. */
    public record Header(int lbrFormat, int depth, int lbrSelect, long period) {}

    private SampleFile() {}

    /** How a file starts: the binary stream, its text form (the magic and a space), or neither. */
    public enum Kind { BINARY, TEXT, OTHER }

    public static Kind kindOf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(MAGIC.length + 1);
            if (b.length < MAGIC.length || !java.util.Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                return Kind.OTHER;
            }
            return b.length > MAGIC.length && b[MAGIC.length] == ' ' ? Kind.TEXT : Kind.BINARY;
        }
    }

    /**
     * Reads every sample, handing each to {@code sink} as it is read and the bytes consumed so far
     * to {@code progress}.
     */
    public static Header read(Path file, Consumer<Sample> sink, LongConsumer progress) throws ReportInputException {
        try (InputStream raw = Files.newInputStream(file)) {
            return read(file.toString(), new BufferedInputStream(raw, 1 << 16), sink, progress);
        } catch (IOException e) {
            throw new ReportInputException(file + ": cannot read: " + e.getMessage());
        }
    }

    static Header read(String name, InputStream in, Consumer<Sample> sink, LongConsumer progress)
            throws ReportInputException, IOException {
        Reader r = new Reader(name, in);
        byte[] magic = r.bytes(MAGIC.length, "the file header");
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new ReportInputException(name + ": not an lbr_sample stream (the first 8 bytes are not \"LBRSMPL1\"); "
                    + "expected the serial output of examples/bin/lbr_sample.elf or an LBR dump (.json)");
        }
        int format = r.u8("the file header");
        int depth = r.u8("the file header");
        int lbrSelect = r.u16("the file header");
        long period = r.u32("the file header");
        if (format > LbrFormat.INFO2) {
            throw new ReportInputException(name + ": byte 0x8: LBR format " + format + " is not one of 0-7");
        }
        if (depth == 0) {
            throw new ReportInputException(name + ": byte 0x9: LBR depth 0");
        }
        Header header = new Header(format, depth, lbrSelect, period);
        long expectSeq = 1;
        while (true) {
            long at = r.offset;
            int tag = r.tagOrEnd();
            if (tag < 0) {
                throw new ReportInputException(String.format("%s: byte 0x%x: the stream ends after sample %d without its trailer "
                        + "(truncated: was the guest stopped before it finished?)", name, at, expectSeq - 1));
            }
            if (tag == 'E') {
                String what = "the trailer";
                r.bytes(3, what);
                long count = r.u32(what);
                if (count != expectSeq - 1) {
                    throw new ReportInputException(String.format("%s: byte 0x%x: the trailer counts %d samples but the stream holds %d",
                            name, at, count, expectSeq - 1));
                }
                if (in.read() >= 0) {
                    throw new ReportInputException(String.format("%s: byte 0x%x: data after the trailer", name, r.offset));
                }
                progress.accept(r.offset);
                return header;
            }
            String what = "sample " + expectSeq;
            if (tag != 'S') {
                throw new ReportInputException(String.format("%s: byte 0x%x: %s: expected a sample ('S') or the trailer ('E'), "
                        + "found byte 0x%02x (corrupt stream?)", name, at, what, tag));
            }
            int n = r.u8(what);
            r.u16(what);
            long seq = r.u32(what);
            if (seq != expectSeq) {
                throw new ReportInputException(String.format("%s: byte 0x%x: %s has sequence number %d (a sample is missing or "
                        + "the stream is corrupt)", name, at, what, seq));
            }
            if (n > depth) {
                throw new ReportInputException(String.format("%s: byte 0x%x: %s holds %d records, more than the LBR depth %d",
                        name, at, what, n, depth));
            }
            long ip = r.u64(what);
            List<LbrSnapshot.Entry> branches = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String rec = what + " record " + i;
                long fromMsr = r.u64(rec);
                long toMsr = r.u64(rec);
                long info = r.u64(rec);
                branches.add(decode(format, i, fromMsr, toMsr, info));
            }
            sink.accept(new Sample(seq, ip, List.copyOf(branches), name + " sample " + seq, lbrSelect, depth));
            progress.accept(r.offset);
            expectSeq++;
        }
    }

    /** One record from its raw FROM_IP, TO_IP and LBR_INFO values, as the LBR format lays them out. */
    static LbrSnapshot.Entry decode(int format, int index, long fromMsr, long toMsr, long info) {
        Boolean mispred = LbrFormat.hasMispredict(format) ? LbrFormat.decodeMispred(format, fromMsr, info) : null;
        Integer cycles = LbrFormat.hasCycles(format) ? LbrFormat.decodeCycles(format, toMsr, info) : null;
        return new LbrSnapshot.Entry(index, LbrFormat.decodeFrom(format, fromMsr), LbrFormat.decodeTo(format, fromMsr, toMsr), mispred, cycles);
    }

    /** Little-endian reads that know their offset and say what was cut short. */
    private static final class Reader {
        final String name;
        final InputStream in;
        long offset;

        Reader(String name, InputStream in) {
            this.name = name;
            this.in = in;
        }

        int tagOrEnd() throws IOException {
            int b = in.read();
            if (b >= 0) {
                offset++;
            }
            return b;
        }

        byte[] bytes(int n, String what) throws IOException, ReportInputException {
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new ReportInputException(String.format("%s: byte 0x%x: truncated in %s (%d of %d bytes; the file ends at byte 0x%x)",
                        name, offset, what, b.length, n, offset + b.length));
            }
            offset += n;
            return b;
        }

        long le(int n, String what) throws IOException, ReportInputException {
            byte[] b = bytes(n, what);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = v << 8 | (b[i] & 0xFF);
            }
            return v;
        }

        int u8(String what) throws IOException, ReportInputException {
            return (int) le(1, what);
        }

        int u16(String what) throws IOException, ReportInputException {
            return (int) le(2, what);
        }

        long u32(String what) throws IOException, ReportInputException {
            return le(4, what);
        }

        long u64(String what) throws IOException, ReportInputException {
            return le(8, what);
        }
    }

}
