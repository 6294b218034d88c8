package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.hub.Redaction;
import io.layerscope.llama.NativeLibrary;
import io.layerscope.spark.ContainerMemoryLimit;
import io.layerscope.spark.HeapExhaustion;
import io.layerscope.spark.MissingExecutorJar;
import io.layerscope.spark.ResultSizeLimit;
import io.layerscope.spark.ScratchDiskFull;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code layerscope} command line. Subcommands do the work; this root turns failures into
 * one paragraph on standard error and an exit status: 2 for bad input (a
 * {@link LayerscopeException} or a bad option), 1 for anything unexpected (with the stack trace
 * under {@code --verbose}). Results go to standard output, everything else to standard error.
 *
 * <pre>{@code
 * int status = Main.commandLine().execute("list-layers", "--model", "demo");
 * }</pre>
 */
@Command(name = "layerscope", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Per-layer pruning statistics (weight magnitude, activation norms, Wanda) for LLaMA checkpoints.",
        footer = {"", Main.SPARK_OPTIONS_FOOTER_1, Main.SPARK_OPTIONS_FOOTER_2, Main.SPARK_OPTIONS_FOOTER_3},
        subcommands = {SweepCommand.class, LayerCommand.class, QueryCommand.class, LayerTypesCommand.class,
            ListLayersCommand.class, CompletionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    // Shared by the commands that start Spark, so their own --help names what submit.sh passes on.
    static final String SPARK_OPTIONS_FOOTER_1 = "Through ./submit.sh every command also takes spark-submit's options";
    static final String SPARK_OPTIONS_FOOTER_2 = "(--master, --conf k=v, --driver-memory, --packages, ...), which go to Spark.";
    static final String SPARK_OPTIONS_FOOTER_3 = "Every option: docs/USAGE.md.";

    public static final int EXIT_BAD_INPUT = 2;
    public static final int EXIT_FAILURE = 1;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Log progress details to standard error, and print the stack trace after an error.")
    private boolean verbose;

    @Spec
    private CommandSpec spec;

    /** --verbose was given: Spark's log stays on after a failure or a signal. */
    private static volatile boolean verboseRun;

    /** Set once the command has returned: a shutdown after that is the normal exit, not a signal. */
    private static volatile boolean finished;
    /** Whether main has begun: a failure after that is layerscope's, not Spark's refusal of its options. */
    private static volatile boolean started;

    /** Whether {@link #main} has begun (in this JVM). */
    static boolean started() {
        return started;
    }
    private static final java.util.concurrent.atomic.AtomicBoolean STOP_REPORTED = new java.util.concurrent.atomic.AtomicBoolean();

    public static void main(String[] args) {
        started = true;
        StandardError.install();
        verboseRun = java.util.Arrays.asList(args).contains("--verbose");
        // SIGTERM or SIGINT while sampling or writing may end the JVM before the command's own thread
        // fails: say so then, once (the results directory's hook removes what was written)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!finished) {
                reportStop(new PrintWriter(System.err, true));
            }
        }, "layerscope-signal-report"));
        int status;
        try {
            status = commandLine().execute(args);
        } finally {
            // an error no handler caught ends main too: no signal stopped the command
            finished = true;
        }
        if (status != 0) {
            quietAfterFailure();
        } else if (!verboseRun && !insideYarnApplicationMaster(System.getProperties())) {
            StandardError.quietSparkWarnings();
        }
        // an early failure may come while the model preload is still inside libtorch's initialisers
        NativeLibrary.awaitLoad(Duration.ofSeconds(60));
        if (insideYarnApplicationMaster(System.getProperties())) {
            if (status != 0) {
                throw new DriverFailed(status, System.getProperty("spark.yarn.app.id"));
            }
            return;
        }
        System.exit(status);
    }

    /**
     * In YARN's cluster deploy mode this main runs on a thread of Spark's ApplicationMaster, which
     * reports the application's final status when main returns (succeeded) or throws (failed). An exit
     * there reads as a failure ("Shutdown hook called before final status was reported") whatever its
     * status, and YARN would run the whole job again. The ApplicationMaster says where it is by these
     * system properties, which it sets before starting main.
     */
    static boolean insideYarnApplicationMaster(java.util.Properties system) {
        return "yarn".equals(system.getProperty("spark.master"))
                && "cluster".equals(system.getProperty("spark.submit.deployMode"))
                && system.getProperty("spark.yarn.app.id") != null;
    }

    /** How a failed command ends main inside YARN's ApplicationMaster, which shows this message. */
    static final class DriverFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DriverFailed(int status, String applicationId) {
            super("layerscope ended with status " + status + "; its error is in the driver's log: yarn logs -applicationId "
                    + applicationId + " (the stderr of the ApplicationMaster's container)", null, false, false);
        }
    }

    /**
     * The failure's paragraph is said: it stays the last thing on standard error. A job stopped
     * mid-flight (a task out of heap, say) leaves Spark's threads finishing work while the JVM exits,
     * and Scala's futures print the stack trace of every callback a stopped pool refuses straight to
     * System.err, past any log filter.
     */
    static void quietAfterFailure() {
        // inside YARN's ApplicationMaster the log is where the user is sent to read the failure: kept on
        StandardError.silence(verboseRun || insideYarnApplicationMaster(System.getProperties()));
    }

    /** The one line that says a signal stopped the command, printed by whoever sees it first; then quiet. */
    private static void reportStop(PrintWriter err) {
        if (STOP_REPORTED.compareAndSet(false, true)) {
            // an output being moved into place is waited for, and what is in place is said: meanwhile the
            // command's thread may have failed and silenced standard error, so the line goes past that
            PrintWriter last = StandardError.lastWord(err);
            last.println(io.layerscope.KeptOutputs.stopLine(Duration.ofSeconds(30)));
            last.flush();
            if (!verboseRun) {   // --verbose prints the stack trace after it
                quietAfterFailure();
            }
        }
    }

    /** The root command with its subcommands and error handling, ready to {@code execute(args)}. */
    public static CommandLine commandLine() {
        return commandLine(System.getenv());
    }

    /** The root command reading Hugging Face settings from {@code env} instead of the process environment. */
    public static CommandLine commandLine(Map<String, String> env) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ModelOptions.class ? cls.cast(new ModelOptions(env)) : defaults.create(cls);
            }
        };
        CommandLine cl = new CommandLine(new Main(), factory);
        // usage and error lines name the command as the user typed it (submit.sh says how it was run)
        String prog = env.get("LAYERSCOPE_PROG");
        if (prog != null && !prog.isBlank()) {
            cl.setCommandName(prog);
        }
        // help fits the terminal (80 columns when there is none); long lines wrap at word boundaries
        cl.setUsageHelpAutoWidth(true);
        HelpWrapping.install(cl);   // at spaces only: never inside a regex, a file name or a model id
        cl.registerConverter(java.nio.file.Path.class, new LocalPathConverter());
        cl.setParameterExceptionHandler(Main::badParameters);
        cl.setExecutionExceptionHandler(Main::failed);
        // An OutOfMemoryError is no Exception: picocli would let it end the command's thread with a
        // stack trace. The driver's heap running out becomes a user error that says what to raise.
        cl.setExecutionStrategy(parsed -> {
            io.layerscope.KeptOutputs.begin();   // an earlier command's outputs on this thread are not this one's
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (OutOfMemoryError e) {
                String command = "the " + lastCommand(parsed) + " command";
                if (HeapExhaustion.isHeap(e)) {
                    throw new CommandLine.ExecutionException(cl, e.toString(), HeapExhaustion.onDriver(e, command));
                }
                if (DriverLimits.isArraySize(e)) {
                    throw new CommandLine.ExecutionException(cl, e.toString(), DriverLimits.arrayTooLarge(e, command));
                }
                throw e;   // metaspace, direct buffers, threads: unexpected
            } catch (StackOverflowError e) {
                if (!"query".equals(lastCommand(parsed))) {
                    throw e;   // no input of the other commands nests: a bug, told as unexpected
                }
                throw new CommandLine.ExecutionException(cl, e.toString(), DriverLimits.stackOverflow(e, "the query command"));
            }
        });
        return cl;
    }

    /** The subcommand the user ran (the deepest one matched). */
    private static String lastCommand(ParseResult parsed) {
        ParseResult p = parsed;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p.commandSpec().name();
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: one of " + visibleCommands(spec.commandLine()));
    }

    /** The commands help lists (not hidden ones), comma-separated. */
    private static String visibleCommands(CommandLine root) {
        return String.join(", ", root.getSubcommands().entrySet().stream()
                .filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
                .map(Map.Entry::getKey).toList());
    }

    /** Writes {@code message} to standard error when {@code --verbose} was given. */
    static void log(CommandSpec command, String message) {
        if (isVerbose(command.root().commandLine().getParseResult())) {
            command.commandLine().getErr().println(message);
            command.commandLine().getErr().flush();
        }
    }

    private static int badParameters(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        List<String> unmatched = cmd.getUnmatchedArguments();
        // (a subcommand's: the root's first unmatched word is a mistyped command, told as one below)
        if ((e instanceof CommandLine.MissingParameterException || e instanceof CommandLine.UnmatchedArgumentException)
                && !unmatched.isEmpty() && cmd.getParent() != null) {
            // a typo in a required option (--outt) makes it missing: the typo is the news, with its suggestion;
            // and the value after an unknown option is no option of its own ('--sparsty', '0.6')
            List<String> options = unmatched.stream().filter(a -> a.startsWith("-")).toList();
            e = new CommandLine.UnmatchedArgumentException(cmd, options.isEmpty() ? unmatched : options);
        }
        PrintWriter err = cmd.getErr();
        ParameterException told = e;
        err.println("error: " + oneParagraph(unknownCommand(told).or(() -> modelAsWord(told)).orElse(told.getMessage())));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        if (cmd.getCommandName().equals("query") && unmatched.stream().anyMatch(a -> a.matches("(?s)--\\s.*"))) {
            // "$(cat q.sql)" of a file that starts with a comment: no option has a space in its name
            err.println("SQL that begins with a comment (--) reads as an option: put -- before it"
                    + " (query --results DIR -- \"SQL\"), or give the file with -f FILE.");
        }
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return EXIT_BAD_INPUT;
    }

    /** Spark's job failures that are a setting or set-up of the user's, each told as what to change (or null). */
    private static final java.util.List<java.util.function.Function<Throwable, LayerscopeException>> SPARK_FAILURES_TOLD =
            java.util.List.of(ResultSizeLimit::explain, MissingExecutorJar::explain, ContainerMemoryLimit::explain,
                    ScratchDiskFull::explain);

    private static int failed(Exception e, CommandLine cmd, ParseResult parsed) {
        if (e instanceof ParameterException p) {
            return badParameters(p, parsed.originalArgs().toArray(new String[0]));
        }
        PrintWriter err = cmd.getErr();
        boolean verbose = isVerbose(parsed);
        if (shuttingDown()) {
            // Ctrl-C: Spark's shutdown hook stopped the context under the running job, whatever the job then said
            reportStop(err);
            if (verbose) {
                printTrace(e, err);
            }
            return EXIT_FAILURE;
        }
        int status;
        LayerscopeException userError = userError(e);
        if (userError == null) {
            userError = driverHeap(e, parsed);
        }
        for (var explain : SPARK_FAILURES_TOLD) {
            if (userError == null) {
                userError = explain.apply(e);
            }
        }
        if (userError != null) {
            err.println("error: " + oneParagraph(userError.getMessage()));
            status = EXIT_BAD_INPUT;
        } else {
            err.println("error: unexpected " + e.getClass().getName() + (e.getMessage() == null ? "" : ": "
                    + oneParagraph(withoutStackTrace(e.getMessage()))) + (verbose ? "" : " (run with --verbose for the stack trace)"));
            status = EXIT_FAILURE;
        }
        List<String> unchanged = io.layerscope.KeptOutputs.unchanged();
        if (!unchanged.isEmpty()) {
            // --overwrite replaces only with a complete run: the user need not wonder whether the old went too
            err.println("note: " + String.join("; ", unchanged));
        }
        if (verbose) {
            printTrace(e, err);
        }
        err.flush();
        return status;
    }

    private static void printTrace(Exception e, PrintWriter err) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        err.print(Redaction.userInfo(trace.toString())); // causes from java.net may quote a URL
        err.flush();
    }

    /** picocli calls a mistyped command "Unmatched arguments from index 0"; say what it is and list the commands. */
    private static java.util.Optional<String> unknownCommand(ParameterException e) {
        if (e instanceof CommandLine.UnmatchedArgumentException u && e.getCommandLine().getParent() == null
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            return java.util.Optional.of("unknown command '" + u.getUnmatched().get(0) + "'; the commands are "
                    + visibleCommands(e.getCommandLine()));
        }
        return java.util.Optional.empty();
    }

    /** {@code sweep demo}: a command that takes --model and no positional words was given the model as one. */
    private static java.util.Optional<String> modelAsWord(ParameterException e) {
        CommandLine cmd = e.getCommandLine();
        if (e instanceof CommandLine.UnmatchedArgumentException u && cmd.getParent() != null
                && cmd.getCommandSpec().findOption("--model") != null && cmd.getCommandSpec().positionalParameters().isEmpty()
                && u.getUnmatched().size() == 1 && !u.getUnmatched().get(0).startsWith("-")) {
            String word = u.getUnmatched().get(0);
            return java.util.Optional.of(cmd.getCommandName() + " takes no positional arguments, but was given '" + word
                    + "'; a model is named with --model, e.g. --model " + (word.contains(" ") ? "'" + word + "'" : word));
        }
        return java.util.Optional.empty();
    }

    /** True once the JVM has begun to shut down (SIGINT, SIGTERM): no hook can be added then. */
    private static boolean shuttingDown() {
        return io.layerscope.Shutdown.inProgress();
    }

    /** A user error, also when Spark wrapped it (a task that failed on an executor). */
    private static LayerscopeException userError(Throwable e) {
        return io.layerscope.Failures.cause(e, LayerscopeException.class);
    }

    /**
     * The driver's heap running out in a thread of the command's (a results writer), which reaches
     * here as the cause of that thread's failure, as the user error that names --driver-memory.
     */
    private static LayerscopeException driverHeap(Throwable e, ParseResult parsed) {
        for (Throwable t : io.layerscope.Failures.causes(e)) {
            if (t instanceof OutOfMemoryError oom && HeapExhaustion.isHeap(oom)) {
                return HeapExhaustion.onDriver(oom, "the " + lastCommand(parsed) + " command");
            }
        }
        return null;
    }

    /**
     * Whether {@code option} was given on the command line of {@code command}, not left at its default
     * (false for options made by hand, without a command).
     */
    static boolean given(CommandSpec command, String option) {
        return command != null && command.commandLine().getParseResult() != null
                && command.commandLine().getParseResult().hasMatchedOption(option);
    }

    private static boolean isVerbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The message up to the first stack-trace line: Spark puts the failed task's whole stack trace
     * (and the driver's) into a job failure's message; --verbose prints them properly.
     */
    static String withoutStackTrace(String message) {
        StringBuilder kept = new StringBuilder();
        for (String line : message.split("\\R")) {
            if (line.matches("\\s+at .*|\\s*\\.\\.\\. \\d+ more|Caused by: .*|Driver stacktrace:.*")) {
                break;
            }
            kept.append(line).append('\n');
        }
        return kept.toString();
    }

    /** One line, with any password in a URL (HF_ENDPOINT=http://user:pass@host) as ***. */
    static String oneParagraph(String message) {
        return message == null ? "" : Redaction.userInfo(message.replaceAll("\\s*\\R\\s*", " ").trim());
    }

    /** The version from the jar manifest (Implementation-Version, set by the build), or "(development build)" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"layerscope " + (v == null ? "(development build)" : v)};
        }
    }
}
