package io.layerscope.reliability;

import io.layerscope.spark.SweepHook;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import scala.Option;

/**
 * A sweep hook that appends what Spark gave each task (stage, cores, GPU addresses) to the file named
 * by {@value #CONF} (a local property of the submitting thread, else the Spark conf), as the task
 * starts: what its resource profile got from the scheduler.
 */
public final class TaskResources implements SweepHook {
    static final String CONF = "spark.layerscope.test.taskResources";

    @Override
    public void taskStarts(String stage) {
        TaskContext tc = TaskContext.get();
        Option<ResourceInformation> gpu = tc.resources().get("gpu");
        String line = stage + " cpus=" + tc.cpus() + " gpu=" + (gpu.isDefined() ? Arrays.toString(gpu.get().addresses()) : "none")
                + "\n";
        String file = tc.getLocalProperty(CONF);   // a job's own file, else the session's
        TaskSpans.append(Path.of(file != null ? file : SparkEnv.get().conf().get(CONF)), line);
    }
}
