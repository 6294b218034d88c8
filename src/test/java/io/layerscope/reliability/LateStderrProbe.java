package io.layerscope.reliability;

import io.layerscope.cli.Main;

/**
 * Child-JVM side of {@link QuietExitIT}: runs the command line's {@code main} on the given
 * arguments, with a shutdown hook that prints a stack trace to System.err as the JVM exits, as
 * Scala's futures do for every callback a stopped Spark pool refuses, and logs an error as Spark does.
 */
public final class LateStderrProbe {
    private LateStderrProbe() {
    }

    public static void main(String[] args) {
        // as under submit.sh, where Spark's launcher logs before layerscope's main: the console appender
        // takes the standard error of that moment, which only switching the loggers off silences
        org.apache.logging.log4j.LogManager.getLogger(LateStderrProbe.class).debug("logging set up before main");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            new IllegalStateException("late teardown noise").printStackTrace();
            // and as Spark's threads log while a stopped job's JVM exits (the console appender took
            // standard error before main ran)
            org.apache.logging.log4j.LogManager.getLogger("org.apache.spark.storage.BlockManager").error("late log noise");
        }, "late-noise"));
        Main.main(args);
    }
}
