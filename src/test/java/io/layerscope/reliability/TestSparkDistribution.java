package io.layerscope.reliability;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What {@code submit.sh} runs against in the cluster tests: a copy of its launch files beside the
 * application jar the build made (so it never rebuilds), and optionally a Spark distribution as far
 * as submit.sh and Spark's launcher see one. The distribution's {@code bin/spark-submit} builds its
 * command with Spark's own launcher ({@code conf/} on the class path, {@code SPARK_SUBMIT_OPTS} parsed
 * as Spark parses them) and runs it; {@code jars/} links the test class path's libraries (Spark,
 * Spark's YARN client, Hadoop's client), which YARN's containers take from it too.
 */
final class TestSparkDistribution {
    /** Libraries of the test class path that a Spark distribution does not hold. */
    private static final Pattern NOT_SPARK = Pattern.compile(
            ".*/(hadoop-client-minicluster|bcprov|bcpkix|bcutil|junit|opentest4j|apiguardian|json-schema-validator|itu)-[^/]*\\.jar");

    private TestSparkDistribution() {
    }

    /**
     * submit.sh, conf/ and the built jar in {@code dir/repo}, the sources older than the jar; the jar
     * also under the name submit.sh gives it with a Spark distribution (the one with Spark inside
     * serves there too).
     */
    static Path launchFiles(Path dir) throws IOException {
        Path source = ChildJvm.repo();
        Path repo = Files.createDirectories(dir.resolve("repo"));
        for (String f : List.of("submit.sh", "conf/spark-defaults.conf", "conf/log4j2.properties",
                "conf/log4j2-submit-client.properties", "conf/gpu/spark-gpu.conf", "conf/gpu/discover-gpus.sh",
                "scripts/build-mkl-shim.sh")) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.copy(source.resolve(f), repo.resolve(f));
        }
        Path jar = source.resolve("target/layerscope.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException("the application jar (mvn package) is needed: " + jar);
        }
        Files.createDirectories(repo.resolve("target"));
        Files.createSymbolicLink(repo.resolve("target/layerscope.jar"), jar);
        Files.createSymbolicLink(repo.resolve("target/layerscope-cluster.jar"), jar);
        Files.createDirectories(repo.resolve("src/main"));
        Files.writeString(repo.resolve("pom.xml"), "");
        FileTime older = FileTime.from(Files.getLastModifiedTime(jar).toInstant().minus(1, ChronoUnit.HOURS));
        Files.setLastModifiedTime(repo.resolve("src/main"), older);
        Files.setLastModifiedTime(repo.resolve("pom.xml"), older);
        return repo;
    }

    /**
     * A distribution in {@code dir/dist}; {@code log4j} (null: none) becomes its
     * conf/log4j2.properties. Returns its SPARK_HOME.
     */
    static Path create(Path dir, String log4j) throws IOException {
        Path home = Files.createDirectories(dir.resolve("dist"));
        Files.writeString(home.resolve("RELEASE"), "Spark from layerscope's test class path\n");
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String entry : ChildJvm.classpath().split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.endsWith(".jar") && !NOT_SPARK.matcher(entry).matches() && Files.isRegularFile(p)) {
                try {
                    Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
                } catch (FileAlreadyExistsException e) {
                    // one name from two places (classifiers aside, none here): the first wins, as in a class path
                }
            }
        }
        Path conf = Files.createDirectories(home.resolve("conf"));
        if (log4j != null) {
            Files.writeString(conf.resolve("log4j2.properties"), log4j);
        }
        Path submit = Files.createDirectories(home.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, """
                #!/usr/bin/env bash
                # bin/spark-submit and bin/spark-class in short: Spark's launcher prints a NUL and a newline,
                # then the command, each argument ended by a NUL
                set -e
                export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"
                export SPARK_SCALA_VERSION=2.13
                launched="$(mktemp)"
                java -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@" \\
                    > "$launched"
                mapfile -d '' cmd < "$launched"
                rm -f "$launched"
                cmd=("${cmd[@]:1}")
                cmd[0]="${cmd[0]#$'\\n'}"
                exec "${cmd[@]}"
                """);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    /** How {@link #submit} ended: its status and its standard output and error together. */
    record Finished(int status, String output) {
    }

    /**
     * Runs {@code repo/submit.sh} in {@code cwd} with {@code env} added (SPARK_HOME there selects a
     * distribution; without it none is found), no class-data archive and no MKL shim.
     */
    static Finished submit(Path repo, Path cwd, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("submit.sh").toString()));
        cmd.addAll(List.of(args));
        // output to a file, so that a run that hangs is stopped at the timeout instead of blocking a read
        Path output = Files.createTempFile("submit-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        for (String name : List.of("SPARK_HOME", "SPARK_CONF_DIR", "SPARK_SUBMIT_OPTS", "HADOOP_CONF_DIR",
                "YARN_CONF_DIR", "LAYERSCOPE_EXECUTOR_JAR", "LAYERSCOPE_CLASSPATH", "LAYERSCOPE_MAIN_CLASS")) {
            pb.environment().remove(name);
        }
        pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
        pb.environment().put("LAYERSCOPE_CDS", "off");
        pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                ChildJvm.stop(p.toHandle(), 5_000);
                throw new IllegalStateException("submit.sh did not finish in 300 s:\n" + Files.readString(output));
            }
            return new Finished(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
