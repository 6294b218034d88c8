package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.filter.AbstractFilter;

/**
 * Drops log events that only repeat what the command line reports once, as one paragraph: those
 * about a task that failed with a {@link LayerscopeException} (bad input met on an executor:
 * Spark's "Exception in task", "Lost task" and the cancelled tasks after it), and Spark's "Task N in
 * stage M failed K times; aborting job", whose job failure the command prints with its cause, and the
 * results outgrowing spark.driver.maxResultSize, which the command explains. Every
 * other task failure (a retried one, say) is still logged. Also everything a thread logs after the
 * job gave up on it ({@link #silence}): the JVM is exiting under it, and what Spark says then is noise
 * beside the error the command has printed. And the error a context that failed in its constructor
 * (a checkpoint directory it cannot create, say) logs while stopping itself on the start-up thread:
 * the command reports why it did not start. In a {@code query} session ({@link #installForQueries}) every
 * failed task is the failed statement, which the command reports: its "Exception in task" and "Lost
 * task" go too.
 */
final class UserErrorLogFilter extends AbstractFilter {
    private static final String NAME = LayerscopeException.class.getName();
    private static final java.util.regex.Pattern ABORTING = java.util.regex.Pattern.compile(
            "Task \\S+ in stage \\S+ failed \\d+ times?; aborting job");

    /** The job aborts on it, and the command tells the limit and the remedy ({@link ResultSizeLimit}). */
    private static final java.util.regex.Pattern RESULT_SIZE = java.util.regex.Pattern.compile(
            "Total size of serialized results of \\d+ tasks? \\(.*\\) is bigger than spark\\.driver\\.maxResultSize.*"
                    + "|Lost task .*TaskKilled \\(Tasks result size has exceeded maxResultSize\\)");

    private static final String UNCAUGHT = "Uncaught exception in thread ";
    private static final java.util.Set<String> SILENCED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static volatile boolean everyTaskFailureReported;

    private UserErrorLogFilter() {
    }

    /** As {@link #install}, for a query session, whose task failures are all the statement's (a division by zero, a damaged file). */
    static void installForQueries() {
        install();
        everyTaskFailureReported = true;
    }

    /** Drops whatever the thread of this name logs from now on. */
    static void silence(String threadName) {
        SILENCED.add(threadName);
    }

    /** Adds the filter to every logger configuration of this JVM's log4j2 context, once; a job's session (not a query's). */
    static synchronized void install() {
        everyTaskFailureReported = false;
        if (!(LogManager.getContext(false) instanceof LoggerContext context)) {
            return;   // another logging back end: nothing to filter
        }
        Configuration config = context.getConfiguration();
        if (config.getRootLogger().getFilter() instanceof UserErrorLogFilter) {
            return;
        }
        UserErrorLogFilter filter = new UserErrorLogFilter();
        filter.start();
        config.getRootLogger().addFilter(filter);
        for (LoggerConfig logger : config.getLoggers().values()) {
            if (logger != config.getRootLogger()) {
                logger.addFilter(filter);
            }
        }
        context.updateLoggers();
    }

    @Override
    public Result filter(LogEvent event) {
        if (!SILENCED.isEmpty() && SILENCED.contains(event.getThreadName())) {
            return Result.DENY;
        }
        if (io.layerscope.Failures.cause(event.getThrown(), LayerscopeException.class) != null) {
            return Result.DENY;
        }
        String message = event.getMessage() == null ? null : event.getMessage().getFormattedMessage();
        if (message == null) {
            return Result.NEUTRAL;
        }
        if (everyTaskFailureReported && (message.startsWith("Exception in task ") || message.startsWith("Lost task "))) {
            return Result.DENY;
        }
        if (message.startsWith(UNCAUGHT + SparkStartup.THREAD) && SparkStartup.THREAD.equals(event.getThreadName())
                && "org.apache.spark.util.Utils".equals(event.getLoggerName())) {
            return Result.DENY;
        }
        return message.contains(NAME) || ABORTING.matcher(message).matches() || RESULT_SIZE.matcher(message).matches()
                ? Result.DENY : Result.NEUTRAL;
    }
}
