package dev.crucible.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the crucible command line. */
@Command(name = "crucible", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Pre-train language models on the JVM and watch what they learn.",
        subcommands = {QuickstartCommand.class, DemoCommand.class, DataCommand.class, TokenizerCommand.class, TrainCommand.class, SweepCommand.class, SpeedrunCommand.class, EvalCommand.class, ServeCommand.class, AnalyzeCommand.class,
                GenerateCommand.class, ReportCommand.class, ReportCommand.Compare.class,
                HfCommands.Import.class,
                HfCommands.Export.class, GrowCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code (0 ok, 2 user error, 1 otherwise). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // User-facing failures (bad config, unreadable file) carry their own message: no stack trace.
            if (isUserError(ex)) {
                cmd.getErr().println("crucible: " + ex.getMessage());
                if (Boolean.getBoolean("crucible.debug")) ex.printStackTrace(cmd.getErr());
                return 2;
            }
            throw ex;
        });
        try {
            return cl.execute(args);
        } catch (ExceptionInInitializerError e) {
            // a kernel class refusing a setting as it loads (e.g. -Dcrucible.gemm.rows=7): the setting's message, no stack trace
            if (!(e.getCause() instanceof IllegalArgumentException bad)) throw e;
            cl.getErr().println("crucible: " + (bad.getMessage() != null ? bad.getMessage() : bad + " while loading a class (-Dcrucible.debug=true for where)"));
            if (Boolean.getBoolean("crucible.debug")) e.printStackTrace(cl.getErr());
            return 2;
        }
    }

    /** A failure that carries its own message for the user (bad config, unreadable file): printed without a stack trace. */
    static boolean isUserError(Throwable ex) {
        return ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"crucible " + (v == null ? "dev" : v), "Java " + Runtime.version()};
        }
    }
}
