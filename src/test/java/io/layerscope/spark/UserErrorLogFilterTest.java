package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.LayerscopeException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Filter.Result;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

/** Which of Spark's log events the command line's own one-paragraph error makes redundant. */
class UserErrorLogFilterTest {
    /** A filter as log4j makes one (its constructor is private: install() adds the one in use). */
    private static UserErrorLogFilter newFilter() throws Exception {
        var f = UserErrorLogFilter.class.getDeclaredConstructor();
        f.setAccessible(true);
        return f.newInstance();
    }

    private static LogEvent event(String logger, String message, Throwable thrown) {
        return Log4jLogEvent.newBuilder().setLoggerName(logger).setLevel(Level.WARN)
                .setMessage(new SimpleMessage(message)).setThrown(thrown).build();
    }

    @Test
    void dropsWhatTheCommandReportsAndKeepsTheRest() throws Exception {
        UserErrorLogFilter filter = newFilter();
        String tsm = "org.apache.spark.scheduler.TaskSetManager";
        assertEquals(Result.DENY, filter.filter(event("org.apache.spark.executor.Executor", "Exception in task 0.0 in"
                + " stage 2.0 (TID 4)", new RuntimeException("wrapped", new LayerscopeException("bad weight")))));
        assertEquals(Result.DENY, filter.filter(event(tsm, "Lost task 0.0 in stage 2.0 (TID 4) (localhost executor"
                + " driver): io.layerscope.LayerscopeException: bad weight\n\tat io.layerscope...", null)));
        assertEquals(Result.DENY, filter.filter(event(tsm, "Task 0 in stage 2.0 failed 1 times; aborting job", null)));
        assertEquals(Result.DENY, filter.filter(event(tsm, "Task 3 in stage 1.0 failed 4 times; aborting job", null)));
        assertEquals(Result.DENY, filter.filter(event(tsm, "Total size of serialized results of 3 tasks (1567.7 KiB) is"
                + " bigger than spark.driver.maxResultSize (1024.0 KiB)", null)));
        assertEquals(Result.DENY, filter.filter(event(tsm, "Lost task 3.0 in stage 4.0 (TID 19) (localhost executor driver):"
                + " TaskKilled (Tasks result size has exceeded maxResultSize)", null)));
        assertEquals(Result.NEUTRAL, filter.filter(event(tsm, "Lost task 0.0 in stage 2.0 (TID 4) (localhost executor"
                + " driver): java.lang.OutOfMemoryError: Java heap space", null)));
        assertEquals(Result.NEUTRAL, filter.filter(event("org.apache.spark.executor.Executor", "Exception in task 0.0",
                new IllegalStateException("not a user error"))));
    }

    @Test
    void inAQuerySessionEveryTaskFailureIsTheStatementsAndIsDropped() throws Exception {
        UserErrorLogFilter filter = newFilter();
        String tsm = "org.apache.spark.scheduler.TaskSetManager";
        LogEvent division = event("org.apache.spark.executor.Executor", "Exception in task 0.0 in stage 0.0 (TID 0)",
                new ArithmeticException("[DIVIDE_BY_ZERO] Division by zero."));
        LogEvent lost = event(tsm, "Lost task 0.0 in stage 0.0 (TID 0) (localhost executor driver):"
                + " org.apache.spark.SparkArithmeticException: [DIVIDE_BY_ZERO] Division by zero.", null);
        LogEvent other = event("org.apache.spark.storage.BlockManager", "Putting block rdd_1_0 failed", null);
        assertEquals(Result.NEUTRAL, filter.filter(division));   // a sweep's: not a user error, logged
        assertEquals(Result.NEUTRAL, filter.filter(lost));
        try {
            UserErrorLogFilter.installForQueries();
            assertEquals(Result.DENY, filter.filter(division));
            assertEquals(Result.DENY, filter.filter(lost));
            assertEquals(Result.NEUTRAL, filter.filter(other));
        } finally {
            UserErrorLogFilter.install();   // a job's session again: its other task failures are logged
        }
        assertEquals(Result.NEUTRAL, filter.filter(division));
    }

    @Test
    void dropsWhateverASilencedThreadLogs() throws Exception {
        UserErrorLogFilter filter = newFilter();
        // what the startup thread logged when the JVM exited under a half-built context
        LogEvent npe = Log4jLogEvent.newBuilder().setLoggerName("org.apache.spark.util.Utils").setLevel(Level.ERROR)
                .setThreadName("filter-test-startup").setMessage(new SimpleMessage("Uncaught exception in thread"
                        + " filter-test-startup")).setThrown(new NullPointerException("localEndpoint() is null")).build();
        LogEvent elsewhere = Log4jLogEvent.newBuilder().setLoggerName("org.apache.spark.util.Utils").setLevel(Level.ERROR)
                .setThreadName("main").setMessage(new SimpleMessage("Uncaught exception in thread main")).build();
        assertEquals(Result.NEUTRAL, filter.filter(npe));
        // a context that failed while starting, stopping itself on the start-up thread: dropped at once
        LogEvent failedStart = Log4jLogEvent.newBuilder().setLoggerName("org.apache.spark.util.Utils").setLevel(Level.ERROR)
                .setThreadName(SparkStartup.THREAD).setMessage(new SimpleMessage("Uncaught exception in thread "
                        + SparkStartup.THREAD)).setThrown(new NullPointerException("localEndpoint() is null")).build();
        assertEquals(Result.DENY, filter.filter(failedStart));
        UserErrorLogFilter.silence("filter-test-startup");
        assertEquals(Result.DENY, filter.filter(npe));
        assertEquals(Result.NEUTRAL, filter.filter(elsewhere));
    }
}
