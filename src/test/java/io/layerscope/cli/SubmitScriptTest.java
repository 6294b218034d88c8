package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.spark.HugePageAllocation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.deploy.SparkSubmitArguments;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The command line submit.sh gives a Spark distribution's spark-submit. The script runs from a copy
 * of the repository's launch files (with an up-to-date jar stand-in, so it builds nothing) against a
 * SPARK_HOME whose bin/spark-submit only records its arguments; then Spark's own argument parser
 * reads such a command line, to show what --load-spark-defaults makes of the cluster's defaults.
 * Without a distribution, a stand-in {@code java} records the JVM's command line instead.
 */
class SubmitScriptTest {
    @TempDir
    Path tmp;

    Path repo;
    Path sparkHome;

    /** Variables of the machine running the tests that submit.sh reads: each test sets its own. */
    private static final List<String> UNSET = List.of("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME",
            "XDG_CACHE_HOME", "SPARK_CONF_DIR", "SPARK_SUBMIT_OPTS");

    @BeforeEach
    void launchFiles() throws IOException {
        Path source = Path.of(System.getProperty("layerscope.repo", ".")).toAbsolutePath().normalize();
        repo = Files.createDirectories(tmp.resolve("repo"));
        for (String f : List.of("submit.sh", "conf/spark-defaults.conf", "conf/log4j2.properties",
                "conf/log4j2-submit-client.properties", "conf/gpu/spark-gpu.conf", "conf/gpu/discover-gpus.sh",
                "scripts/build-mkl-shim.sh")) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.copy(source.resolve(f), repo.resolve(f));
        }
        Files.createDirectories(repo.resolve("src/main"));
        Files.writeString(repo.resolve("pom.xml"), "");
        FileTime older = FileTime.from(Instant.now().minus(1, ChronoUnit.HOURS));
        Files.setLastModifiedTime(repo.resolve("src/main"), older);
        Files.setLastModifiedTime(repo.resolve("pom.xml"), older);
        Files.createDirectories(repo.resolve("target"));
        Files.writeString(repo.resolve("target/layerscope-cluster.jar"), "");

        sparkHome = tmp.resolve("spark");
        Path submit = Files.createDirectories(sparkHome.resolve("bin")).resolve("spark-submit");
        // FAKE_STDERR: a line Spark's client would print (standalone's cluster deploy mode)
        Files.writeString(submit, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/../arguments\"\n"
                + "printf '%s' \"${SPARK_SUBMIT_OPTS:-}\" > \"$(dirname \"$0\")/../submit-opts\"\n"
                + "printf '%s' \"${LAYERSCOPE_PROG:-}\" > \"$(dirname \"$0\")/../prog\"\n"
                + "if [ -n \"${FAKE_STDERR:-}\" ]; then printf '%s\\n' \"$FAKE_STDERR\" >&2; fi\n"
                + "if [ -n \"${FAKE_STDERR_FILE:-}\" ]; then cat \"$FAKE_STDERR_FILE\" >&2; fi\n"
                // FAKE_SLEEP: a client waiting for its driver, which says when a TERM reaches it
                + "if [ -n \"${FAKE_SLEEP:-}\" ]; then\n"
                + "  trap 'kill $!; echo TERM > \"$(dirname \"$0\")/../got-term\"; exit 143' TERM\n"
                + "  echo waiting >&2; sleep \"$FAKE_SLEEP\" & wait\nfi\n"
                // FAKE_EXIT: the client's status (YARN's fails for a failed application)
                + "exit \"${FAKE_EXIT:-0}\"\n");
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs submit.sh in the copy; returns the arguments spark-submit received. */
    List<String> submit(String... args) throws IOException, InterruptedException {
        return submit(Map.of(), args);
    }

    /** As {@link #submit(String...)}, with {@code env} added to the script's environment. */
    List<String> submit(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Finished f = run(env, args);
        assertEquals(0, f.status(), f.output());
        return Files.readAllLines(sparkHome.resolve("arguments"));
    }

    /** Runs submit.sh in the copy with a Spark distribution and {@code env} added; how it ended. */
    Finished run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("submit.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("PATH", "/usr/bin:/bin"); // no other spark-submit
        pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
        pb.environment().remove("LAYERSCOPE_EXECUTOR_JAR");
        pb.environment().remove("FAKE_STDERR");
        pb.environment().remove("FAKE_EXIT");
        pb.environment().remove("FAKE_STDERR_FILE");
        UNSET.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return new Finished(p.exitValue(), out);
    }

    String driverOptions() {
        return "-Dai.djl.offline=true -Djava.awt.headless=true -Dlog4j2.configurationFile=" + repo
                + "/conf/log4j2.properties -XX:+UseParallelGC" + hugePages();
    }

    /**
     * Runs submit.sh in the copy without a Spark distribution, with a {@code java} on the PATH that
     * records its arguments and standard input and, asked to record a class-data archive, writes one;
     * returns the arguments.
     */
    List<String> submitWithoutDistribution(String stdin, String... args) throws IOException, InterruptedException {
        return submitWithoutDistribution(Map.of(), stdin, args);
    }

    List<String> submitWithoutDistribution(Map<String, String> env, String stdin, String... args)
            throws IOException, InterruptedException {
        Finished f = runWithoutDistribution(env, stdin, args);
        assertEquals(0, f.status(), f.output());
        return Files.readAllLines(tmp.resolve("bin/arguments"));
    }

    /** How submit.sh ended: its exit status and its standard output and error together. */
    record Finished(int status, String output) {
    }

    Finished runWithoutDistribution(Map<String, String> env, String stdin, String... args)
            throws IOException, InterruptedException {
        Process p = startWithoutDistribution(env, args);
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return new Finished(p.exitValue(), out);
    }

