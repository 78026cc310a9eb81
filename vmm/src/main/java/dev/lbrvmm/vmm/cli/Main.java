package dev.lbrvmm.vmm.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/** {@code lbrvmm}: the command line. */
@Command(name = "lbrvmm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A VMM harness that models how KVM gives guests Intel's Last Branch Recording.",
        subcommands = {RunCommand.class, RecordCommand.class, BenchCommand.class, QmpCommandLine.class, ReportCommand.class, CompletionCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Start with: lbrvmm record configs/fib.conf && lbrvmm report",
                "", "Exit status of run and record: the guest's own status (Linux exit(n),",
                "or (v << 1) | 1 for a write of v to isa-debug-exit); 0 when every vCPU halted;",
                ExitCodes.GUEST_CRASHED + " when the guest crashed (triple fault); " + ExitCodes.BAD_INPUT + " for a config, program",
                "or file that cannot be used; " + ExitCodes.USAGE + " for bad arguments. Other commands: 0 on",
                "success, " + ExitCodes.BAD_INPUT + " for unusable input, " + ExitCodes.USAGE + " for bad arguments."})
public final class Main implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Console streams for the current invocation (tests pass their own). */
    static final class Console {
        final PrintStream out;
        final PrintStream err;

        Console(PrintStream out, PrintStream err) {
            this.out = out;
            this.err = err;
        }
    }

    private final Console console;

    Main(Console console) {
        this.console = console;
    }

    /** No command given: a usage error (exit 2), with the usage. */
    @Override
    public Integer call() {
        console.err.println("lbrvmm: a command is needed (" + String.join(", ", shownCommands(spec.commandLine())) + ")");
        spec.commandLine().usage(console.err);
        return ExitCodes.USAGE;
    }

    /** The subcommands a user is told about (not the hidden ones). */
    private static List<String> shownCommands(CommandLine c) {
        return c.getSubcommands().entrySet().stream().filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
                .map(java.util.Map.Entry::getKey).toList();
    }

    public static void main(String[] args) {
        MonitorSession.bindEarly(args); // a monitor's greeting should not wait for anything else
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line with the given console streams and returns the exit status. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = commandLine(out, err);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExitCodeExceptionMapper(e -> ExitCodes.USAGE);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("lbrvmm: " + inPlainWords(ex));
            err.println("Try 'lbrvmm " + (ex.getCommandLine().getCommandName().equals("lbrvmm") ? "" : ex.getCommandLine().getCommandName() + " ")
                    + "--help' for usage.");
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, r) -> {
            err.println("lbrvmm: internal error: " + ex);
            return ExitCodes.INTERNAL;
        });
        return cl.execute(args);
    }

    /** The whole command tree, every command writing to the given console. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        Console console = new Console(out, err);
        // Every command takes the console; picocli builds everything else itself.
        java.util.Map<Class<?>, java.util.function.Function<Console, Object>> commands = java.util.Map.of(
                RunCommand.class, RunCommand::new,
                BenchCommand.class, BenchCommand::new,
                QmpBenchCommand.class, QmpBenchCommand::new,
                QmpCommandLine.class, QmpCommandLine::new,
                SamplingBenchCommand.class, SamplingBenchCommand::new,
                ReportCommand.class, ReportCommand::new,
                RecordCommand.class, RecordCommand::new,
                LbrPolicyBenchCommand.class, LbrPolicyBenchCommand::new);
        CommandLine cl = new CommandLine(new Main(console), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                var make = commands.get(cls);
                return make != null ? cls.cast(make.apply(console)) : CommandLine.defaultFactory().create(cls);
            }
        });
        // The build writes the man pages with picocli's generator (vmm/pom.xml); users never need it.
        CommandLine manPages = new CommandLine(new ManPageGenerator());
        manPages.getCommandSpec().usageMessage().hidden(true);
        cl.addSubcommand(manPages);
        return cl;
    }

    /** Unknown commands and options said as such, with picocli's closest matches as suggestions. */
    static String inPlainWords(CommandLine.ParameterException ex) {
        if (!(ex instanceof CommandLine.UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) {
            return ex.getMessage();
        }
        CommandLine c = ex.getCommandLine();
        String first = u.getUnmatched().get(0);
        String msg;
        if (first.startsWith("-")) {
            msg = "'" + c.getCommandName() + "' has no option '" + first + "'";
        } else if (!c.getSubcommands().isEmpty()) {
            msg = "'" + first + "' is not a command of " + c.getCommandName() + " (" + String.join(", ", shownCommands(c)) + ")";
        } else {
            msg = "'" + c.getCommandName() + "' takes no more arguments, got " + String.join(" ", u.getUnmatched());
        }
        List<String> close = u.getSuggestions().stream().limit(3).map(x -> "'" + x + "'").toList();
        return close.isEmpty() ? msg : msg + "; did you mean " + String.join(" or ", close) + "?";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"lbrvmm " + (v == null ? "(development build)" : v),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
