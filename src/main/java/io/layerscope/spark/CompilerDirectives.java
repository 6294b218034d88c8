package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Keeps HotSpot's optimising compiler (C2) for layerscope's own hot loops: the statistics, weight
 * reading and hashing, pruning masks and block ratios, whose cost grows with the model, and the loops
 * over a picture's pixels ({@code compiler-directives.json} beside this class); everything else in
 * the JVM (Spark, Java2D and JFreeChart, Parquet, Jackson, the calibration reader, and any other code
 * on a shared executor) stays with C1. C2 compiling all of that took CPU-seconds from a
 * Llama-3.2-1B-shaped sweep on 2 cores, and paired sweeps with the directives were faster
 * (docs/PERFORMANCE.md, compiler directives). It is a JVM-wide side effect, so {@code LAYERSCOPE_JIT=all}
 * leaves the JIT as the JVM has it.
 *
 * <p>The directives are added at run time through the JVM's diagnostic command MBean (what
 * {@code jcmd PID Compiler.directives_add} does), so every JVM that runs a job, driver or executor,
 * gets them without JVM flags. The setting is the environment's {@code LAYERSCOPE_JIT} or the system
 * property {@code layerscope.jit}: {@code directives} (or unset) adds them, {@code all} leaves the
 * JIT alone. A JVM without the MBean (not HotSpot) keeps its own JIT.
 */
final class CompilerDirectives {
    static final String RESOURCE = "compiler-directives.json";
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final CompletableFuture<Boolean> IN_FORCE = new CompletableFuture<>();
    /** Held while the temporary copy of the directives exists; guards the two flags below. */
    private static final Object FILE = new Object();
    private static boolean exitHookInstalled;
    private static boolean exiting;

    private CompilerDirectives() {
    }

    /**
     * {@link #addOnce()} on a background thread: the JVM's MBean server is slow to start, which should
     * not hold up the job. A bad setting is reported here, on the caller's thread.
     */
    static void addOnceInBackground() {
        // once started, nothing to check or start: this runs for every task
        if (!STARTED.get() && wanted(setting()) && STARTED.compareAndSet(false, true)) {
            Thread t = new Thread(CompilerDirectives::addAndRecord, "layerscope-compiler-directives");
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Adds the directives once per JVM if the setting asks for them (a caller that comes while another
     * adds them waits for it); true if they are in force.
     */
    static boolean addOnce() {
        if (!STARTED.get() && !wanted(setting())) {
            return false;
        }
        if (STARTED.compareAndSet(false, true)) {
            addAndRecord();
        }
        return IN_FORCE.join();
    }

    /** Adds them (by the one caller that set STARTED) and tells waiting callers whether they are in force. */
    private static void addAndRecord() {
        boolean added = false;
        try {
            added = add();
        } finally {
            IN_FORCE.complete(added);
        }
    }

    private static String setting() {
        return System.getProperty("layerscope.jit", System.getenv("LAYERSCOPE_JIT"));
    }

    /**
     * The setting: unset, blank or "directives" (or "kernels", its former name) adds the directives
     * (the default); "all" leaves the JIT alone.
     */
    static boolean wanted(String setting) {
        if (setting == null || setting.isBlank() || setting.equals("directives") || setting.equals("kernels")) {
            return true;
        }
        if (setting.equals("all")) {
            return false;
        }
        throw new LayerscopeException("LAYERSCOPE_JIT (or -Dlayerscope.jit) is '" + setting
                + "'; use 'directives' (C2 only for layerscope's own hot loops, the default) or 'all' (the JVM's JIT"
                + " unchanged)");
    }

    private static boolean add() {
        byte[] directives;
        MBeanServer server;
        ObjectName command;
        try (InputStream in = CompilerDirectives.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            directives = in.readAllBytes();
            // The slow part: before any file exists, so that an exit meanwhile leaves none.
            server = ManagementFactory.getPlatformMBeanServer();
            command = new ObjectName("com.sun.management:type=DiagnosticCommand");
        } catch (JMException | IOException e) {
            return false;   // not HotSpot: the JVM's own JIT stays, only slower
        }
        // The diagnostic command reads a file: a private temporary copy that exists only while FILE is
        // held. The exit hook takes FILE too, so an early failure (System.exit while this daemon thread
        // runs) either finds the copy deleted or keeps it from ever being created.
        synchronized (FILE) {
            if (!exitHookInstalled) {
                try {
                    Runtime.getRuntime().addShutdownHook(new Thread(CompilerDirectives::exiting,
                            "layerscope-compiler-directives-exit"));
                    exitHookInstalled = true;
                } catch (IllegalStateException shutdownInProgress) {
                    return false;
                }
            }
            if (exiting) {
                return false;
            }
            Path file = null;
            try {
                file = Files.createTempFile("layerscope-compiler-directives", ".json");
                Files.write(file, directives);
                Object reply = server.invoke(command, "compilerDirectivesAdd",
                        new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
                return String.valueOf(reply).contains("compiler directives added");
            } catch (JMException | IOException e) {
                return false;   // no temporary file (full or read-only): the JVM's own JIT stays, only slower
            } finally {
                if (file != null) {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException ignored) {
                        // a 1 KB file in the temporary directory
                    }
                }
            }
        }
    }

    /** The exit hook: waits for a copy being read to be deleted, and stops any from being created. */
    private static void exiting() {
        synchronized (FILE) {
            exiting = true;
        }
    }
}
