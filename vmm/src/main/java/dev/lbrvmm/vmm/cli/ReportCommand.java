package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.OutputFile;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import dev.lbrvmm.vmm.qmp.LbrStackJson;
import dev.lbrvmm.vmm.qmp.RecordFile;
import dev.lbrvmm.vmm.qmp.SampleStreamIdentity;
import dev.lbrvmm.vmm.report.BranchTable;
import dev.lbrvmm.vmm.report.FlameGraphHtml;
import dev.lbrvmm.vmm.report.FoldedStacks;
import dev.lbrvmm.vmm.report.ProgramImage;
import dev.lbrvmm.vmm.report.ReportInputException;
import dev.lbrvmm.vmm.report.Sample;
import dev.lbrvmm.vmm.report.SampleFile;
import dev.lbrvmm.vmm.report.SampleListing;
import dev.lbrvmm.vmm.report.SampleReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lbrvmm report}: branch-stack samples as perf users read them. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Reads branch-stack samples (the serial stream of examples/bin/lbr_sample.elf, binary or text, or LBR dumps "
                + "written by run --dump-lbr) and prints a per-branch table; optionally a perf-script-like listing, folded call "
                + "stacks for flame-graph tools and a self-contained HTML page with a flame graph and a hotness chart.")
final class ReportCommand implements Callable<Integer> {
    private final Main.Console console;

    @Parameters(paramLabel = "INPUT", arity = "0..*", description = "Data files of lbrvmm record, sample streams or LBR dump files "
            + "(default: lbrvmm.data).")
    List<Path> inputs;

    @Option(names = {"-p", "--program"}, paramLabel = "ELF|CONFIG",
            description = "The guest program (or a guest config naming it): names addresses by symbol and tells calls/returns "
                    + "apart for call stacks.")
    Path program;

    @Option(names = "--script", description = "Print every sample with its branch stack (like perf script).")
    boolean script;

    @Option(names = "--top", paramLabel = "N", description = "Rows of the branch table to print (default: ${DEFAULT-VALUE}; 0 = all).")
    int top = 20;

    @Option(names = "--symbol", paramLabel = "NAME", description = "Keep only samples whose sampled address lies in function NAME.")
    String symbol;

    @Option(names = "--folded", paramLabel = "FILE", description = "Write folded call stacks (stack count per line) to FILE.")
    Path folded;

    @Option(names = "--html", paramLabel = "FILE", description = "Write the HTML report (flame graph, hotness chart, table) to FILE.")
    Path html;

    @Option(names = "--json", description = "Print the summary and the whole branch table as one JSON object instead of text "
            + "(addresses as \"0x...\" strings; the schema is in the README).")
    boolean json;

    @Mixin
    ProgressOption progress = new ProgressOption();

