package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.Success$;
import org.apache.spark.TaskEndReason;
import org.apache.spark.TaskKilled;
import org.apache.spark.TaskResultLost$;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.scheduler.TaskLocality;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.cluster.ExecutorInfo;
import org.junit.jupiter.api.Test;

class SetbacksTest {
    private static SparkListenerExecutorAdded added(String id, String host) {
        return new SparkListenerExecutorAdded(0L, id, new ExecutorInfo(host, 1,
                scala.collection.immutable.Map$.MODULE$.empty()));
    }

    @Test
    void aJobGetsTheExecutorsLostSinceItStartedWithTheirHosts() {
        Setbacks.Mark beforeTheContext = Setbacks.mark();
        Setbacks listener = new Setbacks();   // as Spark makes it with a context
        listener.onExecutorAdded(added("0", "node-1"));
        listener.onExecutorAdded(added("1", "node-2"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "0", "Command exited with code 137"));
        Setbacks.Mark second = Setbacks.mark();   // a second job in the same context
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "1", "worker lost"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "7", "never seen added"));
        // dynamic allocation releasing an idle executor is no loss
        listener.onExecutorAdded(added("2", "node-3"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "2", "Executor killed by driver."));

        assertEquals(List.of("executor 0 on node-1: Command exited with code 137", "executor 1 on node-2: worker lost",
                "executor 7: never seen added"), Setbacks.lostSince(beforeTheContext));
        assertEquals(List.of("executor 1 on node-2: worker lost", "executor 7: never seen added"),
                Setbacks.lostSince(second));
        Setbacks next = new Setbacks();   // the next context starts afresh; a mark from the last sees only its losses
        assertEquals(List.of(), Setbacks.lostSince(second));
        next.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));   // no context left waiting on (other tests wait else)
    }

    /**
     * Executors that exit before they register, ten in a row while none runs, make the job's failure say
     * so; one that registers starts the count again, and losses while one runs are not counted.
     */
    @Test
    void tenExecutorsInARowExitingBeforeTheyRegisterAreTheJobsFailure() {
        Setbacks listener = new Setbacks();
        for (int e = 0; e < 9; e++) {
            listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting());
        listener.onExecutorAdded(added("9", "node-1"));
        for (int e = 10; e < 20; e++) {
            listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting(), "one runs");
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "9", "worker lost"));
        // Spark may post a registered executor's removal twice, and a start failure's: neither counts again
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "9", "worker lost"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "9", "worker lost"));
        for (int e = 20; e < 29; e++) {
            listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        for (int e = 20; e < 29; e++) {
            listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting(), "nine since the last ran");
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "29", "Command exited with code 1"));
        // the application is the running context's (another test's, in this JVM), or unnamed without one
        String said = Setbacks.executorsNotStarting().orElseThrow();
        assertTrue(said.matches(java.util.regex.Pattern.quote("executors keep exiting before they register with the"
                + " driver (10 in a row, none running; the last: executor 29: Command exited with code 1): the stderr of"
                + " one, in a Worker's work directory (work/") + "(<application>|[\\w-]+)" + java.util.regex.Pattern.quote(
                "/<executor>/stderr on a standalone cluster), says why; the usual causes are a bad"
                + " spark.executor.extraJavaOptions, an --executor-memory or --executor-cores the machines cannot give,"
                + " and a Java or Spark the Workers lack (spark.layerscope.executorStartFailures sets how many in a row"
                + " end the job; 0: never)")), said);
        assertEquals(1, Setbacks.registered());
        Setbacks next = new Setbacks();
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting(), "the next context starts afresh");
        next.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));
        // YARN and Kubernetes remove containers that never registered for reasons of their own, and limit failures themselves
        Setbacks yarn = new Setbacks(new org.apache.spark.SparkConf(false).set("spark.master", "yarn"));
        for (int e = 0; e < 20; e++) {
            yarn.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Container preempted"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting(), "not on YARN");
        yarn.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));
        assertEquals(-1, Setbacks.registered(), "no context with the listener");
    }

    /** spark.layerscope.executorStartFailures sets the count that ends the jobs; 0 never does; a bad value is refused. */
    @Test
    void theStartFailuresThatEndTheJobsAreASetting() {
        Setbacks three = new Setbacks(standalone("3"));
        for (int e = 0; e < 2; e++) {
            three.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting());
        three.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "2", "Command exited with code 1"));
        assertTrue(Setbacks.executorsNotStarting().orElseThrow().startsWith("executors keep exiting before they register"
                + " with the driver (3 in a row, none running; the last: executor 2: Command exited with code 1)"));
        // past the limit each failure ends the jobs again (one submitted since the last cancellation would wait)
        assertEquals(1, Setbacks.cancellations());
        three.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "3", "Command exited with code 1"));
        assertEquals(2, Setbacks.cancellations());
        assertTrue(Setbacks.executorsNotStarting().orElseThrow().contains("(3 in a row, none running; the last: executor 2:"),
                "said as when the limit was reached");
        three.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));

        Setbacks never = new Setbacks(standalone("0"));
        for (int e = 0; e < 50; e++) {
            never.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "" + e, "Command exited with code 1"));
        }
        assertEquals(java.util.Optional.empty(), Setbacks.executorsNotStarting(), "0: never");
        never.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));

        for (String bad : new String[] {"-1", "ten", ""}) {
            assertEquals("spark.layerscope.executorStartFailures=" + bad + " is not a number of executors; use a whole"
                    + " number (0: never cancel the jobs; 10 by default)", assertThrows(io.layerscope.LayerscopeException.class,
                    () -> Setbacks.startFailureLimit(standalone(bad))).getMessage());
        }
        assertEquals(10, Setbacks.startFailureLimit(new org.apache.spark.SparkConf(false)));
    }

    private static org.apache.spark.SparkConf standalone(String startFailures) {
        return new org.apache.spark.SparkConf(false).set("spark.master", "spark://m:7077")
                .set("spark.layerscope.executorStartFailures", startFailures);
    }

    private static SparkListenerTaskEnd ended(int stage, int index, int attempt, String executor, TaskEndReason reason) {
        TaskInfo info = new TaskInfo(0L, index, attempt, index, 0L, executor, "node-1", TaskLocality.PROCESS_LOCAL(), false);
        return new SparkListenerTaskEnd(stage, 0, "ResultTask", reason, info, null, null);
    }

    @Test
    void aJobGetsItsFailedTaskAttemptsButNotTheKilledOnes() {
        Setbacks listener = new Setbacks();
        listener.onTaskEnd(ended(1, 0, 0, "0", TaskResultLost$.MODULE$));
        Setbacks.Mark second = Setbacks.mark();
        listener.onTaskEnd(ended(2, 3, 0, "1", new ExecutorLostFailure("1", true, scala.Option.apply("Command exited with code 137"))));
        listener.onTaskEnd(ended(2, 3, 1, "0", Success$.MODULE$));
        // the other attempt of a task that succeeded
        listener.onTaskEnd(ended(2, 3, 0, "0", new TaskKilled("another attempt succeeded",
                scala.collection.immutable.List$.MODULE$.empty(), scala.collection.immutable.List$.MODULE$.empty(),
                scala.collection.immutable.List$.MODULE$.empty())));
        String lost = "stage 2 task 3 attempt 0 on executor 1: " + new ExecutorLostFailure("1", true,
                scala.Option.apply("Command exited with code 137")).toErrorString();
        assertEquals(List.of("stage 1 task 0 attempt 0 on executor 0: TaskResultLost (result lost from block manager)", lost),
                Setbacks.failedSince(new Setbacks.Mark(second.context(), 0, 0)));
        assertEquals(List.of(lost), Setbacks.failedSince(second));
        assertEquals(List.of(), Setbacks.lostSince(second));
        listener.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));
    }
}
