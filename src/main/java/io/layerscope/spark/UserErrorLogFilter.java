package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.filter.AbstractFilter;

/**
 * Drops log events about a task that failed with a {@link LayerscopeException}: bad input met on
 * an executor (Spark's "Exception in task", "Lost task" and the cancelled tasks after it). The
 * command line reports that error once, as one paragraph; Spark's lines would only repeat it.
 * Every other failure is still logged.
 */
final class UserErrorLogFilter extends AbstractFilter {
    private static final String NAME = LayerscopeException.class.getName();

    private UserErrorLogFilter() {
    }

    /** Adds the filter to every logger configuration of this JVM's log4j2 context, once. */
    static synchronized void install() {
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
        for (Throwable t = event.getThrown(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof LayerscopeException) {
                return Result.DENY;
            }
        }
        String message = event.getMessage() == null ? null : event.getMessage().getFormattedMessage();
        return message != null && message.contains(NAME) ? Result.DENY : Result.NEUTRAL;
    }
}
