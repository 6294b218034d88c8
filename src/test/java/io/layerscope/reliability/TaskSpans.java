package io.layerscope.reliability;

import io.layerscope.spark.SweepHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * A sweep hook that appends each task's span on its executor's own clock (stage, executor, start and
 * end in nanoseconds) to the file named by {@value #CONF}: which tasks really ran at once, as the
 * driver's events cannot tell (a freed slot gets its next task before the driver has taken the result).
 */
public final class TaskSpans implements SweepHook {
    static final String CONF = "spark.layerscope.test.taskSpans";

    @Override
    public void taskStarts(String stage) {
        long start = System.nanoTime();
        Path file = Path.of(SparkEnv.get().conf().get(CONF));
        String executor = SparkEnv.get().executorId();
        TaskContext.get().addTaskCompletionListener(ctx -> {
            append(file, stage + " " + executor + " " + start + " " + System.nanoTime() + "\n");
        });
    }

    /** Appends {@code line} to {@code file} (the tasks of one executor JVM and of others may write it at once). */
    static void append(Path file, String line) {
        try {
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The most tasks of {@code stage} that ran at once on one executor, from the spans in {@code file}. */
    static int most(Path file, String stage) throws IOException {
        List<String[]> spans = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(" ");
            if (f[0].equals(stage)) {
                spans.add(f);
            }
        }
        int most = 0;
        for (String[] a : spans) {
            long at = Long.parseLong(a[2]);
            int running = (int) spans.stream().filter(b -> b[1].equals(a[1]) && Long.parseLong(b[2]) <= at
                    && Long.parseLong(b[3]) > at).count();
            most = Math.max(most, running);
        }
        return most;
    }
}
