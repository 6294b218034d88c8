package io.layerscope.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Standard error that falls silent once the command's last word (its error paragraph, or the line
 * saying a signal stopped it) is said. A stopped job leaves Spark's threads logging while the JVM
 * exits (a lost block, a refused task, the context's stop), the progress reporter may print once
 * more, and Scala's futures print refused callbacks straight to System.err: each of these holds the
 * stream it found, so the stream itself goes quiet, and so do the loggers (whose console appender
 * took the stream before the command started).
 */
final class StandardError {
    private static volatile boolean silent;
    /** Standard error as it was before {@link #install}, which silence does not reach; null before. */
    private static volatile PrintStream original;

    private StandardError() {
    }

    /** Puts the silenceable stream in place of System.err; once, before anything takes the stream. */
    static synchronized void install() {
        if (System.err instanceof Quiet) {
            return;
        }
        original = System.err;
        System.setErr(new Quiet(System.err));
    }

    /**
     * Where the last word goes: standard error past the silence (another thread may have silenced it
     * first, say the command's own after its failure), or {@code otherwise} where none was installed.
     */
    static PrintWriter lastWord(PrintWriter otherwise) {
        PrintStream o = original;
        return o == null ? otherwise : new PrintWriter(o, true);
    }

    /**
     * From now on nothing reaches standard error through System.err, and nothing is logged (unless
     * {@code keepLogs}: --verbose asks for Spark's account of the stop too).
     */
    static void silence(boolean keepLogs) {
        System.err.flush();
        silent = true;
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        if (!keepLogs && LogManager.getContext(false) instanceof LoggerContext) {
            Configurator.setAllLevels(LogManager.ROOT_LOGGER_NAME, Level.OFF);
        }
    }

    /**
     * After a command that succeeded: Spark's warnings as it tears down (an executor's message dropped
     * once its RPC has stopped) would follow the command's last line; its errors still show, and so does
     * layerscope's own late word (a replaced directory it could not delete), which is not logged.
     */
    static void quietSparkWarnings() {
        if (LogManager.getContext(false) instanceof LoggerContext) {
            Configurator.setLevel("org.apache.spark", Level.ERROR);
        }
    }

    private static final class Quiet extends PrintStream {
        Quiet(PrintStream original) {
            super(new FilterOutputStream(original) {
                @Override
                public void write(int b) throws IOException {
                    if (!silent) {
                        out.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (!silent) {
                        out.write(b, off, len);
                    }
                }
            }, true);
        }
    }
}
