package io.layerscope.reliability;

import io.layerscope.llama.IntraOpThreads;
import io.layerscope.spark.SweepHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.spark.SparkEnv;

/**
 * A sweep hook that appends, for each Gram pass task and per-layer task, the stage and the libtorch
 * intra-op threads of the task's thread as the task starts its work to the file named by
 * {@value #CONF}. (Calibration tasks are left out: their hook runs before the engine is loaded.)
 */
public final class LibtorchThreadCounts implements SweepHook {
    static final String CONF = "spark.layerscope.test.threadCounts";

    @Override
    public void taskStarts(String stage) {
        if (!stage.equals("gram") && !stage.equals("layer")) {
            return;
        }
        String line = stage + " " + IntraOpThreads.current() + "\n";
        try {
            Files.writeString(Path.of(SparkEnv.get().conf().get(CONF)), line, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