    /** Starts submit.sh without a Spark distribution: its JVM is a script that records its arguments. */
    Process startWithoutDistribution(Map<String, String> env, String... args) throws IOException {
        if (!Files.exists(repo.resolve("target/layerscope.jar"))) {
            Files.writeString(repo.resolve("target/layerscope.jar"), "");   // an archive newer than it stays valid
        }
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, """
                #!/bin/sh
                printf '%s\\n' "$@" > "$(dirname "$0")/arguments"
                printf '%s\\n' "${THP_MEM_ALLOC_ENABLE-unset}" > "$(dirname "$0")/thp"
                if [ -n "${FAKE_STDERR:-}" ]; then printf '%s\\n' "$FAKE_STDERR" >&2; fi
                cat > "$(dirname "$0")/stdin"
                for a in "$@"; do
                  case "$a" in -XX:ArchiveClassesAtExit=*) echo archive > "${a#*=}" ;; esac
                done
                # FAKE_SLEEP: a job under way, which says when a TERM reaches it (and exits as a JVM does)
                if [ -n "${FAKE_SLEEP:-}" ]; then
                  trap 'kill $!; echo TERM > "$(dirname "$0")/got-term"; exit 143' TERM
                  echo waiting >&2; sleep "$FAKE_SLEEP" & wait
                fi
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("submit.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
        pb.environment().remove("LAYERSCOPE_CDS");
        pb.environment().remove("LAYERSCOPE_QUERY_TUNING");
        UNSET.forEach(pb.environment()::remove);
        pb.environment().remove("LAYERSCOPE_VECTOR_TUNING");
        pb.environment().remove("LAYERSCOPE_HEAP_HUGE_PAGES");
        pb.environment().remove("LAYERSCOPE_FREE_PAGE_REPORTING");
        pb.environment().remove("LAYERSCOPE_YOUNG_CAP");
        pb.environment().remove("THP_MEM_ALLOC_ENABLE");
        pb.environment().remove("LAYERSCOPE_EXECUTOR_JAR");
        pb.environment().putAll(env);
        return pb.start();
    }

    @Test
    void aSignalWhileTheClassArchiveIsRecordedEndsTheJobAsItWouldHaveEnded() throws Exception {
        // the first job after a build runs its JVM as a child (the archive is moved afterwards): Ctrl-C
        // reaches it as TERM, and the script exits as an interrupted JVM does, 130; TERM stays 143
        for (String signal : List.of("INT", "TERM")) {
            Files.deleteIfExists(tmp.resolve("bin/got-term"));
            Files.deleteIfExists(repo.resolve("target/layerscope.jsa"));
            Process p = startWithoutDistribution(Map.of("FAKE_SLEEP", "60"), "sweep", "--model", "demo", "--out", "/r/x");
            p.getOutputStream().close();
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("layerscope: recording a class-data archive for faster starts (once per build)", out.readLine());
            assertEquals("waiting", out.readLine(), "the job started");
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "submit.sh ended after its job did");
            assertEquals("TERM\n", Files.readString(tmp.resolve("bin/got-term")), signal);
            assertEquals(signal.equals("INT") ? 130 : 143, p.exitValue(), signal);
            assertFalse(Files.exists(repo.resolve("target/layerscope.jsa")), "an interrupted run's archive is not kept");
            try (var left = Files.list(repo.resolve("target"))) {
                assertEquals(List.of(), left.filter(f -> f.getFileName().toString().contains(".jsa.")).toList());
            }
        }
    }

    @Test
    void anArchiveLeftHalfRecordedByAKilledRunGoesOnceItsProcessHasEnded() throws Exception {
        Path dead = repo.resolve("target/layerscope.jsa.999999999.tmp");   // above any pid the kernel gives
        Path live = repo.resolve("target/layerscope-query.jsa." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(dead, "half");
        Files.writeString(live, "being recorded");
        submitWithoutDistribution("", "sweep", "--model", "demo", "--out", "/results/demo");
        assertFalse(Files.exists(dead));
        assertEquals("being recorded", Files.readString(live));
        Files.delete(live);
    }

    @Test
    void queryStartsAJvmTunedForStartingAndMapsItsOwnClassArchive() throws Exception {
        String[] query = {"query", "--results", "/results/demo", "SELECT 1"};
        List<String> first = submitWithoutDistribution("", query);
        assertTrue(String.join(" ", first).contains("-XX:+UseParallelGC" + hugePages() + " " + queryFlags() + " "),
                first.toString());
        // the first query after a build records the archive, kept under the query's own name
        assertEquals(1, first.stream().filter(a -> a.startsWith("-XX:ArchiveClassesAtExit=" + repo
                + "/target/layerscope-query.jsa.")).count(), first.toString());
        assertEquals(List.of("archive"), Files.readAllLines(repo.resolve("target/layerscope-query.jsa")));

        List<String> later = submitWithoutDistribution("", query);
        assertTrue(later.containsAll(List.of("-XX:TieredStopAtLevel=1", "-XX:SharedArchiveFile=" + repo
                + "/target/layerscope-query.jsa")), later.toString());
        assertEquals(List.of("spark-internal", "query", "--results", "/results/demo", "SELECT 1"),
                later.subList(later.size() - 5, later.size()));

        // a sweep keeps the JIT as it is, and records its own archive
        List<String> sweep = submitWithoutDistribution("", "sweep", "--model", "demo", "--out", "/results/demo");
        assertTrue(sweep.contains("-XX:+UseParallelGC"), sweep.toString());
        assertFalse(sweep.contains("-XX:TieredStopAtLevel=1"), sweep.toString());
        assertEquals(!hugePages().isEmpty(), sweep.contains("-XX:+UseTransparentHugePages"), sweep.toString());
        assertEquals(1, sweep.stream().filter(a -> a.startsWith("-XX:ArchiveClassesAtExit=" + repo
                + "/target/layerscope.jsa.")).count(), sweep.toString());
        // 256-bit vectors where the CPU has 512-bit ones, unless switched off; never for query
        assertEquals(avx512(), sweep.contains("-XX:MaxVectorSize=32"), sweep.toString());
        assertFalse(first.contains("-XX:MaxVectorSize=32"), first.toString());
        List<String> wide = submitWithoutDistribution(Map.of("LAYERSCOPE_VECTOR_TUNING", "off"), "", "sweep", "--model",
                "demo", "--out", "/results/demo");
        assertFalse(wide.contains("-XX:MaxVectorSize=32"), wide.toString());
        // the heap's huge pages, switched off or on for every command (on: wherever the kernel gives
        // them on request, a balloon reporting free pages or not); auto is the default's rule
        for (String[] command : List.of(query, new String[] {"sweep", "--model", "demo", "--out", "/results/demo"})) {
            List<String> small = submitWithoutDistribution(Map.of("LAYERSCOPE_HEAP_HUGE_PAGES", "off"), "", command);
            assertFalse(small.contains("-XX:+UseTransparentHugePages"), small.toString());
            assertTrue(small.contains("-XX:+UseParallelGC"), small.toString());
            List<String> huge = submitWithoutDistribution(Map.of("LAYERSCOPE_HEAP_HUGE_PAGES", "on"), "", command);
            assertEquals(hugePagesOnRequest(), huge.contains("-XX:+UseTransparentHugePages"), huge.toString());
            List<String> auto = submitWithoutDistribution(Map.of("LAYERSCOPE_HEAP_HUGE_PAGES", "auto"), "", command);
            assertEquals(!hugePages().isEmpty(), auto.contains("-XX:+UseTransparentHugePages"), auto.toString());
            // the machine said to report free pages or not, whatever sysfs shows
            List<String> reporting = submitWithoutDistribution(Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "yes"), "", command);
            assertFalse(reporting.contains("-XX:+UseTransparentHugePages"), reporting.toString());
            List<String> notReporting = submitWithoutDistribution(Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "no"), "", command);
            assertEquals(hugePagesOnRequest(), notReporting.contains("-XX:+UseTransparentHugePages"), notReporting.toString());
        }
        Files.deleteIfExists(tmp.resolve("bin/arguments"));
        Finished bad = runWithoutDistribution(Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "true"), "", query);
        assertEquals(2, bad.status(), bad.output());
        assertEquals("layerscope: LAYERSCOPE_FREE_PAGE_REPORTING is 'true', but it must be auto, yes or no.\n",
                bad.output());
        assertFalse(Files.exists(tmp.resolve("bin/arguments")));
        // spaces are not trimmed, as the driver (spark.FreePageReporting) does not trim them either
        Finished spaced = runWithoutDistribution(Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", " yes"), "", query);
        assertEquals(2, spaced.status(), spaced.output());
        assertEquals("layerscope: LAYERSCOPE_FREE_PAGE_REPORTING is ' yes', but it must be auto, yes or no.\n",
                spaced.output());
        assertFalse(Files.exists(tmp.resolve("bin/arguments")));

        // the switch: query with the other commands' flags, still with its own archive
        List<String> untuned = submitWithoutDistribution(Map.of("LAYERSCOPE_QUERY_TUNING", "off"), "", query);
        assertTrue(untuned.containsAll(List.of("-XX:+UseParallelGC", "-XX:SharedArchiveFile=" + repo
                + "/target/layerscope-query.jsa")), untuned.toString());
        assertFalse(untuned.contains("-XX:TieredStopAtLevel=1"), untuned.toString());
        assertEquals(!hugePages().isEmpty(), untuned.contains("-XX:+UseTransparentHugePages"), untuned.toString());
    }

    @Test
    void theQueryShellReadsStandardInputAlsoWhileTheArchiveIsRecorded() throws Exception {
        submitWithoutDistribution("SELECT 1;\n.quit\n", "query", "--results", "/results/demo");
        assertEquals("SELECT 1;\n.quit\n", Files.readString(tmp.resolve("bin/stdin")));
        assertTrue(Files.exists(repo.resolve("target/layerscope-query.jsa")));
    }

    /** The -Xmx options among a JVM's arguments. */
    static List<String> heaps(List<String> jvmArguments) {
        return jvmArguments.stream().filter(a -> a.startsWith("-Xmx")).toList();
    }

    /** The JVM's arguments for a demo sweep with {@code sparkOptions}. */
    List<String> sweepArguments(Map<String, String> env, String... sparkOptions) throws Exception {
        List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo", "--out", "/results/demo"));
        args.addAll(List.of(sparkOptions));
        return submitWithoutDistribution(env, "", args.toArray(new String[0]));
    }

    List<String> sweepHeaps(Map<String, String> env, String... sparkOptions) throws Exception {
        return heaps(sweepArguments(env, sparkOptions));
    }

    @Test
    void withoutADistributionTheDriverMemoryOptionsSizeThisJvmsHeap() throws Exception {
        assertEquals(List.of("-Xmx4g"), sweepHeaps(Map.of()));   // conf/spark-defaults.conf
        assertEquals(List.of("-Xmx6g"), sweepHeaps(Map.of(), "--driver-memory", "6g"));
        assertEquals(List.of("-Xmx3072m"), sweepHeaps(Map.of(), "--driver-memory=3072"));   // MiB, as Spark reads it
        assertEquals(List.of("-Xmx5g"), sweepHeaps(Map.of(), "--conf", "spark.driver.memory=5G"));
        assertEquals(List.of("-Xmx2g"), sweepHeaps(Map.of(), "--conf=spark.driver.memory=2gb"));
        // as in spark-submit, --driver-memory wins over the setting
        assertEquals(List.of("-Xmx6g"), sweepHeaps(Map.of(), "--conf", "spark.driver.memory=5g", "--driver-memory", "6g"));
        assertEquals(List.of("-Xmx2g"), sweepHeaps(Map.of("LAYERSCOPE_DRIVER_MEMORY", "2g")));
        assertEquals(List.of("-Xmx6g"), sweepHeaps(Map.of("LAYERSCOPE_DRIVER_MEMORY", "2g"), "--driver-memory", "6g"));
        // Spark still reads the option
        List<String> args = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-memory", "6g");
        assertEquals(List.of("--driver-memory", "6g", "spark-internal", "sweep", "--model", "demo"),
                args.subList(args.size() - 6, args.size()));
    }

    /** The options spark-submit received for the driver's JVM, one per element. */
    static List<String> driverJavaOptions(List<String> sparkSubmitArguments) {
        int at = sparkSubmitArguments.indexOf("--driver-java-options");
        return List.of(sparkSubmitArguments.get(at + 1).split(" "));
    }

    /** The young-generation options among a JVM's arguments. */
    static List<String> youngCaps(List<String> jvmArguments) {
        return jvmArguments.stream().filter(a -> a.startsWith("-XX:MaxNewSize") || a.startsWith("-Xmn")).toList();
    }

    List<String> sweepYoungCaps(Map<String, String> env, String... sparkOptions) throws Exception {
        return youngCaps(sweepArguments(env, sparkOptions));
    }

    /**
     * The young generation at most 256 MiB where the heap's default third would be more (heaps of
     * 768 MiB and up, in any of the size forms), the default below that, and none when switched off.
     */
    @Test
    void theJvmsYoungGenerationIsCappedWhereItsDefaultWouldBeLarger() throws Exception {
        assertEquals(List.of("-XX:MaxNewSize=256m"), sweepYoungCaps(Map.of()));   // 4g, conf/spark-defaults.conf
        assertEquals(List.of("-XX:MaxNewSize=256m"), sweepYoungCaps(Map.of(), "--driver-memory", "768"));
        assertEquals(List.of("-XX:MaxNewSize=256m"), sweepYoungCaps(Map.of(), "--driver-memory", "1g"));
        assertEquals(List.of("-XX:MaxNewSize=256m"), sweepYoungCaps(Map.of(), "--driver-memory", "1t"));
        assertEquals(List.of(), sweepYoungCaps(Map.of(), "--driver-memory", "767m"));
        assertEquals(List.of(), sweepYoungCaps(Map.of("LAYERSCOPE_DRIVER_MEMORY", "520m")));
        assertEquals(List.of(), sweepYoungCaps(Map.of("LAYERSCOPE_YOUNG_CAP", "off")));
        List<String> query = submitWithoutDistribution("", "query", "--results", "/results/demo", "SELECT 1");
        assertEquals(List.of("-XX:MaxNewSize=256m"), youngCaps(query), query.toString());
        // with a distribution, local mode's driver (4g from the defaults, or as the options say); not a cluster's
        assertEquals(List.of("-XX:MaxNewSize=256m"), youngCaps(driverJavaOptions(submit("sweep", "--model", "demo"))));
        assertEquals(List.of(), youngCaps(driverJavaOptions(submit("sweep", "--model", "demo", "--driver-memory", "512m"))));
        assertEquals(List.of(), youngCaps(driverJavaOptions(submit("sweep", "--model", "demo", "--conf",
                "spark.driver.memory=4096b"))));
        assertEquals(List.of(), youngCaps(driverJavaOptions(submit("sweep", "--model", "demo", "--master", "yarn"))));
        // the executors a job starts elsewhere take it from the defaults
        String defaults = Files.readString(repo.resolve("conf/spark-defaults.conf"));
        assertTrue(defaults.lines().anyMatch(l -> l.startsWith("spark.executor.extraJavaOptions")
                && List.of(l.split("\\s+")).contains("-XX:MaxNewSize=256m")), defaults);
    }

    /** The GPU profile replaces conf/spark-defaults.conf: how a run fails and ends must not differ between the two. */
    @Test
    void theGpuProfileEndsAndRetriesAsTheDefaultsDo() throws Exception {
        Map<String, String> defaults = properties(repo.resolve("conf/spark-defaults.conf"));
        Map<String, String> gpu = properties(repo.resolve("conf/gpu/spark-gpu.conf"));
        for (String key : List.of("spark.yarn.maxAppAttempts", "spark.standalone.submit.waitAppCompletion",
                "spark.task.maxFailures", "spark.executorEnv.DJL_OFFLINE", "spark.sql.parquet.compression.codec")) {
            assertTrue(defaults.containsKey(key), key);
            assertEquals(defaults.get(key), gpu.get(key), key);
        }
    }

    private static Map<String, String> properties(Path file) throws IOException {
        Map<String, String> p = new java.util.HashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] kv = line.strip().split("\\s+", 2);
            if (!line.isBlank() && !line.startsWith("#") && kv.length == 2) {
                p.put(kv[0], kv[1]);
            }
        }
        return p;
    }

    @Test
    void theExecutorsAJobStartsElsewhereCapTheirVectorsAsLocalModeDoes() throws Exception {
        // local mode's JVM has the cap from submit.sh on CPUs with AVX-512 (aDistributionGetsTheJar...)
        String defaults = Files.readString(repo.resolve("conf/spark-defaults.conf"));
        assertTrue(defaults.lines().anyMatch(l -> l.startsWith("spark.executor.extraJavaOptions")
                && List.of(l.split("\\s+")).contains("-XX:MaxVectorSize=32")), defaults);
    }

    /**
     * libtorch reads THP_MEM_ALLOC_ENABLE when it starts: the JVM submit.sh starts has it on for forwards
     * of 1024 tokens or more and for --gram (spark.HugePageAllocation's rule), off below, off whatever
     * the job on a machine whose balloon reports free pages, and as the user set it.
     */
    @Test
    void theJvmGetsLibtorchsHugePagesForLongWindowsUnlessTheUserSaysOtherwise() throws Exception {
        Map<String, String> no = Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "no");
        assertEquals("1", thp(no));   // --seqlen's default for a real model: 2048
        assertEquals("0", thp(no, "--model", "demo"));   // the demo model's: 256
        assertEquals("0", thp(no, "--model=demo"));
        assertEquals("1", thp(no, "--model", "demo", "--seqlen", "1024"));
        assertEquals("1", thp(no, "--seqlen", "1024"));
        assertEquals("0", thp(no, "--seqlen", "1023"));
        assertEquals("0", thp(no, "--seqlen=256"));
        assertEquals("1", thp(no, "--seqlen", "256", "--batch-size", "4"));
        assertEquals("1", thp(no, "--seqlen=512", "--batch_size=2"));
        assertEquals("1", thp(no, "--seqlen", "x"));   // the job itself refuses it
        assertEquals("1", thp(no, "--model", "demo", "--gram"));
        assertEquals("1", thp(no, "--seqlen", "256", "--gram", "--gram-memory", "1g"));
        assertEquals("0", thp(no, "--seqlen", "256", "--gram-memory", "1g"));
        Map<String, String> yes = Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "yes");
        assertEquals("0", thp(yes));
        assertEquals("0", thp(yes, "--seqlen", "4096", "--gram"));
        assertEquals("1", thp(Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", "yes", "THP_MEM_ALLOC_ENABLE", "1")));
        assertEquals("0", thp(Map.of("THP_MEM_ALLOC_ENABLE", "0"), "--gram"));
        assertEquals("0", thp(Map.of("THP_MEM_ALLOC_ENABLE", "0")));
        assertEquals("1", thp(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "--seqlen", "256"));
    }

    /**
     * submit.sh repeats the driver's figures, since libtorch must see the variable before the JVM
     * starts: its decision must be the driver's ({@code HugePageAllocation.setting}) at the --seqlen
     * defaults (CalibrationOptions) and on both sides of the threshold.
     */
    @Test
    void submitShDecidesAsTheDriverAtTheDefaultsAndTheThreshold() throws Exception {
        int min = HugePageAllocation.MIN_TOKENS;
        for (boolean reports : new boolean[] {false, true}) {
            Map<String, String> env = Map.of("LAYERSCOPE_FREE_PAGE_REPORTING", reports ? "yes" : "no");
            assertEquals(HugePageAllocation.setting(CalibrationOptions.DEFAULT_SEQLEN, 1, false, reports), thp(env));
            assertEquals(HugePageAllocation.setting(CalibrationOptions.DEMO_SEQLEN, 1, false, reports),
                    thp(env, "--model", "demo"));
            for (int seqlen : new int[] {min - 1, min}) {
                assertEquals(HugePageAllocation.setting(seqlen, 1, false, reports),
                        thp(env, "--seqlen", Integer.toString(seqlen)), seqlen + " " + reports);
            }
            assertEquals(HugePageAllocation.setting(min / 2 - 1, 2, false, reports),
                    thp(env, "--seqlen", Integer.toString(min / 2 - 1), "--batch-size", "2"));
            assertEquals(HugePageAllocation.setting(min / 2, 2, false, reports),
                    thp(env, "--seqlen", Integer.toString(min / 2), "--batch-size", "2"));
            assertEquals(HugePageAllocation.setting(CalibrationOptions.DEMO_SEQLEN, 1, true, reports),
                    thp(env, "--model", "demo", "--gram"));
        }
        // left to detect, both sides read this machine alike
        assertEquals(HugePageAllocation.setting(CalibrationOptions.DEFAULT_SEQLEN, 1), thp(Map.of()));
        assertEquals(HugePageAllocation.setting(CalibrationOptions.DEMO_SEQLEN, 1, true),
                thp(Map.of(), "--model", "demo", "--gram"));
    }

    private String thp(Map<String, String> env, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("sweep", "--out", "/results/demo"));
        args.addAll(List.of(options));
        if (!String.join(" ", options).contains("--model")) {
            args.addAll(List.of("--model", "/models/llama"));
        }
        submitWithoutDistribution(env, "", args.toArray(new String[0]));
        return Files.readString(tmp.resolve("bin/thp")).strip();
    }

    @Test
    void aDriverMemoryThatIsNoSizeStopsBeforeAJvmStarts() throws Exception {
        for (String bad : List.of("4x", "1.5g", "0", "")) {
            Finished f = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", "--driver-memory", bad);
            assertEquals(2, f.status(), f.output());
            assertEquals("layerscope: the driver's memory '" + bad + "' is not a size such as 4g, 512m or 4096 (MiB)\n",
                    f.output());
            assertFalse(Files.exists(tmp.resolve("bin/arguments")), bad);
        }
    }

    @Test
    void aDistributionGetsTheJarWithoutSparkAndKeepsItsOwnDefaults() throws Exception {
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo");
        assertEquals(List.of("--master", "local[*]", "--properties-file", repo + "/conf/spark-defaults.conf",
                "--load-spark-defaults", "--driver-java-options", driverOptions() + vectors() + " -XX:MaxNewSize=256m",
                "--class", "io.layerscope.cli.Main",
                repo + "/target/layerscope-cluster.jar", "sweep", "--model", "demo", "--out", "/results/demo"), received);
    }

    /** The query's own flag: C1 only. */
    static String queryFlags() {
        return "-XX:TieredStopAtLevel=1";
    }

    /** The flag a job's JVM gets on this machine: 256-bit vectors where the CPU has 512-bit ones. */
    static String vectors() {
        return avx512() ? " -XX:MaxVectorSize=32" : "";
    }

    /** Whether this machine's CPU has AVX-512 (its flags in /proc/cpuinfo name avx512f). */
    static boolean avx512() {
        try {
            Path cpuinfo = Path.of("/proc/cpuinfo");
            return Files.isReadable(cpuinfo) && Files.readAllLines(cpuinfo).stream()
                    .anyMatch(l -> l.startsWith("flags") && List.of(l.split("\\s+")).contains("avx512f"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Every command's heap in huge pages on this machine by default (" -XX:+UseTransparentHugePages",
     * else ""): where the kernel gives them on request, unless a virtio balloon reports free pages.
     */
    static String hugePages() {
        return hugePagesOnRequest() && !balloonReportsFreePages() ? " -XX:+UseTransparentHugePages" : "";
    }

    /** Whether this machine's kernel gives transparent huge pages on request ({@code [madvise]}). */
    static boolean hugePagesOnRequest() {
        try {
            Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
            return Files.isReadable(thp) && Files.readString(thp).contains("[madvise]");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Whether a virtio device of type 5 (a memory balloon) offers feature 5, free page reporting:
     * sysfs lists a device's features as a string of 0s and 1s, bit 0 first.
     */
    static boolean balloonReportsFreePages() {
        Path devices = Path.of("/sys/bus/virtio/devices");
        if (!Files.isDirectory(devices)) {
            return false;
        }
        try (var list = Files.list(devices)) {
            return list.anyMatch(d -> {
                try {
                    String features = Files.readString(d.resolve("features")).strip();
                    return Files.readString(d.resolve("device")).strip().equals("0x0005")
                            && features.length() > 5 && features.charAt(5) == '1';
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aDistributionStartsQueryWithTheQueryFlags() throws Exception {
        List<String> received = submit("query", "--results", "/results/demo", "SELECT 1");
        assertEquals(List.of("--master", "local[*]", "--properties-file", repo + "/conf/spark-defaults.conf",
                "--load-spark-defaults", "--driver-java-options", driverOptions() + " " + queryFlags() + " -XX:MaxNewSize=256m",
                "--class", "io.layerscope.cli.Main", repo + "/target/layerscope-cluster.jar",
                "query", "--results", "/results/demo", "SELECT 1"), received);
    }

    @Test
    void theGpuProfileShipsItsDiscoveryScriptBesideTheUsersFiles() throws Exception {
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo", "--master", "yarn",
                "--properties-file", "conf/gpu/spark-gpu.conf", "--files", "/data/a.txt", "--conf", "spark.x=1",
                "--files=/data/b.txt");
        assertEquals(List.of("--master", "yarn", "--properties-file", "conf/gpu/spark-gpu.conf", "--load-spark-defaults",
                "--driver-java-options", driverOptions() + vectors(), "--class", "io.layerscope.cli.Main", "--conf", "spark.x=1",
                "--files", "/data/a.txt,/data/b.txt," + repo + "/conf/gpu/discover-gpus.sh",
                repo + "/target/layerscope-cluster.jar", "sweep", "--model", "demo", "--out", "/results/demo"), received);
        // the executor runs it by its path in its working directory, where YARN puts --files (YarnClusterIT
        // runs it); a bare name would be found only where the executor's PATH holds "."
        assertEquals(List.of("./discover-gpus.sh"), Files.readAllLines(repo.resolve("conf/gpu/spark-gpu.conf")).stream()
                .filter(l -> l.startsWith("spark.executor.resource.gpu.discoveryScript"))
                .map(l -> l.split("\\s+")[1]).toList());
    }

    /** A profile of the user's may name its script ./NAME or NAME: the one beside the profile is shipped. */
    @Test
    void aUsersProfileShipsTheScriptItNamesBesideIt() throws Exception {
        Path profiles = Files.createDirectories(tmp.resolve("profiles"));
        Files.writeString(profiles.resolve("fpga.sh"), "#!/bin/sh\n");
        Files.writeString(profiles.resolve("gpu.sh"), "#!/bin/sh\n");
        Files.writeString(profiles.resolve("mine.conf"), """
                spark.executor.resource.fpga.discoveryScript   fpga.sh
                spark.executor.resource.gpu.discoveryScript    ./gpu.sh
                spark.executor.resource.other.discoveryScript  /opt/scripts/other.sh
                """);
        List<String> received = submit("sweep", "--model", "demo", "--master", "yarn", "--properties-file",
                profiles.resolve("mine.conf").toString());
        int files = received.indexOf("--files");
        assertEquals(profiles.resolve("fpga.sh") + "," + profiles.resolve("gpu.sh"), received.get(files + 1), received.toString());
    }

    /**
     * Spark reads a properties file as Java properties: "key=value" and "key: value" name scripts as
     * "key value" does. A relative path with a directory, or a ./NAME missing beside the file, is not
     * shipped, and said so on standard error.
     */
    @Test
    void aUsersProfileInEveryPropertiesSyntaxShipsItsScripts() throws Exception {
        Path profiles = Files.createDirectories(tmp.resolve("profiles-syntax"));
        Files.createDirectories(profiles.resolve("sub"));
        for (String f : List.of("a.sh", "b.sh", "my script.sh", "sub/c.sh")) {
            Files.writeString(profiles.resolve(f), "#!/bin/sh\n");
        }
        Files.writeString(profiles.resolve("mine.conf"), """
                spark.submit.deployMode=cluster
                spark.executor.resource.a.discoveryScript=./a.sh
                  spark.executor.resource.b.discoveryScript : b.sh\t
                spark.executor.resource.c.discoveryScript ./my script.sh
                spark.executor.resource.d.discoveryScript=./sub/c.sh
                spark.executor.resource.e.discoveryScript ./missing.sh
                # spark.executor.resource.f.discoveryScript ./b.sh
                """);
        Finished r = run(Map.of(), "sweep", "--model", "demo", "--master", "yarn", "--properties-file",
                profiles.resolve("mine.conf").toString());
        assertEquals(0, r.status(), r.output());
        List<String> received = Files.readAllLines(sparkHome.resolve("arguments"));
        // the profile's deploy mode, read in the same way: cluster mode's --cache-dir is added
        assertEquals(List.of("--cache-dir", repo + "/llm_weights"), received.subList(received.size() - 2, received.size()));
        int files = received.indexOf("--files");
        assertEquals(profiles.resolve("a.sh") + "," + profiles.resolve("b.sh") + "," + profiles.resolve("my script.sh"),
                received.get(files + 1), received.toString());
        assertEquals(List.of("layerscope: the discovery script ./sub/c.sh in " + profiles.resolve("mine.conf") + " is not"
                        + " shipped to the executors: --files puts a file in their working directory under its bare name;"
                        + " name it ./c.sh beside mine.conf, or give a path every node has",
                "layerscope: the discovery script ./missing.sh in " + profiles.resolve("mine.conf") + " is not shipped to"
                        + " the executors: there is no missing.sh beside mine.conf"),
                r.output().lines().filter(l -> l.startsWith("layerscope: the discovery script")).toList(), r.output());
    }

    @Test
    void sparkReadsTheClusterDefaultsUnderLayerscopesSettings() throws Exception {
        Path clusterConf = Files.createDirectories(tmp.resolve("cluster-conf"));
        Files.writeString(clusterConf.resolve("spark-defaults.conf"), """
                spark.eventLog.enabled      true
                spark.eventLog.dir          hdfs:///spark-history
                spark.yarn.queue            research
                spark.driver.memory         1g
                """);
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("SPARK_CONF_DIR", clusterConf.toString());
        SparkSubmitArguments parsed = new SparkSubmitArguments(CollectionConverters.asScala(received).toSeq(),
                scala.collection.immutable.Map.from(CollectionConverters.asScala(env)));
        var props = parsed.sparkProperties();
        assertEquals("true", props.apply("spark.eventLog.enabled"));
        assertEquals("hdfs:///spark-history", props.apply("spark.eventLog.dir"));
        assertEquals("research", props.apply("spark.yarn.queue"));
        // layerscope's conf/spark-defaults.conf wins where both set a key
        assertEquals("4g", props.apply("spark.driver.memory"));
        assertEquals("zstd", props.apply("spark.sql.parquet.compression.codec"));
    }

    /**
     * spark-submit's other options reach it; the driver's Java options and class path (by option or
     * setting) join this script's instead of replacing them, as Spark's own parser and splitter read them.
     */
    @Test
    void sparkSubmitsOtherOptionsPassAndTheDriversOwnJoinTheScripts() throws Exception {
        String[] args = {"sweep", "--model", "demo", "--master", "spark://head:7077", "--packages", "org.x:y:1",
            "--supervise", "--queue=q", "--name=run 1", "--proxy-user", "ann", "--driver-java-options", "-Dx=1 -Dy=\"a b\"",
            "--conf", "spark.driver.extraJavaOptions=-Dz=2 -Dai.djl.offline=true", "--driver-class-path", "/a.jar",
            "--conf=spark.driver.extraClassPath=/b.jar", "--driver-library-path", "/native"};
        List<String> received = submit(args);
        assertEquals(List.of(repo + "/target/layerscope-cluster.jar", "sweep", "--model", "demo"),
                received.subList(received.size() - 4, received.size()), received.toString());
        Map<String, String> env = new HashMap<>(System.getenv());
        SparkSubmitArguments parsed = new SparkSubmitArguments(CollectionConverters.asScala(received).toSeq(),
                scala.collection.immutable.Map.from(CollectionConverters.asScala(env)));
        assertEquals("org.x:y:1", parsed.packages());
        assertTrue(parsed.supervise());
        assertEquals("q", parsed.queue());
        assertEquals("run 1", parsed.name());
        assertEquals("ann", parsed.proxyUser());
        assertEquals("/a.jar:/b.jar", parsed.driverExtraClassPath());
        assertEquals("/native", parsed.driverExtraLibraryPath());
        List<String> options = sparkSplits(parsed.driverExtraJavaOptions());
        // this script's, then the file's and the command line's not already among them, in order
        assertEquals(List.of("-Dx=1", "-Dy=a b", "-Dz=2"), options.subList(options.size() - 3, options.size()));
        assertEquals(1, options.stream().filter("-Dai.djl.offline=true"::equals).count(), options.toString());
        assertTrue(options.contains("-Dlog4j2.configurationFile=" + repo + "/conf/log4j2.properties"), options.toString());

        // a driver on the cluster: the file's options (which reach it alone otherwise) and the command line's
        List<String> cluster = submit("sweep", "--model", "demo", "--master", "spark://head:7077", "--deploy-mode",
                "cluster", "--driver-java-options", "-Dx=1");
        assertEquals("-Dai.djl.offline=true -Djava.awt.headless=true -XX:+UseParallelGC -Dx=1",
                cluster.get(cluster.indexOf("--driver-java-options") + 1));

        // without a distribution this JVM is the driver: on its command line, after the script's, before the class path
        List<String> jvm = submitWithoutDistribution("", args);
        int cp = jvm.indexOf("-cp");
        assertEquals(List.of("-Dx=1", "-Dy=a b", "-Dz=2"), jvm.subList(cp - 3, cp));
        assertEquals(1, jvm.stream().filter("-Dai.djl.offline=true"::equals).count(), jvm.toString());
        assertTrue(jvm.get(cp + 1).endsWith(":/a.jar:/b.jar"), jvm.get(cp + 1));
        assertTrue(jvm.containsAll(List.of("--packages", "org.x:y:1", "--supervise", "--queue=q", "--name=run 1")),
                jvm.toString());
        assertEquals(List.of("sweep", "--model", "demo"), jvm.subList(jvm.size() - 3, jvm.size()), jvm.toString());
    }

    /** How Spark's launcher splits the driver's Java options (CommandBuilderUtils.parseOptionString, package-private). */
    @SuppressWarnings("unchecked")
    static List<String> sparkSplits(String options) throws Exception {
        var parse = Class.forName("org.apache.spark.launcher.CommandBuilderUtils")
                .getDeclaredMethod("parseOptionString", String.class);
        parse.setAccessible(true);
        return (List<String>) parse.invoke(null, options);
    }

    /**
     * The driver's Java options are split as Spark's launcher splits them, on this script's JVM and
     * in what spark-submit receives, whatever the quotes and backslashes.
     */
    @Test
    void theDriversJavaOptionsAreSplitAsSparkSplitsThem() throws Exception {
        for (String given : List.of("-Da=1 -Db=\"x y\"", "-Dq=\"a\\\"b\"", "'-Dp=C:\\dir'", "-Dp=\"C:\\\\dir\"",
                "-Dt=a\\ b", "  -Dz=1  ", "-Dm='it'\"'\"'s'", "-Dtab=\"a\tb\"")) {
            List<String> expected = sparkSplits(given);
            List<String> jvm = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-java-options", given);
            int cp = jvm.indexOf("-cp");
            assertEquals(expected, jvm.subList(cp - expected.size(), cp), given + " -> " + jvm);
            List<String> received = submit("sweep", "--model", "demo", "--driver-java-options", given);
            List<String> options = sparkSplits(received.get(received.indexOf("--driver-java-options") + 1));
            assertEquals(expected, options.subList(options.size() - expected.size(), options.size()), given);
        }
    }

    /** Java options that cannot be split, or that size the heap, and an option without its value stop before a JVM starts. */
    @Test
    void driverJavaOptionsThatCannotBeUsedStopBeforeAJvmStarts() throws Exception {
        Finished unclosed = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", "--driver-java-options",
                "-Dx=\"a b");
        assertEquals(2, unclosed.status(), unclosed.output());
        assertEquals("layerscope: the driver's Java options '-Dai.djl.offline=true -Djava.awt.headless=true"
                + " -XX:+UseParallelGC -Dx=\"a b' cannot be split into options (a quote left open)\n", unclosed.output());
        Finished escape = run(Map.of(), "sweep", "--model", "demo", "--driver-java-options", "-Dx=1 \\");
        assertEquals(2, escape.status(), escape.output());
        assertTrue(escape.output().endsWith("cannot be split into options (a backslash at the end)\n"), escape.output());
        Finished heap = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", "--conf",
                "spark.driver.extraJavaOptions=-Xmx8g");
        assertEquals(2, heap.status(), heap.output());
        assertEquals("layerscope: the driver's Java options may not set the heap (-Xmx8g): use --driver-memory, as"
                + " spark-submit asks\n", heap.output());
        for (String option : List.of("--master", "--conf", "--driver-java-options", "--packages")) {
            Finished last = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", option);
            assertEquals(2, last.status(), last.output());
            assertEquals("layerscope: " + option + " needs a value (e.g. " + option + " VALUE or " + option + "=VALUE)\n",
                    last.output());
        }
        assertFalse(Files.exists(tmp.resolve("bin/arguments")), "no JVM started");
        assertFalse(Files.exists(sparkHome.resolve("arguments")), "no spark-submit started");
    }

    /** A collector of the user's replaces the script's (the JVM refuses two), here and on a cluster's driver. */
    @Test
    void aCollectorTheUserNamesReplacesTheScripts() throws Exception {
        List<String> jvm = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-java-options",
                "-XX:+UseG1GC");
        assertEquals(List.of("-XX:+UseG1GC"), jvm.stream().filter(a -> a.matches("-XX:\\+Use.*GC")).toList(), jvm.toString());
        List<String> local = sparkSplits(driverOption(submit("sweep", "--model", "demo", "--driver-java-options",
                "-XX:+UseZGC")));
        assertEquals(List.of("-XX:+UseZGC"), local.stream().filter(a -> a.matches("-XX:\\+Use.*GC")).toList(), local.toString());
        List<String> cluster = sparkSplits(driverOption(submit("sweep", "--model", "demo", "--master", "spark://h:7077",
                "--deploy-mode", "cluster", "--driver-java-options", "-XX:+UseG1GC")));
        assertEquals(List.of("-Dai.djl.offline=true", "-Djava.awt.headless=true", "-XX:+UseG1GC"), cluster);
    }

    /**
     * The executors' Java options from the command line join the properties file's (spark-submit would
     * keep only the last), a collector of the user's replacing the file's.
     */
    @Test
    void theExecutorsJavaOptionsJoinTheFilesOnes() throws Exception {
        String defaults = Files.readAllLines(repo.resolve("conf/spark-defaults.conf")).stream()
                .filter(l -> l.startsWith("spark.executor.extraJavaOptions")).findFirst().orElseThrow()
                .replaceFirst("^spark\\.executor\\.extraJavaOptions\\s+", "");
        List<String> files = sparkSplits(defaults);
        assertTrue(files.contains("-XX:MaxNewSize=256m") && files.contains("-XX:+UseParallelGC"), files.toString());
        for (String[] given : new String[][] {{"--conf", "spark.executor.extraJavaOptions=-Dx=1 -Dy=\"a b\""},
            {"--conf=spark.executor.extraJavaOptions=-Dx=1 -Dy=\"a b\""}}) {
            List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo", "--master", "spark://h:7077"));
            args.addAll(List.of(given));
            List<String> received = submit(args.toArray(new String[0]));
            List<String> confs = received.stream().filter(a -> a.startsWith("spark.executor.extraJavaOptions=")).toList();
            assertEquals(1, confs.size(), received.toString());
            List<String> expected = new ArrayList<>(files);
            expected.addAll(List.of("-Dx=1", "-Dy=a b"));
            assertEquals(expected, sparkSplits(confs.get(0).substring("spark.executor.extraJavaOptions=".length())));
        }
        List<String> g1 = submitWithoutDistribution("", "sweep", "--model", "demo", "--master", "spark://h:7077",
                "--conf", "spark.executor.extraJavaOptions=-XX:+UseG1GC");
        String conf = g1.stream().filter(a -> a.startsWith("spark.executor.extraJavaOptions=")).findFirst().orElseThrow();
        List<String> options = sparkSplits(conf.substring("spark.executor.extraJavaOptions=".length()));
        assertEquals(List.of("-XX:+UseG1GC"), options.stream().filter(a -> a.matches("-XX:\\+Use.*GC")).toList());
        assertTrue(options.contains("-XX:MaxNewSize=256m"), options.toString());
        Finished bad = run(Map.of(), "sweep", "--model", "demo", "--conf", "spark.executor.extraJavaOptions='-Dx");
        assertEquals(2, bad.status(), bad.output());
        assertEquals("layerscope: the executors' Java options ''-Dx' cannot be split into options (a quote left open)\n",
                bad.output());
    }

    /** The executor options spark-submit receives, as Spark's launcher splits them. */
    private static List<String> executorOptions(List<String> received) throws Exception {
        String conf = received.stream().filter(a -> a.startsWith("spark.executor.extraJavaOptions=")).reduce((a, b) -> b)
                .orElseThrow();
        return sparkSplits(conf.substring("spark.executor.extraJavaOptions=".length()));
    }

    /**
     * Edge cases of the options joined with the script's and the file's: continued lines in the
     * properties file, flags that only tune a collector, two collectors, options emptied, -c, an empty
     * last argument, class sharing turned off by the user, a cluster driver's collector.
     */
    @Test
    void joinedJavaOptionsEdgeCases() throws Exception {
        Path props = Files.writeString(tmp.resolve("continued.conf"), """
                # a comment that ends in a backslash does not go on \\
                spark.executor.extraJavaOptions   -Dai.djl.offline=true \\
                    -XX:+UseParallelGC -XX:MaxNewSize=256m
                spark.driver.extraJavaOptions -Dai.djl.offline=true \\
                   -Dmine=1
                """);
        List<String> continued = submit("sweep", "--model", "demo", "--properties-file", props.toString(), "-c",
                "spark.executor.extraJavaOptions=-Dx=1");
        assertEquals(List.of("-Dai.djl.offline=true", "-XX:+UseParallelGC", "-XX:MaxNewSize=256m", "-Dx=1"),
                executorOptions(continued));
        assertTrue(sparkSplits(driverOption(continued)).contains("-Dmine=1"), continued.toString());

        // a file named with '=' (awk would take it for an assignment), CRLF lines, a backslash ending the file
        Path odd = Files.writeString(tmp.resolve("run=2.conf"), "spark.executor.extraJavaOptions -Da=1 \\\r\n"
                + "   -Db=2\r\nspark.driver.extraJavaOptions -Dc=3 \\");
        List<String> crlf = submit("sweep", "--model", "demo", "--properties-file", odd.toString(), "--conf",
                "spark.executor.extraJavaOptions=-Dx=1");
        assertEquals(List.of("-Da=1", "-Db=2", "-Dx=1"), executorOptions(crlf));
        assertTrue(sparkSplits(driverOption(crlf)).contains("-Dc=3"), crlf.toString());

        // a flag that tunes the parallel collector does not replace it
        List<String> tuning = submit("sweep", "--model", "demo", "--driver-java-options",
                "-XX:+UseAdaptiveSizePolicyWithSystemGC", "--conf", "spark.executor.extraJavaOptions=-XX:+UseAdaptiveSizePolicyWithSystemGC");
        assertTrue(sparkSplits(driverOption(tuning)).contains("-XX:+UseParallelGC"), tuning.toString());
        assertTrue(executorOptions(tuning).contains("-XX:+UseParallelGC"), tuning.toString());
        // two of the user's own: the last one named
        List<String> two = submit("sweep", "--model", "demo", "--conf",
                "spark.executor.extraJavaOptions=-XX:+UseG1GC -XX:+UseSerialGC");
        assertEquals(List.of("-XX:+UseSerialGC"), executorOptions(two).stream().filter(a -> a.matches("-XX:\\+Use.*GC")).toList());
        // given empty, the file's are cleared, as spark-submit would
        List<String> cleared = submit("sweep", "--model", "demo", "--conf", "spark.executor.extraJavaOptions=");
        assertTrue(cleared.contains("spark.executor.extraJavaOptions="), cleared.toString());

        // an empty value as the last argument is layerscope's, not a missing option value
        Finished empty = runWithoutDistribution(Map.of(), "", "query", "--results", "/r", "");
        assertEquals(0, empty.status(), empty.output());

        // class sharing off in the user's options: no archive is recorded (the JVM would refuse both)
        Files.deleteIfExists(repo.resolve("target/layerscope.jsa"));
        List<String> noShare = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-java-options",
                "-Xshare:off");
        assertTrue(noShare.stream().noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit")), noShare.toString());
        assertTrue(noShare.contains("-Xshare:off"), noShare.toString());
        // an archive of the user's own beside the script's: the script's is left out (the JVM refuses the pair)
        Files.writeString(repo.resolve("target/layerscope.jsa"), "archive");
        List<String> theirs = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-java-options",
                "-XX:ArchiveClassesAtExit=/tmp/mine.jsa");
        assertEquals(List.of("-XX:ArchiveClassesAtExit=/tmp/mine.jsa"), theirs.stream()
                .filter(a -> a.startsWith("-XX:SharedArchiveFile") || a.startsWith("-XX:ArchiveClassesAtExit")).toList());

        // a cluster driver's collector is the cluster driver's: the launcher here keeps the script's
        List<String> launcher = submitWithoutDistribution("", "sweep", "--model", "demo", "--out", "/r/o", "--master",
                "spark://h:7077", "--deploy-mode", "cluster", "--driver-java-options", "-Dx=1 -XX:+UseG1GC");
        int main = launcher.indexOf("io.layerscope.cli.SparkSubmitMain");
        assertTrue(launcher.subList(0, main).contains("-XX:+UseParallelGC"), launcher.toString());
        assertFalse(launcher.subList(0, main).contains("-XX:+UseG1GC"), launcher.toString());
        List<String> remote = sparkSplits(launcher.get(launcher.indexOf("--driver-java-options") + 1));
        assertEquals(List.of("-XX:+UseG1GC"), remote.stream().filter(a -> a.matches("-XX:\\+Use.*GC")).toList());
    }

    private static String driverOption(List<String> received) {
        return received.get(received.indexOf("--driver-java-options") + 1);
    }

    /**
     * The properties file's driver class path joins the command line's; without a distribution a
     * driver on a cluster gets the driver's options through Spark, not this JVM, and a run with a
     * class path of the user's records no class-data archive (a later run without it could not map it).
     */
    @Test
    void theDriversClassPathAndOptionsReachTheDriverWhereverItRuns() throws Exception {
        Path props = Files.writeString(tmp.resolve("mine.conf"), "spark.driver.extraClassPath=/opt/extra.jar\n"
                + "spark.driver.extraJavaOptions -Dai.djl.offline=true -Dmine=1\n");
        List<String> received = submit("sweep", "--model", "demo", "--properties-file=" + props, "--driver-class-path",
                "/a.jar");
        assertEquals(props.toString(), received.get(received.indexOf("--properties-file") + 1));
        assertEquals("/opt/extra.jar:/a.jar", received.get(received.indexOf("--driver-class-path") + 1));
        assertTrue(sparkSplits(driverOption(received)).contains("-Dmine=1"), received.toString());

        List<String> cluster = submitWithoutDistribution("", "sweep", "--model", "demo", "--master", "spark://h:7077",
                "--deploy-mode", "cluster", "--driver-java-options", "-Dx=1", "--driver-class-path", "/a.jar");
        int main = cluster.indexOf("io.layerscope.cli.SparkSubmitMain");
        assertFalse(cluster.subList(0, main).contains("-Dx=1"), cluster.toString());
        assertFalse(cluster.get(cluster.indexOf("-cp") + 1).contains("/a.jar"), cluster.toString());
        List<String> submitted = cluster.subList(main, cluster.size());
        assertEquals("-Dai.djl.offline=true -Djava.awt.headless=true -XX:+UseParallelGC -Dx=1",
                submitted.get(submitted.indexOf("--driver-java-options") + 1));
        assertEquals("/a.jar", submitted.get(submitted.indexOf("--driver-class-path") + 1));

        Files.deleteIfExists(repo.resolve("target/layerscope.jsa"));
        List<String> withJar = submitWithoutDistribution("", "sweep", "--model", "demo", "--driver-class-path", "/a.jar");
        assertTrue(withJar.stream().noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit")), withJar.toString());
        assertTrue(withJar.get(withJar.indexOf("-cp") + 1).endsWith(":/a.jar"), withJar.toString());
    }

    /** The arguments after --class's value: the application resource and what follows it. */
    private static List<String> fromResource(List<String> received) {
        return received.subList(received.indexOf("--class") + 2, received.size());
    }

    @Test
    void aClustersExecutorsTakeTheJarFromWhereTheyHaveIt() throws Exception {
        String jar = repo + "/target/layerscope-cluster.jar";
        String[] sweep = {"sweep", "--model", "demo", "--master", "spark://head:7077"};
        // unset: the jar goes with the job, the driver's class path as spark-submit makes it
        List<String> shipped = submit(sweep);
        assertEquals(List.of(jar, "sweep", "--model", "demo"), fromResource(shipped));
        assertFalse(shipped.contains("--driver-class-path"), shipped.toString());
        // its own path on every node: Spark's local: scheme; the driver runs the jar here
        List<String> local = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local"), sweep);
        assertEquals(List.of("--driver-class-path", jar, "local:" + jar, "sweep", "--model", "demo"), fromResource(local));
        // the executors' class path has it: nothing sent
        List<String> none = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "none"), sweep);
        assertEquals(List.of("--driver-class-path", jar, "spark-internal", "sweep", "--model", "demo"), fromResource(none));
        // a URI the executors read themselves, beside the user's own driver class path: named to the
        // driver, which adds it (spark-submit would download it to the driver first)
        Map<String, String> uri = Map.of("LAYERSCOPE_EXECUTOR_JAR", "hdfs://nn:8020/apps/layerscope.jar",
                "LAYERSCOPE_CLASSPATH", "/opt/extra.jar");
        List<String> hdfs = submit(uri, sweep);
        assertEquals(List.of("--driver-class-path", jar + ":/opt/extra.jar", "--conf",
                "spark.layerscope.executorJar=hdfs://nn:8020/apps/layerscope.jar", "spark-internal", "sweep",
                "--model", "demo"), fromResource(hdfs));
        // in cluster deploy mode the driver's node needs it too: Spark's own application resource
        List<String> clusterMode = submit(uri, "sweep", "--model", "demo", "--master", "spark://head:7077",
                "--deploy-mode", "cluster");
        assertEquals(List.of("--driver-class-path", jar + ":/opt/extra.jar", "--deploy-mode", "cluster",
                "hdfs://nn:8020/apps/layerscope.jar", "sweep", "--model", "demo", "--cache-dir", repo + "/llm_weights"),
                fromResource(clusterMode));
        // another path on every node: one this machine does not have is taken on trust
        List<String> elsewhere = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local:/opt/layerscope/layerscope.jar"), sweep);
        assertEquals("local:/opt/layerscope/layerscope.jar", fromResource(elsewhere).get(2));
        // local mode runs the jar its JVM has
        List<String> localMode = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "none"), "sweep", "--model", "demo");
        assertEquals(List.of(jar, "sweep", "--model", "demo"), fromResource(localMode));
    }

    @Test
    void withoutADistributionTheExecutorJarIsTheApplicationResourceToo() throws Exception {
        List<String> java = submitWithoutDistribution(Map.of("LAYERSCOPE_EXECUTOR_JAR", "none"), "",
                "sweep", "--model", "demo", "--master", "spark://head:7077");
        assertEquals(List.of("spark-internal", "sweep", "--model", "demo"), fromResource(java));
        List<String> local = submitWithoutDistribution(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local"), "",
                "sweep", "--model", "demo", "--master", "spark://head:7077");
        assertEquals(List.of("local:" + repo + "/target/layerscope.jar", "sweep", "--model", "demo"), fromResource(local));
    }

    @Test
    void anExecutorJarThatCannotBeRightStopsBeforeSparkStarts() throws Exception {
        Finished word = run(Map.of("LAYERSCOPE_EXECUTOR_JAR", "shared"), "sweep", "--model", "demo", "--master",
                "spark://head:7077");
        assertEquals(2, word.status(), word.output());
        assertEquals("layerscope: LAYERSCOPE_EXECUTOR_JAR is 'shared', but it must be local (this jar's path on every"
                + " node), local:/PATH, none (the executors' class path has the jar) or a URI such as hdfs://HOST/PATH.\n",
                word.output());
        Path other = Files.writeString(tmp.resolve("old-layerscope.jar"), "an older build");
        Finished stale = run(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local:" + other), "sweep", "--model", "demo", "--master",
                "spark://head:7077");
        assertEquals(2, stale.status(), stale.output());
        assertEquals("layerscope: LAYERSCOPE_EXECUTOR_JAR names " + other + ", which is not the jar this run uses ("
                + repo + "/target/layerscope-cluster.jar): copy it there on every node, or leave LAYERSCOPE_EXECUTOR_JAR"
                + " unset to send the jar with the job.\n", stale.output());
        assertFalse(Files.exists(sparkHome.resolve("arguments")), "spark-submit did not run");
        // help and the listings start no Spark: they answer whatever the variable says
        Finished help = runWithoutDistribution(Map.of("LAYERSCOPE_EXECUTOR_JAR", "shared"), "", "--help", "--master",
                "spark://head:7077");
        assertEquals(0, help.status(), help.output());
        List<String> java = Files.readAllLines(tmp.resolve("bin/arguments"));
        assertEquals(List.of("io.layerscope.cli.Main", "--help"), java.subList(java.size() - 2, java.size()));
    }

    /** layerscope's usage and error lines name the command as it was run, through LAYERSCOPE_PROG. */
    @Test
    void theCommandIsNamedAsItWasRun() throws Exception {
        submit("sweep", "--model", "demo", "--out", "/r/x", "--master", "spark://head:7077");
        assertEquals(repo.resolve("submit.sh").toString(), Files.readString(sparkHome.resolve("prog")));
    }

    @Test
    void inClusterDeployModeTheDriverGetsPathsAsMeantHereAndNoArchiveIsRecorded() throws Exception {
        Files.createDirectories(repo.resolve("models/m"));
        Files.createDirectories(repo.resolve("data"));
        String[] sweep = {"sweep", "--model", "models/m", "--out", "results/x", "--calibration-cache=cache", "--no-png",
            "--calibration", "data,c4:1", "--cache-dir", "/shared/hub", "--seed", "3", "--master", "spark://head:7077"};
        List<String> cluster = submitWithoutDistribution(Map.of(), "", concat(sweep, "--deploy-mode", "cluster"));
        assertEquals(List.of("--deploy-mode", "cluster", repo + "/target/layerscope.jar", "sweep", "--model",
                repo + "/models/m", "--out",
                repo + "/results/x", "--calibration-cache=" + repo + "/cache", "--no-png", "--calibration",
                repo + "/data,c4:1", "--cache-dir", "/shared/hub", "--seed", "3"), fromResource(cluster));
        // Spark's launcher alone ran here: no archive of its classes for the later runs to map
        assertTrue(cluster.stream().noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit=")), cluster.toString());
        assertFalse(Files.exists(repo.resolve("target/layerscope.jsa")));
        // names stay names (a repo id, demo, c4), also with the mode from --conf
        List<String> names = submitWithoutDistribution(Map.of(), "", "sweep", "--model", "meta-llama/Llama-3.2-1B",
                "--calibration=c4", "--out=/abs/x", "--master", "spark://head:7077", "--conf",
                "spark.submit.deployMode=cluster");
        assertEquals(List.of("sweep", "--model", "meta-llama/Llama-3.2-1B", "--calibration=c4", "--out=/abs/x"),
                fromResource(names).subList(3, 8));
        // ~ left as it is after --out= is the home directory here, not a directory named ~ on the driver's node
        List<String> home = submitWithoutDistribution(Map.of("HOME", "/home/u"), "", "sweep", "--model", "~/m",
                "--out=~/x", "--calibration-cache", "~", "--master", "spark://head:7077", "--deploy-mode", "cluster");
        assertEquals(List.of("sweep", "--model", "/home/u/m", "--out=/home/u/x", "--calibration-cache", "/home/u"),
                fromResource(home).subList(3, 9));
        // client mode: the driver runs here, the paths as given, and the first job records the archive
        List<String> client = submit(sweep);
        assertEquals(List.of("sweep", "--model", "models/m", "--out", "results/x"), fromResource(client).subList(1, 6));
        List<String> clientJava = submitWithoutDistribution(Map.of(), "", sweep);
        assertEquals(1, clientJava.stream().filter(a -> a.startsWith("-XX:ArchiveClassesAtExit=")).count());
    }

    @Test
    void standalonesClusterDeployModeEndsAsTheDriverDid() throws Exception {
        String[] sweep = {"sweep", "--model", "demo", "--out", "/r/x", "--master", "spark://head:7077", "--deploy-mode",
            "cluster"};
        Finished finished = run(Map.of("FAKE_STDERR", "12:00:00 INFO ClientEndpoint: State of driver driver-1-0001 is"
                + " FINISHED, exiting spark-submit JVM."), sweep);
        assertEquals(0, finished.status(), finished.output());
        for (String state : List.of("FAILED", "ERROR", "KILLED")) {
            String line = "12:00:00 INFO ClientEndpoint: State of driver driver-1-0002 is " + state
                    + ", exiting spark-submit JVM.";
            Finished failed = runWithoutDistribution(Map.of("FAKE_STDERR", line), "", sweep);
            assertEquals(1, failed.status(), failed.output());
            assertEquals(line + "\nlayerscope: the driver driver-1-0002 ended " + state + " on the cluster; its output is"
                    + " on the Worker that ran it, in driver-1-0002/stderr under the Worker's work directory (the"
                    + " Master's web UI links it).\n", failed.output());
        }
        // the client's JVM logs the state line whatever the distribution's log4j configuration says
        String client = repo + "/conf/log4j2-submit-client.properties\"";
        assertEquals("\"-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties," + client,
                Files.readString(sparkHome.resolve("submit-opts")));
        Path distConf = Files.createDirectories(sparkHome.resolve("conf"));
        Files.writeString(distConf.resolve("log4j2.xml"), "");
        Files.writeString(distConf.resolve("log4j2.properties"), "");
        run(Map.of("SPARK_SUBMIT_OPTS", "-Dx=1"), sweep);
        assertEquals("-Dx=1 \"-Dlog4j2.configurationFile=" + distConf + "/log4j2.properties," + client,
                Files.readString(sparkHome.resolve("submit-opts")));
        Path elsewhere = Files.createDirectories(tmp.resolve("conf-elsewhere"));
        Files.writeString(elsewhere.resolve("log4j2.yaml"), "");
        run(Map.of("SPARK_CONF_DIR", elsewhere.toString()), sweep);
        assertEquals("\"-Dlog4j2.configurationFile=" + elsewhere + "/log4j2.yaml," + client,
                Files.readString(sparkHome.resolve("submit-opts")));
        // a configuration the user names stands, and client mode's driver has layerscope's own
        run(Map.of("SPARK_SUBMIT_OPTS", "-Dlog4j2.configurationFile=/mine.xml"), sweep);
        assertEquals("-Dlog4j2.configurationFile=/mine.xml", Files.readString(sparkHome.resolve("submit-opts")));
        run(Map.of("SPARK_SUBMIT_OPTS", "-Dlog4j.configurationFile=/legacy.xml"), sweep);
        assertEquals("-Dlog4j.configurationFile=/legacy.xml", Files.readString(sparkHome.resolve("submit-opts")));
        run(Map.of(), "sweep", "--model", "demo", "--out", "/r/x", "--master", "spark://head:7077");
        assertEquals("", Files.readString(sparkHome.resolve("submit-opts")));
        // elsewhere Spark's own status stands (YARN's client fails for a failed application)
        Finished yarn = run(Map.of("FAKE_STDERR", "State of driver d is FAILED, exiting spark-submit JVM."), "sweep",
                "--model", "demo", "--out", "/r/x", "--master", "yarn", "--deploy-mode", "cluster");
        assertEquals(0, yarn.status(), yarn.output());
    }

    /**
     * YARN's ApplicationMaster ends an application whose executors failed too often with diagnostics that
     * say only that (Spark 4.2's Client logs them at ERROR and throws naming the application): submit.sh
     * adds what it usually means for layerscope, and keeps the client's status. Other failures get
     * Spark's output alone. A long run's log holds a report line every 30 s: the id is read from it
     * without a broken pipe ending the script.
     */
    @Test
    void yarnsClusterDeployModeExplainsAnApplicationEndedForLostExecutors() throws Exception {
        String[] sweep = {"sweep", "--model", "demo", "--out", "/r/x", "--master", "yarn", "--deploy-mode", "cluster"};
        String app = "application_1765000000000_0007";
        String end = "12:00:01 ERROR Client: Application diagnostics message: Max number of executor failures (4) reached\n"
                + "Exception in thread \"main\" org.apache.spark.SparkException: Application " + app
                + " finished with failed status";
        String explained = "layerscope: YARN ended " + app + " after its executors failed again and again. Executors"
                + " killed for their memory say so in its logs (yarn logs -applicationId " + app + " | grep 'Container"
                + " killed'): then raise spark.executor.memoryOverhead, which libtorch's memory counts against"
                + " (docs/CLUSTER.md, executor memory).\n";
        Finished lost = run(Map.of("FAKE_STDERR", end, "FAKE_EXIT", "1"), sweep);
        assertEquals(1, lost.status(), lost.output());
        assertEquals(end + "\n" + explained, lost.output());
        Path reports = Files.writeString(tmp.resolve("long-run.log"),
                ("12:00:00 INFO Client: Application report for " + app + " (state: RUNNING)\n").repeat(5000) + end + "\n");
        for (int round = 0; round < 3; round++) {
            Finished longRun = run(Map.of("FAKE_STDERR_FILE", reports.toString(), "FAKE_EXIT", "1"), sweep);
            assertEquals(1, longRun.status(), longRun.output().substring(longRun.output().length() - 500));
            assertTrue(longRun.output().endsWith(end + "\n" + explained), "round " + round);
        }
        String userError = "12:00:01 ERROR Client: Application diagnostics message: User class threw exception: ...";
        Finished other = run(Map.of("FAKE_STDERR", userError, "FAKE_EXIT", "1"), sweep);
        assertEquals(1, other.status(), other.output());
        assertEquals(userError + "\n", other.output());
        assertEquals("", Files.readString(sparkHome.resolve("submit-opts")), "YARN's client logs its end at ERROR");
        // client mode: the driver here explains memory kills itself
        Finished client = run(Map.of("FAKE_STDERR", end, "FAKE_EXIT", "1"), "sweep", "--model", "demo", "--out",
                "/r/x", "--master", "yarn");
        assertEquals(end + "\n", client.output());
    }

    /**
     * What Spark 4.2's Kubernetes client logs while it waits for the driver pod (LoggingPodStatusWatcherImpl,
     * KubernetesUtils.formatPodState and containersDescription: "\n" + tabs + " key: value" per pair).
     */
    private static String podWatcherOutput(String phase, String... containers) {
        StringBuilder statuses = new StringBuilder();
        for (int i = 0; i < containers.length; i += 2) {
            statuses.append(i == 0 ? "" : "\n\n").append("%1$s container name: ").append(containers[i])
                    .append("\n%1$s container image: registry/layerscope:0.1\n%1$s container state: terminated")
                    .append("\n%1$s container started at: 2026-12-07T12:00:01Z\n%1$s container finished at: 2026-12-07T12:00:09Z")
                    .append("\n%1$s exit code: ").append(containers[i + 1]).append("\n%1$s termination reason: Error");
        }
        String inPodState = String.format(statuses.toString(), "\t\t");
        String atEnd = String.format(statuses.toString(), "\t");
        String earlier = "";
        for (String before : List.of("Pending", "Running")) {
            earlier += "26/12/07 12:00:00 INFO LoggingPodStatusWatcherImpl: State changed, new state: \n"
                    + "\t pod name: layerscope-1a2b-driver\n\t namespace: ml\n\t phase: " + before + "\n";
        }
        return earlier + "26/12/07 12:00:01 INFO LoggingPodStatusWatcherImpl: State changed, new state: \n"
                + "\t pod name: layerscope-1a2b-driver\n\t namespace: ml\n"
                + "\t labels: spark-app-name -> layerscope, spark-app-selector -> spark-0123, spark-role -> driver\n"
                + "\t pod uid: 5f0c\n\t creation time: 2026-12-07T12:00:00Z\n\t service account name: spark\n"
                + "\t volumes: data, spark-local-dir-1\n\t node name: node-1\n\t start time: 2026-12-07T12:00:00Z\n"
                + "\t phase: " + phase + "\n\t container status: \n" + inPodState + "\n"
                + "26/12/07 12:00:10 INFO LoggingPodStatusWatcherImpl: Application status for spark-0123 (phase: " + phase
                + ")\n26/12/07 12:00:10 INFO LoggingPodStatusWatcherImpl: Container final statuses:\n\n\n" + atEnd + "\n"
                + "26/12/07 12:00:10 INFO LoggingPodStatusWatcherImpl: Application layerscope with application ID spark-0123"
                + " and submission ID ml:layerscope-1a2b-driver finished";
    }

    @Test
    void aSignalToTheScriptReachesTheClientWaitingForItsDriver() throws Exception {
        for (String master : List.of("spark://head:7077", "k8s://https://api:6443")) {
            Files.deleteIfExists(sparkHome.resolve("got-term"));
            ProcessBuilder pb = new ProcessBuilder("bash", repo.resolve("submit.sh").toString(), "sweep", "--model", "demo",
                    "--out", "/r/x", "--master", master, "--deploy-mode", "cluster").directory(repo.toFile())
                    .redirectErrorStream(true);
            pb.environment().put("SPARK_HOME", sparkHome.toString());
            pb.environment().put("PATH", "/usr/bin:/bin");
            pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
            pb.environment().put("FAKE_SLEEP", "60");
            UNSET.forEach(pb.environment()::remove);
            Process p = pb.start();
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("waiting", out.readLine(), "the client started"); // its standard error, through the log's copy
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "submit.sh ended after the client did");
            assertEquals("TERM\n", Files.readString(sparkHome.resolve("got-term")), master);
            assertEquals(143, p.exitValue(), master);
        }
    }

    @Test
    void kubernetesClusterDeployModeEndsAsTheDriverPodDid() throws Exception {
        String[] sweep = {"sweep", "--model", "demo", "--out", "/r/x", "--master", "k8s://https://api:6443",
            "--deploy-mode", "cluster", "--conf", "spark.kubernetes.container.image=registry/layerscope:0.1"};
        String where = "; its output is the pod's log: kubectl logs layerscope-1a2b-driver --namespace ml\n";
        // bad input in the driver (status 2) fails the pod: Spark's client still ends 0 (SPARK-26365)
        String badInput = podWatcherOutput("Failed", "spark-kubernetes-driver", "2");
        Finished failed = run(Map.of("FAKE_STDERR", badInput), sweep);
        assertEquals(2, failed.status(), failed.output());
        assertEquals(badInput + "\nlayerscope: the driver pod layerscope-1a2b-driver ended Failed (exit code 2)" + where,
                failed.output());
        // the driver container's code, not a sidecar's listed before it
        Finished crashed = run(Map.of("FAKE_STDERR", podWatcherOutput("Failed", "istio-proxy", "0",
                "spark-kubernetes-driver", "1")), sweep);
        assertEquals(1, crashed.status(), crashed.output());
        assertTrue(crashed.output().endsWith("ended Failed (exit code 1)" + where), crashed.output());
        // Spark's code for a driver that gave up on failing executors (SparkExitCode.EXCEED_MAX_EXECUTOR_FAILURES)
        Finished gaveUp = run(Map.of("FAKE_STDERR", podWatcherOutput("Failed", "spark-kubernetes-driver", "11")), sweep);
        assertEquals(1, gaveUp.status(), gaveUp.output());
        assertTrue(gaveUp.output().endsWith("ended Failed (exit code 11)" + where + "layerscope: exit code 11 is Spark"
                + " giving up after its executors failed again and again. Executor pods killed for their memory show"
                + " in the driver's log (kubectl logs layerscope-1a2b-driver --namespace ml | grep -B3 OOMKilled): then"
                + " raise spark.executor.memoryOverhead, which libtorch's memory counts against (docs/CLUSTER.md,"
                + " executor memory).\n"), gaveUp.output());
        Finished ok = run(Map.of("FAKE_STDERR", podWatcherOutput("Succeeded", "spark-kubernetes-driver", "0")), sweep);
        assertEquals(0, ok.status(), ok.output());
        // not waiting (spark.kubernetes.submission.waitAppCompletion=false): nothing to read, Spark's status
        Finished notWaiting = run(Map.of(), sweep);
        assertEquals(0, notWaiting.status(), notWaiting.output());
        // the watcher's lines reach the script whatever the distribution's log4j configuration says
        assertEquals("\"-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties," + repo
                + "/conf/log4j2-submit-client.properties\"", Files.readString(sparkHome.resolve("submit-opts")));
        assertTrue(Files.readString(repo.resolve("conf/log4j2-submit-client.properties"))
                .contains("org.apache.spark.deploy.k8s.submit.LoggingPodStatusWatcherImpl"));
    }

    @Test
    void aClusterDriverIsToldTheCacheADriverHereWouldUse() throws Exception {
        Path home = tmp.resolve("home");
        String[] sweep = {"sweep", "--model", "meta-llama/Llama-3.2-1B", "--out", "/r/x", "--master", "yarn",
            "--deploy-mode", "cluster"};
        List<Map<String, String>> envs = List.of(Map.of(), Map.of("HF_HOME", "~/hf"), Map.of("HF_HOME", "/shared/hf/"),
                Map.of("HUGGINGFACE_HUB_CACHE", "/old/hub", "HF_HOME", "/x"),
                Map.of("HF_HUB_CACHE", "~", "HUGGINGFACE_HUB_CACHE", "/old/hub"),
                Map.of("HF_HUB_CACHE", " ", "HF_HOME", "/shared/hf"), Map.of("XDG_CACHE_HOME", "/xdg"));
        for (Map<String, String> env : envs) {
            Map<String, String> withHome = new HashMap<>(env);
            withHome.put("HOME", home.toString());
            List<String> args = fromResource(submit(withHome, sweep));
            String told = args.get(args.indexOf("--cache-dir") + 1);
            // the twin: the cache a driver here would have used, by layerscope's own rule
            Path expected = io.layerscope.model.HfCache.cacheDir(withHome, home, null).path();
            if (env.isEmpty() || env.containsKey("XDG_CACHE_HOME")) {
                expected = repo.resolve("llm_weights"); // relative to where submit.sh ran, not to this JVM
            }
            assertEquals(expected, Path.of(told).normalize(), env.toString());
        }
        // given, it stays as given (made absolute); layer gets one too; client mode's driver is here
        List<String> given = fromResource(submit(Map.of("HF_HOME", "/shared/hf"), "sweep", "--model", "demo",
                "--cache-dir=mine", "--master", "yarn", "--deploy-mode", "cluster"));
        assertEquals(1, given.stream().filter(a -> a.startsWith("--cache-dir")).count(), given.toString());
        assertTrue(given.contains("--cache-dir=" + repo + "/mine"), given.toString());
        List<String> underscore = fromResource(submit(Map.of(), "sweep", "--model", "demo", "--cache_dir", "mine",
                "--master", "yarn", "--deploy-mode", "cluster"));
        assertEquals(List.of("sweep", "--model", "demo", "--cache_dir", repo + "/mine"), underscore.subList(
                underscore.indexOf("sweep"), underscore.size()));
        List<String> layer = fromResource(submit(Map.of(), "layer", "--model", "demo", "--layer", "lm_head", "--out",
                "/r/l", "--master", "yarn", "--deploy-mode", "cluster"));
        assertEquals(List.of("--cache-dir", repo + "/llm_weights"), layer.subList(layer.size() - 2, layer.size()));
        List<String> client = fromResource(submit(Map.of(), "sweep", "--model", "demo", "--master", "yarn"));
        assertFalse(client.contains("--cache-dir"), client.toString());
    }

    /**
     * A stale jar is rebuilt with the libtorch the last build took (CUDA's, by the build's own record in
     * target/classes), or CUDA's where --device cuda asks for it; else the CPU build.
     */
    @Test
    void aStaleJarIsRebuiltWithCudaLibtorchWhereTheLastBuildHadItOrDeviceCudaAsks() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("fake-mvn"));
        Files.writeString(bin.resolve("mvn"), "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"" + tmp.resolve("mvn-args")
                + "\"\ntouch \"" + repo.resolve("target/layerscope-cluster.jar") + "\"\n");
        Files.setPosixFilePermissions(bin.resolve("mvn"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> path = Map.of("PATH", bin + ":/usr/bin:/bin");
        Path record = Files.createDirectories(repo.resolve("target/classes")).resolve("layerscope-version.properties");
        FileTime stale = FileTime.from(Instant.now().minus(2, ChronoUnit.HOURS));
        String[][] cases = {
                {"pytorch.native=pytorch-native-cpu", "", "-Pcluster"},
                {"pytorch.native=pytorch-native-cu124", "", "-Pcluster,-Pcuda"},
                {"pytorch.native=pytorch-native-cpu", "cuda:1", "-Pcluster,-Pcuda"},
                {null, "cuda", "-Pcluster,-Pcuda"},
                {null, "cpu", "-Pcluster"}};
        for (String[] c : cases) {
            if (c[0] == null) {
                Files.deleteIfExists(record);
            } else {
                Files.writeString(record, "layerscope=0.1\n" + c[0] + "\n");
            }
            Files.writeString(repo.resolve("target/layerscope-cluster.jar"), "");   // no record inside
            Files.setLastModifiedTime(repo.resolve("target/layerscope-cluster.jar"), stale);
            List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo"));
            if (!c[1].isEmpty()) {
                args.addAll(List.of("--device", c[1]));
            }
            Finished f = run(path, args.toArray(new String[0]));
            assertEquals(0, f.status(), f.output());
            List<String> profiles = Files.readAllLines(tmp.resolve("mvn-args")).stream().filter(a -> a.startsWith("-P")).toList();
            assertEquals(c[2], String.join(",", profiles), String.join(" ", c) + ": " + f.output());
            assertTrue(f.output().contains("layerscope: building the application jar (mvn package "
                    + c[2].replace(",", " ") + ", about a minute)..."), f.output());
        }
        // the jar's own record wins over the checkout's last build (a CPU `mvn test` after a -Pcuda package)
        Files.writeString(record, "pytorch.native=pytorch-native-cpu\n");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(repo.resolve("target/layerscope-cluster.jar")))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("layerscope-version.properties"));
            zip.write("layerscope=0.1\npytorch.native=pytorch-native-cu124\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        // unzip where the machine has it, else a jar tool (on PATH, in JAVA_HOME, beside java), else python3
        Path jdk = Path.of(System.getProperty("java.home"));
        Path python = Files.isExecutable(Path.of("/usr/bin/python3")) ? Path.of("/usr/bin/python3") : onPath("python3");
        Map<String, Path> noUnzip = Map.of("mvn", bin.resolve("mvn"));
        Map<String, Path> javaOnly = Map.of("mvn", bin.resolve("mvn"), "java", jdk.resolve("bin/java"));
        Map<String, Path> noJarEither = new HashMap<>(noUnzip);
        noJarEither.put("python3", python);
        List<Map<String, String>> readers = List.of(
                path,
                Map.of("PATH", bin + ":/usr/bin:/bin", "JAVA_HOME", jdk.toString()),
                Map.of("PATH", toolsWithout(noUnzip).toString(), "JAVA_HOME", jdk.toString()),
                Map.of("PATH", toolsWithout(noUnzip).toString() + ":" + jdk.resolve("bin"), "JAVA_HOME", "/nonexistent"),
                Map.of("PATH", toolsWithout(javaOnly).toString(), "JAVA_HOME", "/nonexistent"),
                Map.of("PATH", toolsWithout(noJarEither).toString(), "JAVA_HOME", "/nonexistent"));
        for (Map<String, String> env : readers) {
            Files.setLastModifiedTime(repo.resolve("target/layerscope-cluster.jar"), stale);
            Finished f = run(env, "sweep", "--model", "demo");
            assertEquals(0, f.status(), f.output());
            assertEquals(List.of("-Pcluster", "-Pcuda"),
                    Files.readAllLines(tmp.resolve("mvn-args")).stream().filter(a -> a.startsWith("-P")).toList(),
                    env + ": " + f.output());
            assertFalse(f.output().contains("warning"), f.output());
        }
        // nothing reads a zip: the last build's record, and a warning that says so
        Files.setLastModifiedTime(repo.resolve("target/layerscope-cluster.jar"), stale);
        Finished f = run(Map.of("PATH", toolsWithout(noUnzip).toString(), "JAVA_HOME", "/nonexistent"), "sweep", "--model",
                "demo");
        assertEquals(0, f.status(), f.output());
        assertEquals(List.of("-Pcluster"),
                Files.readAllLines(tmp.resolve("mvn-args")).stream().filter(a -> a.startsWith("-P")).toList());
        assertTrue(f.output().contains("layerscope: warning: nothing here reads " + repo.resolve("target/layerscope-cluster.jar")
                + " (no unzip, jar or python3) to tell which libtorch it holds; rebuilding with the last build's"
                + " (target/classes)\n"), f.output());
    }

    /**
     * A directory of links to this machine's /usr/bin without the tools that read a zip (unzip, jar,
     * java, python3), plus {@code extra} (name to program).
     */
    private Path toolsWithout(Map<String, Path> extra) throws IOException {
        Path dir = tmp.resolve("tools-" + String.join("-", new java.util.TreeSet<>(extra.keySet())));
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(dir);
        java.util.Set<String> readers = java.util.Set.of("unzip", "jar", "java", "python3", "zipinfo", "funzip");
        try (var tools = Files.list(Path.of("/usr/bin"))) {
            for (Path t : (Iterable<Path>) tools::iterator) {
                String name = t.getFileName().toString();
                if (!readers.contains(name) && !name.startsWith("python") && !extra.containsKey(name)) {
                    Files.createSymbolicLink(dir.resolve(name), t);
                }
            }
        }
        for (Map.Entry<String, Path> e : extra.entrySet()) {
            Files.createSymbolicLink(dir.resolve(e.getKey()), e.getValue());
        }
        return dir;
    }

    /** {@code name}'s program on the test JVM's PATH. */
    private static Path onPath(String name) {
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException(name + " is not on PATH");
    }

    @Test
    void yarnAndKubernetesNeedADistribution() throws Exception {
        Files.writeString(repo.resolve("pom.xml"), "<properties>\n    <spark.version>4.2.0</spark.version>\n</properties>\n");
        Files.setLastModifiedTime(repo.resolve("pom.xml"), FileTime.from(Instant.now().minus(1, ChronoUnit.HOURS)));
        for (String master : List.of("yarn", "k8s://https://api:6443")) {
            Finished f = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", "--out", "/r/x", "--master", master);
            assertEquals(2, f.status(), f.output());
            assertEquals("layerscope: --master " + master + " needs a Spark 4.2.0 distribution: spark-submit on PATH, or"
                    + " SPARK_HOME set to it (the Spark inside layerscope's jar runs local mode and standalone clusters"
                    + " only; docs/CLUSTER.md).\n", f.output());
            assertFalse(Files.exists(tmp.resolve("bin/arguments")), "no JVM started");
        }
        // listings need no Spark: they run as they did
        assertEquals(0, runWithoutDistribution(Map.of(), "", "list-layers", "--model", "demo", "--master", "yarn")
                .status());
        // no pom.xml beside the script (a copy of the launch files): the message without a version
        Files.delete(repo.resolve("pom.xml"));
        Finished noPom = runWithoutDistribution(Map.of(), "", "sweep", "--model", "demo", "--master", "yarn");
        assertEquals(2, noPom.status(), noPom.output());
        assertTrue(noPom.output().startsWith("layerscope: --master yarn needs a Spark distribution: "), noPom.output());
        Files.writeString(repo.resolve("pom.xml"), "");
        Files.setLastModifiedTime(repo.resolve("pom.xml"), FileTime.from(Instant.now().minus(1, ChronoUnit.HOURS)));
        // with one, spark-submit gets them
        assertEquals("yarn", submit("sweep", "--model", "demo", "--out", "/r/x", "--master", "yarn").get(1));
    }

    @Test
    void standalonesClusterDeployModeStartsTheDriverFromAFile() throws Exception {
        String[] sweep = {"sweep", "--model", "demo", "--master", "spark://head:7077", "--deploy-mode", "cluster"};
        List<String> local = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local"), sweep);
        assertEquals(List.of("--deploy-mode", "cluster", repo + "/target/layerscope-cluster.jar", "sweep", "--model",
                "demo", "--cache-dir", repo + "/llm_weights"), fromResource(local));
        List<String> elsewhere = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local:/opt/ls/layerscope.jar"), sweep);
        assertEquals("/opt/ls/layerscope.jar", fromResource(elsewhere).get(4));
        // YARN and Kubernetes read local: themselves
        List<String> k8s = submit(Map.of("LAYERSCOPE_EXECUTOR_JAR", "local:/opt/ls/layerscope.jar"), "sweep", "--model",
                "demo", "--master", "k8s://https://api:6443", "--deploy-mode", "cluster");
        assertEquals("local:/opt/ls/layerscope.jar", fromResource(k8s).get(4));
        Files.delete(sparkHome.resolve("arguments"));
        Finished query = run(Map.of(), "query", "--results", "/r/x", "SELECT 1", "--master", "spark://head:7077",
                "--deploy-mode", "cluster");
        assertEquals(2, query.status(), query.output());
        assertEquals("layerscope: query prints its results where its driver runs, so it runs in client mode: leave out"
                + " --deploy-mode cluster (its Spark jobs still run on the cluster's executors).\n", query.output());
        Finished layer = run(Map.of(), "layer", "--model", "demo", "--layer", "model.layers.0.mlp.down_proj", "--master",
                "spark://head:7077", "--deploy-mode", "cluster");
        assertEquals(2, layer.status(), layer.output());
        assertEquals("layerscope: layer without --out prints its statistics and writes its picture where its driver runs,"
                + " on a node of the cluster in cluster deploy mode: give --out (a directory on storage that node reaches),"
                + " or leave out --deploy-mode cluster.\n", layer.output());
        assertFalse(Files.exists(sparkHome.resolve("arguments")), "spark-submit did not run");
        Finished none = run(Map.of("LAYERSCOPE_EXECUTOR_JAR", "none"), sweep);
        assertEquals(2, none.status(), none.output());
        assertEquals("layerscope: LAYERSCOPE_EXECUTOR_JAR=none needs --deploy-mode client on a standalone cluster: in"
                + " cluster deploy mode a Worker starts the driver from a jar it copies. Use LAYERSCOPE_EXECUTOR_JAR=local"
                + " (this jar's path on every node) or a URI such as hdfs://HOST/PATH.\n", none.output());
        assertFalse(Files.exists(sparkHome.resolve("arguments")), "spark-submit did not run");
        // the driver's Java options decided here are for a driver here: one on the cluster has the conf's
        assertFalse(local.contains("--driver-java-options"), local.toString());
        // with --out, layer runs there too, its --out made absolute
        List<String> layerOut = submit(Map.of(), "layer", "--model", "demo", "--layer", "model.layers.0.mlp.down_proj",
                "--out=results/l", "--master", "spark://head:7077", "--deploy-mode", "cluster");
        assertEquals("--out=" + repo + "/results/l", fromResource(layerOut).get(8));
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
