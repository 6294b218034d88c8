package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Executors killed by YARN or Kubernetes for their memory, as Spark 4.2 words it, told as what to change. */
class ContainerMemoryLimitTest {
    private static final String ADVICE = ": libtorch's memory lies outside the Java heap and counts against"
            + " spark.executor.memoryOverhead, whose default (10% of --executor-memory, at least 384m) is far below"
            + " what a sweep needs, about 1.5g per executor core (2.5-4g in --mode sequential; docs/CLUSTER.md,"
            + " executor memory). Raise it, e.g. --conf spark.executor.memoryOverhead=12g for executors of 8 cores";

    /** The job failure Spark's DAGScheduler reports when a lost executor's task has failed too often. */
    private static Exception jobAborted(String reason) {
        return new Exception("Job aborted due to stage failure: Task 1 in stage 1.0 failed 4 times, most recent"
                + " failure: Lost task 1.3 in stage 1.0 (TID 9) (node-2 executor 3): ExecutorLostFailure (executor 3"
                + " exited caused by one of the running tasks) Reason: " + reason + "\nDriver stacktrace:");
    }

    @Test
    void yarnsPhysicalMemoryLimit() {
        Exception spark = jobAborted("Container killed by YARN for exceeding physical memory limits. 1.5 GB of"
                + " 1.4 GB physical memory used. Consider boosting spark.executor.memoryOverhead.");
        RuntimeException wrapped = new RuntimeException("stage one", spark);
        LayerscopeException e = ContainerMemoryLimit.explain(wrapped);
        assertEquals("YARN killed executors for exceeding their containers' physical memory (1.5 GB of 1.4 GB"
                + " physical memory used)" + ADVICE, e.getMessage());
        assertSame(wrapped, e.getCause());
        // the figures are YARN's diagnostics, which may be missing
        assertEquals("YARN killed executors for exceeding their containers' physical memory" + ADVICE,
                ContainerMemoryLimit.explain(jobAborted("Container killed by YARN for exceeding physical memory"
                        + " limits. Consider boosting spark.executor.memoryOverhead.")).getMessage());
    }

    @Test
    void yarnsVirtualMemoryLimitAlsoNamesTheCheck() {
        LayerscopeException e = ContainerMemoryLimit.explain(jobAborted("Container killed by YARN for exceeding"
                + " virtual memory limits. 4.4 GB of 2.9 GB virtual memory used. Consider boosting"
                + " spark.executor.memoryOverhead or boosting yarn.nodemanager.vmem-pmem-ratio or disabling"
                + " yarn.nodemanager.vmem-check-enabled because of YARN-4714."));
        assertEquals("YARN killed executors for exceeding their containers' virtual memory (4.4 GB of 2.9 GB virtual"
                + " memory used)" + ADVICE + "; or have the cluster's administrator disable"
                + " yarn.nodemanager.vmem-check-enabled (YARN-4714: a JVM reserves far more virtual memory than it"
                + " uses)", e.getMessage());
    }

    @Test
    void kubernetesOomKilledPods() {
        // ExecutorPodsLifecycleManager's reason, the pod's container statuses as KubernetesUtils formats them
        String reason = "\nThe executor with id 3 exited with exit code 137(SIGKILL, possible container OOM).\n"
                + "The API gave the following brief reason: null\nThe API gave the following message: null\n"
                + "The API gave the following container statuses:\n\n\n\t container name: spark-kubernetes-executor\n"
                + "\t container image: registry/layerscope:0.1\n\t container state: terminated\n"
                + "\t container started at: 2026-12-07T12:00:01Z\n\t container finished at: 2026-12-07T12:03:09Z\n"
                + "\t exit code: 137\n\t termination reason: OOMKilled\n      ";
        assertEquals("Kubernetes killed executor pods for exceeding their memory limit (OOMKilled)" + ADVICE,
                ContainerMemoryLimit.explain(jobAborted(reason)).getMessage());
        // SIGKILL alone (an eviction, a user's kubectl delete) is not known to be memory
        assertNull(ContainerMemoryLimit.explain(jobAborted(reason.replace("OOMKilled", "Error"))));
    }

    /** What a job waiting on the DAGScheduler gets when the context stops under it (Spark 4.2). */
    private static final String CONTEXT_SHUT_DOWN = "Job 3 cancelled because SparkContext was shut down";
    private static final String YARN_LOSS = "Container killed by YARN for exceeding physical memory limits. 1.1 GB"
            + " of 1 GB physical memory used. Consider boosting spark.executor.memoryOverhead.";

    @AfterEach
    void forgetLosses() {
        Setbacks.clear();
    }