    ReportCommand(Main.Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        try {
            return report();
        } catch (ReportInputException e) {
            console.err.println("lbrvmm: report: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }

    private int report() throws ReportInputException {
        if (json && script) {
            console.err.println("lbrvmm: report: --json and --script both print samples' worth of output; give one");
            return ExitCodes.USAGE;
        }
        if (top < 0) {
            console.err.println("lbrvmm: report: --top must be 0 or more, got " + top);
            return ExitCodes.USAGE;
        }
        if (inputs == null || inputs.isEmpty()) {
            inputs = List.of(Path.of(RecordFile.DEFAULT_NAME));
            if (!Files.exists(inputs.get(0))) {
                console.err.println("lbrvmm: report: no input given and no " + RecordFile.DEFAULT_NAME + " here: record one with "
                        + "'lbrvmm record CONFIG', or name sample streams or LBR dumps");
                return ExitCodes.USAGE;
            }
        }
        refuseOutputOverInput("--folded", folded);
        refuseOutputOverInput("--html", html);
        ProgramImage image = programImage();
        if (symbol != null && !image.hasSymbols()) {
            console.err.println("lbrvmm: report: --symbol needs --program with an ELF that has symbols");
            return ExitCodes.USAGE;
        }
        if (symbol != null && !image.hasSymbol(symbol)) {
            console.err.println("lbrvmm: report: --symbol " + symbol + ": the program has no such symbol");
            return ExitCodes.USAGE;
        }
        BranchTable table = new BranchTable();
        FoldedStacks stacks = new FoldedStacks(image);
        SampleListing listing = script ? new SampleListing(image) : null;
        long[] kept = {0};
        long[] read = {0};
        List<String> summary = new ArrayList<>();
        boolean showProgress = progress.enabled();
        for (Path in : inputs) {
            ReadProgress meter = showProgress ? new ReadProgress(console.err, in, size(in)) : null;
            SampleReader.Source src = SampleReader.read(in, s -> {
                read[0]++;
                if (symbol != null && !image.function(s.leafAddress()).equals(symbol)) {
                    return;
                }
                kept[0]++;
                table.add(s);
                stacks.add(s);
                if (listing != null) {
                    console.out.print(listing.format(s));
                }
            }, meter == null ? b -> { } : b -> meter.update(b, read[0]));
            if (meter != null) {
                meter.done(read[0]);
            }
            summary.add(describe(src));
        }
        notes.forEach(console.err::println);
        if (symbol != null) {
            summary.add(String.format(Locale.ROOT, "%,d of %,d samples have their sampled address in %s", kept[0], read[0], symbol));
        }
        summary.add(String.format(Locale.ROOT, "%,d branch records, %,d distinct branches", table.records(), table.rows().size()));
        if (!image.hasSymbols()) {
            summary.add("addresses are not named: give --program with the guest program (or its config), or record with 'lbrvmm record'");
        }
        if (json) {
            console.out.println(ReportJson.text(summary, table, image));
        } else {
            if (script) {
                console.out.println();
            }
            summary.forEach(s -> console.out.println("# " + s));
            printTable(table, image);
        }
        if (folded != null) {
            write(folded, stacks.text());
            console.err.println("lbrvmm: report: folded stacks written to " + folded);
        }
        if (html != null) {
            String title = "lbrvmm report: " + String.join(", ", inputs.stream().map(p -> p.getFileName().toString()).toList());
            write(html, FlameGraphHtml.render(title, summary, stacks, table, image));
            console.err.println("lbrvmm: report: HTML report written to " + html);
        }
        return 0;
    }

    /** What programImage() found to say about the program, said once every input has been read (a bad input is one line). */
    private final List<String> notes = new ArrayList<>();

    /**
     * The program to name addresses with: -p (with a warning when it is not the program a data file
     * recorded), else the recorded program when it is still there unchanged, else the recorded symbols.
     */
    private ProgramImage programImage() throws ReportInputException {
        Optional<RecordFile.Header> recorded = recordedHeader();
        Optional<ProgramIdentity> was = recorded.isPresent() ? recorded.get().program() : namedProgram();
        if (program != null) {
            Path file = programFile();
            ProgramImage image = ProgramImage.load(file);
            Optional<ProgramIdentity> given = identity(file);
            if (was.isPresent() && given.isPresent() && !given.get().sameProgram(was.get())) {
                notes.add("lbrvmm: report: warning: --program " + given.get().describe()
                        + " is not the program the samples were recorded from, " + was.get().describe()
                        + ": symbols and call stacks may be wrong");
            }
            return image;
        }
        if (was.isEmpty()) {
            return ProgramImage.none();
        }
        Path file = Path.of(was.get().path());
        Optional<ProgramIdentity> now = identity(file);
        if (now.isPresent() && now.get().sameProgram(was.get())) {
            return ProgramImage.load(file);
        }
        if (recorded.isEmpty()) { // a dump or a stream's side file names its program but holds no symbols
            notes.add("lbrvmm: report: note: " + was.get().path() + (now.isPresent() ? " has changed since" : " is gone since")
                    + " the input was written: addresses are not named (give --program with that program)");
            return ProgramImage.none();
        }
        notes.add("lbrvmm: report: note: " + was.get().path() + (now.isPresent() ? " has changed since" : " is gone since")
                + " it was recorded: addresses are named from the recorded symbols, and calls and returns are not told apart "
                + "(give --program with the recorded program for call stacks)");
        return ProgramImage.ofSymbols(recorded.get().symbols());
    }

    /** The header of the first input that is an lbrvmm record data file. */
    private Optional<RecordFile.Header> recordedHeader() throws ReportInputException {
        for (Path in : inputs) {
            try {
                if (Files.isRegularFile(in) && RecordFile.isRecordFile(in)) {
                    return Optional.of(RecordFile.readHeader(in));
                }
            } catch (IOException e) {
                throw new ReportInputException(in + ": cannot read: " + e.getMessage());
            } catch (LbrStackJson.DumpFormatException e) {
                throw new ReportInputException(e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * The program the first input that names one names: an LBR dump (since lbrvmm records
     * identities) or a sample stream with its side file (STREAM.program.json, written by run).
     */
    private Optional<ProgramIdentity> namedProgram() throws ReportInputException {
        for (Path in : inputs) {
            try {
                if (Files.isRegularFile(in) && startsLikeJson(in)) {
                    Optional<ProgramIdentity> p = LbrStackJson.readProgram(in);
                    if (p.isPresent()) {
                        return p;
                    }
                } else if (Files.isRegularFile(in) && SampleFile.kindOf(in) != SampleFile.Kind.OTHER) {
                    Optional<SampleStreamIdentity.Found> side = SampleStreamIdentity.read(in);
                    if (side.isPresent() && side.get() instanceof SampleStreamIdentity.Current c) {
                        return Optional.of(c.program());
                    }
                    if (side.isPresent() && side.get() instanceof SampleStreamIdentity.Stale stale) {
                        notes.add("lbrvmm: report: note: " + stale.why() + ": its program identity is not used");
                    }
                }
            } catch (IOException e) {
                throw new ReportInputException(in + ": cannot read: " + e.getMessage());
            } catch (LbrStackJson.DumpFormatException e) {
                throw new ReportInputException(e.getMessage());
            }
        }
        return Optional.empty();
    }

    private static boolean startsLikeJson(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            int b;
            do {
                b = in.read();
            } while (b == ' ' || b == '\n' || b == '\r' || b == '\t');
            return b == '{';
        }
    }

    private static Optional<ProgramIdentity> identity(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(ProgramIdentity.of(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** -p names the ELF, or a guest config (.conf) whose guest.program.path does. */
    private Path programFile() throws ReportInputException {
        if (!program.toString().endsWith(".conf")) {
            return program;
        }
        try {
            Path p = GuestConfigLoader.load(program, List.of()).program().path();
            if (p == null) {
                throw new ReportInputException("--program " + program + ": the config names no guest.program.path");
            }
            return p;
        } catch (GuestConfigException e) {
            throw new ReportInputException("--program: " + e.getMessage());
        }
    }

    private static String describe(SampleReader.Source src) {
        if (src.recording() != null) {
            RecordFile.Header h = src.recording();
            return String.format(Locale.ROOT, "%s: %s, %,d stack%s, %s, %d-entry LBR (format %d)%s%s", src.file(), src.kind(), src.samples(),
                    src.samples() == 1 ? "" : "s", h.model(), h.lbrDepth(), h.lbrFormat(),
                    h.period() > 0 ? String.format(Locale.ROOT, ", one per %,d instructions", h.period()) : "",
                    h.program().map(p -> ", program " + p.describe()).orElse(""));
        }
        if (src.header() == null) {
            return String.format(Locale.ROOT, "%s: %s, %,d vCPU stack%s", src.file(), src.kind(), src.samples(), src.samples() == 1 ? "" : "s");
        }
        int select = src.header().lbrSelect();
        return String.format(Locale.ROOT, "%s: %s, %,d samples, one per %,d branches, LBR format %d, depth %d%s", src.file(), src.kind(),
                src.samples(), src.header().period(), src.header().lbrFormat(), src.header().depth(),
                select == 0 ? "" : String.format(", LBR_SELECT %#x%s", select,
                        (select & dev.lbrvmm.vmm.report.Sample.EN_CALLSTACK) != 0 ? " (call-stack mode: stacks are call chains)" : ""));
    }

    private void printTable(BranchTable table, ProgramImage image) {
        List<BranchTable.Row> rows = table.rows();
        int n = top == 0 ? rows.size() : Math.min(top, rows.size());
        console.out.printf("%10s %7s %7s  %-36s %s%n", "count", "share", "mispred", "from", "to");
        for (BranchTable.Row r : rows.subList(0, n)) {
            double rate = r.mispredictRate();
            console.out.printf(Locale.ROOT, "%,10d %6.2f%% %7s  %-36s %s%n", r.count(), 100.0 * r.count() / Math.max(1, table.records()),
                    Double.isNaN(rate) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * rate),
                    address(r.from(), image), address(r.to(), image));
        }
        if (n < rows.size()) {
            console.out.printf(Locale.ROOT, "... %,d more (--top 0 shows all)%n", rows.size() - n);
        }
    }

    /** "0xaddr name+0xoff" with symbols, the address alone without them. */
    private static String address(long a, ProgramImage image) {
        return image.hasSymbols() ? String.format("%#x %s", a, image.describe(a)) : String.format("%#x", a);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Checked before any input is read, so a refused output costs nothing and destroys nothing. */
    private void refuseOutputOverInput(String option, Path out) throws ReportInputException {
        Map<String, Path> in = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            in.put("input " + (i + 1), inputs.get(i));
        }
        in.put("the --program file", program);
        Optional<String> c = OutputFile.clash(out, in);
        if (c.isPresent()) {
            throw new ReportInputException(option + " " + out + " is " + c.get() + "; refusing to overwrite it");
        }
    }

    private static void write(Path file, String text) throws ReportInputException {
        try {
            OutputFile.replace(file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ReportInputException(file + ": cannot write: " + e.getMessage());
        }
    }
}
