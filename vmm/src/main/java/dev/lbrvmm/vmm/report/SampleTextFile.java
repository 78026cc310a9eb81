package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrFormat;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The sampling guest's text form of its stream (lbr_sample with TEXT = 1), one record per line,
 * every number lower-case hexadecimal without 0x:
 *
 * <pre>
 * LBRSMPL1 format depth lbr_select period
 * S seq ip n from/to/info ...          n raw FROM_IP/TO_IP/LBR_INFO triples, newest first
 * E samples
 * </pre>
 *
 * Errors name the file and line (and the sample and record where there is one).
 */
public final class SampleTextFile {
    private SampleTextFile() {}

    public static SampleFile.Header read(Path file, Consumer<Sample> sink, LongConsumer progress) throws ReportInputException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            return read(file.toString(), in, sink, progress);
        } catch (IOException e) {
            throw new ReportInputException(file + ": cannot read: " + e.getMessage());
        }
    }

    static SampleFile.Header read(String name, BufferedReader in, Consumer<Sample> sink, LongConsumer progress)
            throws IOException, ReportInputException {
        String line = in.readLine();
        int lineNo = 1;
        long bytes = 0;
        if (line == null) {
            throw new ReportInputException(name + ":1: empty file");
        }
        bytes += line.length() + 1;
        String[] h = line.trim().split(" +");
        if (h.length != 5 || !h[0].equals("LBRSMPL1")) {
            throw new ReportInputException(name + ":1: expected the header \"LBRSMPL1 format depth lbr_select period\", got \""
                    + abbreviate(line) + "\"");
        }
        int format = (int) hex(name, 1, "the LBR format", h[1]);
        int depth = (int) hex(name, 1, "the depth", h[2]);
        int select = (int) hex(name, 1, "LBR_SELECT", h[3]);
        long period = hex(name, 1, "the period", h[4]);
        if (format > LbrFormat.INFO2) {
            throw new ReportInputException(name + ":1: LBR format " + format + " is not one of 0-7");
        }
        if (depth == 0 || depth > 64) {
            throw new ReportInputException(name + ":1: LBR depth " + depth + " is not 1-64");
        }
        SampleFile.Header header = new SampleFile.Header(format, depth, select, period);
        long expect = 1;
        while ((line = in.readLine()) != null) {
            lineNo++;
            bytes += line.length() + 1;
            String[] w = line.trim().split(" +");
            if (w[0].equals("E")) {
                if (w.length != 2) {
                    throw new ReportInputException(name + ":" + lineNo + ": expected \"E samples\", got \"" + abbreviate(line) + "\"");
                }
                long count = hex(name, lineNo, "the sample count", w[1]);
                if (count != expect - 1) {
                    throw new ReportInputException(String.format("%s:%d: the E line counts %d samples but the file holds %d",
                            name, lineNo, count, expect - 1));
                }
                String more = in.readLine();
                if (more != null && !more.isBlank()) {
                    throw new ReportInputException(name + ":" + (lineNo + 1) + ": text after the E line");
                }
                progress.accept(bytes);
                return header;
            }
            String what = "sample " + expect;
            if (!w[0].equals("S") || w.length < 4) {
                throw new ReportInputException(name + ":" + lineNo + ": " + what + ": expected \"S seq ip n from/to/info ...\" or \"E samples\", got \""
                        + abbreviate(line) + "\"");
            }
            long seq = hex(name, lineNo, what + " number", w[1]);
            if (seq != expect) {
                throw new ReportInputException(String.format("%s:%d: %s has number %d (a sample is missing or the file is corrupt)",
                        name, lineNo, what, seq));
            }
            long ip = hex(name, lineNo, what + " ip", w[2]);
            long n = hex(name, lineNo, what + " record count", w[3]);
            if (n > depth) {
                throw new ReportInputException(String.format("%s:%d: %s holds %d records, more than the LBR depth %d", name, lineNo, what, n, depth));
            }
            if (w.length - 4 != n) {
                throw new ReportInputException(String.format("%s:%d: %s declares %d records but the line has %d (truncated?)",
                        name, lineNo, what, n, w.length - 4));
            }
            List<LbrSnapshot.Entry> branches = new ArrayList<>((int) n);
            for (int i = 0; i < n; i++) {
                String rec = what + " record " + i;
                String[] t = w[4 + i].split("/", -1);
                if (t.length != 3) {
                    throw new ReportInputException(name + ":" + lineNo + ": " + rec + ": expected from/to/info, got \"" + abbreviate(w[4 + i]) + "\"");
                }
                branches.add(SampleFile.decode(format, i, hex(name, lineNo, rec + " from", t[0]), hex(name, lineNo, rec + " to", t[1]),
                        hex(name, lineNo, rec + " info", t[2])));
            }
            sink.accept(new Sample(seq, ip, List.copyOf(branches), name + ":" + lineNo + " sample " + seq, select, depth));
            progress.accept(bytes);
            expect++;
        }
        throw new ReportInputException(String.format("%s:%d: the file ends after sample %d without its E line "
                + "(truncated: was the guest stopped before it finished?)", name, lineNo, expect - 1));
    }

    private static long hex(String name, int line, String what, String token) throws ReportInputException {
        if (token.isEmpty() || token.length() > 16) {
            throw new ReportInputException(name + ":" + line + ": " + what + ": \"" + abbreviate(token) + "\" is not a 64-bit hexadecimal number");
        }
        try {
            return Long.parseUnsignedLong(token, 16);
        } catch (NumberFormatException e) {
            throw new ReportInputException(name + ":" + line + ": " + what + ": \"" + abbreviate(token) + "\" is not a 64-bit hexadecimal number");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
