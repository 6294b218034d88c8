package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.cluster.ExecutorInfo;
import org.junit.jupiter.api.Test;

class ExecutorLossesTest {
    private static SparkListenerExecutorAdded added(String id, String host) {
        return new SparkListenerExecutorAdded(0L, id, new ExecutorInfo(host, 1,
                scala.collection.immutable.Map$.MODULE$.empty()));
    }

    @Test
    void aJobGetsTheExecutorsLostSinceItStartedWithTheirHosts() {
        ExecutorLosses.Mark beforeTheContext = ExecutorLosses.mark();
        ExecutorLosses listener = new ExecutorLosses();   // as Spark makes it with a context
        listener.onExecutorAdded(added("0", "node-1"));
        listener.onExecutorAdded(added("1", "node-2"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "0", "Command exited with code 137"));
        ExecutorLosses.Mark second = ExecutorLosses.mark();   // a second job in the same context
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "1", "worker lost"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "7", "never seen added"));
        // dynamic allocation releasing an idle executor is no loss
        listener.onExecutorAdded(added("2", "node-3"));
        listener.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, "2", "Executor killed by driver."));

        assertEquals(List.of("executor 0 on node-1: Command exited with code 137", "executor 1 on node-2: worker lost",
                "executor 7: never seen added"), ExecutorLosses.since(beforeTheContext));
        assertEquals(List.of("executor 1 on node-2: worker lost", "executor 7: never seen added"),
                ExecutorLosses.since(second));
        ExecutorLosses next = new ExecutorLosses();   // the next context starts afresh; a mark from the last sees only its losses
        assertEquals(List.of(), ExecutorLosses.since(second));
        next.onApplicationEnd(new SparkListenerApplicationEnd(0L, scala.Option.empty()));   // no context left waiting on (other tests wait else)
    }
}
