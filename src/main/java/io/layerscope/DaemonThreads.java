package io.layerscope;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads for pools that must not keep the JVM alive once the command is done (a download, a weight
 * being widened), named {@code layerscope-<what>-<n>} so that a thread dump says whose they are.
 */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** A factory of daemon threads named {@code layerscope-<what>-1}, {@code -2}, ... */
    public static ThreadFactory named(String what) {
        AtomicInteger made = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "layerscope-" + what + "-" + made.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
