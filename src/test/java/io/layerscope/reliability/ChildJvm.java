package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * Starts JVMs on this machine with the test's own classpath ({@code target/classes}, test classes and
 * every dependency from the Maven repository: the shaded jar is built only after the tests), the
 * Java 17 module flags Spark needs, and the environment layerscope expects (loopback address, DJL
 * offline, libgomp passive waiting). Output goes to a file, so a chatty child never blocks on a
 * full pipe.
 *
 * <pre>{@code
 * Process p = ChildJvm.start(List.of("-Xmx1g"), "io.layerscope.cli.Main", List.of("--help"), Map.of(), log);
 * }</pre>
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /** The test JVM's classpath (Surefire sets java.class.path to the real test classpath). */
    static String classpath() {
        return System.getProperty("java.class.path");
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Module flags, headless, DJL offline: what submit.sh and Surefire's argLine give a JVM (Spark's own log setup). */
    static List<String> standardFlags() {
        List<String> flags = new ArrayList<>(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        flags.add("-Djava.awt.headless=true");
        flags.add("-Dai.djl.offline=true");
        flags.add("-Dai.djl.pytorch.num_interop_threads=1");
        return flags;
    }

    /** layerscope's logging (conf/log4j2.properties: warnings and progress on stderr), as submit.sh sets it. */
    static String layerscopeLogging() {
        return "-Dlog4j2.configurationFile=" + repo().resolve("conf/log4j2.properties");
    }

    /** The repository root (Surefire passes it as layerscope.repo; an IDE runs from it). */
    static Path repo() {
        return Path.of(System.getProperty("layerscope.repo", ".")).toAbsolutePath().normalize();
    }

    static ProcessBuilder builder(List<String> jvmFlags, String mainClass, List<String> args, Map<String, String> env,
                                  Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(standardFlags());
        cmd.addAll(jvmFlags);
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putAll(env);
        return pb;
    }

    static Process start(List<String> jvmFlags, String mainClass, List<String> args, Map<String, String> env, Path log)
            throws IOException {
        return builder(jvmFlags, mainClass, args, env, log).start();
    }

    /** Sends a signal (INT, KILL, TERM) to a process by pid, as a shell's kill would. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed");
        }
    }

    /**
     * Waits for {@code p} to exit, failing the test after {@code seconds}; either way ends it and its
     * descendants, so none outlives the test.
     */
    static void awaitExit(Process p, int seconds, String what) throws InterruptedException {
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS),
                    what + " did not exit within " + seconds + " s");
        } finally {
            stop(p.toHandle(), 5_000);
        }
    }

    /**
     * {@link #awaitExit(Process, int, String)} for a JVM whose output goes to {@code log}: one that
     * hangs is asked for its threads' stacks (SIGQUIT, into its output) and the failure quotes the
     * log's end, so a hang seen once on CI can be read.
     */
    static void awaitExit(Process p, int seconds, String what, Path log) throws InterruptedException {
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                String tail = "";
                try {
                    signal(p.pid(), "QUIT");
                    Thread.sleep(2_000);
                    List<String> lines = java.nio.file.Files.readAllLines(log);
                    tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 400), lines.size()));
                } catch (java.io.IOException e) {
                    tail = "(its output could not be read: " + e + ")";
                }
                System.err.println(what + " did not exit within " + seconds + " s; the end of its output:\n" + tail);
                org.junit.jupiter.api.Assertions.fail(what + " did not exit within " + seconds + " s; the end of its"
                        + " output, with its threads:\n" + tail);
            }
        } finally {
            stop(p.toHandle(), 5_000);
        }
    }

    /** Ends a process and its descendants: TERM, then KILL after the grace period. */
    static void stop(ProcessHandle p, long graceMillis) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p);
        all.forEach(ProcessHandle::destroy);
        long deadline = System.currentTimeMillis() + graceMillis;
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(Math.max(1, deadline - System.currentTimeMillis()), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (Exception timedOut) {
                h.destroyForcibly();
            }
        }
    }
}