    /**
     * A sweep whose wait on Spark was cut short because the context stopped (the wait interrupted, no
     * "shut down" in any message) still tells the memory kills before it, else that the context stopped.
     */
    @Test
    void aSweepInterruptedByTheStopStillTellsTheMemoryKills() {
        org.apache.spark.sql.SparkSession spark = SparkSessions.getOrCreate("test");
        String master = spark.sparkContext().master();
        Exception interrupted = new IllegalStateException("interrupted while waiting for stage two",
                new InterruptedException());
        assertEquals("Spark stopped its context while the job ran with --master " + master + "; check --master and"
                + " the --conf settings", SweepJob.stopped(spark, interrupted, false).getMessage());
        assertEquals("Spark stopped before the job could run with --master " + master + "; check --master and the"
                + " --conf settings", SweepJob.stopped(spark, interrupted, true).getMessage());
        Setbacks.record(YARN_LOSS);
        LayerscopeException e = SweepJob.stopped(spark, interrupted, false);
        assertEquals("Spark stopped after losing executors (memory kills: 1): YARN killed executors for"
                + " exceeding their containers' physical memory (1.1 GB of 1 GB physical memory used)" + ADVICE,
                e.getMessage());
        assertSame(interrupted, e.getCause());
    }

    @Test
    void executorsKilledBetweenTasksExplainAStoppedContext() {
        // killed while idle, they failed no task: the job only says the context stopped once Spark gave up
        Setbacks.record("Container marked as failed: container_1_0001_01_000002 on host: node-2. Exit status:"
                + " 143. Diagnostics: Container killed on request. Exit code is 143");
        Setbacks.record(YARN_LOSS);
        Setbacks.record("Executor heartbeat timed out after 120000 ms");
        RuntimeException wrapped = new RuntimeException("stage two", new Exception(CONTEXT_SHUT_DOWN));
        LayerscopeException e = ContainerMemoryLimit.explain(wrapped);
        assertEquals("Spark stopped after losing executors (memory kills: 1): YARN killed executors for"
                + " exceeding their containers' physical memory (1.1 GB of 1 GB physical memory used)" + ADVICE,
                e.getMessage());
        assertSame(wrapped, e.getCause());
        // a job submitted after the context stopped
        assertEquals(e.getMessage(), ContainerMemoryLimit.explain(new IllegalStateException(
                "Cannot call methods on a stopped SparkContext.\nThis stopped SparkContext was created at:")).getMessage());
    }

    @Test
    void theLatestMemoryLossIsTheOneTold() {
        Setbacks.record(YARN_LOSS);
        Setbacks.record(YARN_LOSS.replace("physical", "virtual").replace("1.1 GB of 1 GB", "4.4 GB of 2.1 GB"));
        String told = ContainerMemoryLimit.explain(new Exception(CONTEXT_SHUT_DOWN)).getMessage();
        assertTrue(told.startsWith("Spark stopped after losing executors (memory kills: 2): YARN killed"
                + " executors for exceeding their containers' virtual memory (4.4 GB of 2.1 GB virtual memory used)"), told);
    }

    @Test
    void lossesAreNotTheReasonForOtherFailures() {
        Setbacks.record(YARN_LOSS);
        // Spark replaced the executor and the job went on to fail for a reason of its own
        assertNull(ContainerMemoryLimit.explain(new Exception("Job aborted due to stage failure: Task 0 in stage 4.0"
                + " failed 4 times, most recent failure: java.lang.ArithmeticException: / by zero")));
        Setbacks.clear();
        Setbacks.record("Command exited with code 137");   // not known to be memory
        assertNull(ContainerMemoryLimit.explain(new Exception(CONTEXT_SHUT_DOWN)));
    }

    /** YARN kills the remaining containers once Spark gives up: those losses must not hide the memory kill. */
    @Test
    void aMemoryKillIsToldWhateverLossesFollowIt() {
        Setbacks.record(YARN_LOSS);
        for (int i = 0; i < 100; i++) {
            Setbacks.record("Container from a bad node: container_1_0001_01_0000" + i + " on host: node-" + i
                    + ". Exit status: 137. Diagnostics: Container killed on request. Exit code is 137");
        }
        assertTrue(ContainerMemoryLimit.explain(new Exception(CONTEXT_SHUT_DOWN)).getMessage().startsWith(
                "Spark stopped after losing executors (memory kills: 1): YARN killed executors"));
    }

    @Test
    void otherFailuresAreNotThisOne() {
        assertNull(ContainerMemoryLimit.explain(jobAborted("Container marked as failed: container_1_0001_01_000002 on"
                + " host: node-2. Exit status: 143. Diagnostics: Container killed on request. Exit code is 143")));
        assertNull(ContainerMemoryLimit.explain(new Exception((String) null)));
    }
}
