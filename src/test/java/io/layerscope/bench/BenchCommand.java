package io.layerscope.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The steps of {@code jobs/bench} that run in a JVM (prepare the workload, measure the forward,
 * measure stage-one scaling, print the report). Test code, not in the application jar: the script
 * runs it through {@code submit.sh} with the test classes on the class path, so it gets the JVM and
 * Spark settings a sweep gets.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark steps used by jobs/bench (prepare, forward, matmul, depth, scaling, report).",
        subcommands = {BenchCommand.Prepare.class, BenchCommand.Forward.class, BenchCommand.Matmul.class,
            BenchCommand.Depth.class, BenchCommand.Scaling.class, BenchCommand.Report.class})
public final class BenchCommand implements Runnable {
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "Missing step: prepare, forward, matmul, depth, scaling or report");
    }

    static void writeJson(Path file, ObjectNode node) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Command(name = "prepare", description = "Write the mid-size model, calibration shard and windows into --work.")
    static final class Prepare implements Callable<Integer> {
        @Option(names = "--work", required = true) Path work;
        @Option(names = "--tokenizer", required = true, description = "Directory with Llama 3's tokenizer.json.") Path tokenizer;

        @Option(names = "--llama-1b", description = "Also the Llama-3.2-1B-shaped model (2.47 GB of random bf16 weights).")
        boolean llama1b;

        @Option(names = "--c4-sized", description = "Also a synthetic calibration shard of C4 shard 0's size (285 MB gzip).")
        boolean c4Sized;

        @Override
        public Integer call() {
            BenchWorkload w = new BenchWorkload(work);
            w.prepare(tokenizer, System.err);
            if (llama1b) {
                w.prepareLlama1b(tokenizer, System.err);
            }
            if (c4Sized) {
                w.prepareC4Sized(System.err);
            }
            return 0;
        }
    }

    @Command(name = "forward", description = "Measurement (1): the forward with taps in this JVM, no Spark.")
    static final class Forward implements Callable<Integer> {
        @Option(names = "--work", required = true) Path work;
        @Option(names = "--out", required = true) Path out;
        @Option(names = "--threads", defaultValue = "2", description = "Cores to use.") int threads;
        @Option(names = "--workers", defaultValue = "1",
                description = "Sequences forwarded at once, each with threads/workers libtorch threads.") int workers;
        @Option(names = "--repeat", defaultValue = "3") int repeat;
        @Option(names = "--batch-size", defaultValue = "1") int batchSize;

        @Override
        public Integer call() {
            writeJson(out, ForwardThroughput.measure(new BenchWorkload(work), threads, workers, repeat, batchSize,
                    System.err));
            return 0;
        }
    }

    @Command(name = "matmul", description = "The forward's matrix products alone (one block's, float32), in libtorch.")
    static final class Matmul implements Callable<Integer> {
        @Option(names = "--work", required = true) Path work;
        @Option(names = "--out", required = true) Path out;
        @Option(names = "--threads", defaultValue = "2", description = "Cores to use.") int threads;
        @Option(names = "--repeat", defaultValue = "3") int repeat;

        @Override
        public Integer call() {
            writeJson(out, MatrixProducts.measure(new BenchWorkload(work), threads, repeat, System.err));
            return 0;
        }
    }

    @Command(name = "depth", description = "Stage one's forward without and with the depth statistics, alternating rounds.")
    static final class Depth implements Callable<Integer> {
        @Option(names = "--work", required = true) Path work;
        @Option(names = "--out", required = true) Path out;
        @Option(names = "--threads", defaultValue = "2", description = "libtorch threads.") int threads;
        @Option(names = "--rounds", defaultValue = "5") int rounds;
        @Option(names = "--llama-1b", description = "The Llama-3.2-1B-shaped model (bench prepare --llama-1b) instead of the mid-size one.")
        boolean llama1b;
        @Option(names = "--samples", description = "The first this many calibration windows (default: all).") Integer samples;

        @Override
        public Integer call() {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            BenchWorkload w = new BenchWorkload(work);
            List<int[]> windows = w.windows();
            if (samples != null) {
                windows = windows.subList(0, Math.min(samples, windows.size()));
            }
            writeJson(out, DepthOverhead.measure(llama1b ? w.llama1bDir() : w.modelDir(), windows, rounds, System.err));
            return 0;
        }
    }

    @Command(name = "scaling", description = "Stage one alone over local masters and shard counts.")
    static final class Scaling implements Callable<Integer> {
        @Option(names = "--work", required = true) Path work;
        @Option(names = "--out", required = true) Path out;
        @Option(names = "--masters", defaultValue = "local[1],local[2]") String masters;
        @Option(names = "--shards", defaultValue = "1,2,4") String shards;
        @Option(names = "--repeat", defaultValue = "3") int repeat;

        @Override
        public Integer call() {
            List<Integer> counts = Arrays.stream(shards.split(",")).map(String::trim).map(Integer::parseInt).toList();
            writeJson(out, StageOneScaling.measure(new BenchWorkload(work), List.of(masters.split(",")), counts, repeat,
                    System.err));
            return 0;
        }
    }

    @Command(name = "report", description = "Print the Performance tables from a jobs/bench results directory.")
    static final class Report implements Callable<Integer> {
        @Option(names = "--results", required = true) Path results;
        @Option(names = "--machine", defaultValue = "this machine") String machine;
        @Option(names = "--date") String date;

        @Override
        public Integer call() {
            System.out.print(new BenchReport(results).render(date != null ? date : LocalDate.now().toString(), machine));
            return 0;
        }
    }
}
