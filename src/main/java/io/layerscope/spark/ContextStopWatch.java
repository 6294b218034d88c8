package io.layerscope.spark;

import java.util.function.BooleanSupplier;

/**
 * Interrupts a thread that waits on Spark's jobs once Spark's context has stopped under it. A job
 * submitted while the context stops can be lost: the scheduler's event loop ignores what is posted
 * once it is stopped, and leaves what is queued, so the job's waiter is never told and its caller
 * would wait for ever. A standalone master that never answered gives up just as the session has
 * started, and the first job may be submitted at that moment.
 */
final class ContextStopWatch implements AutoCloseable {
    private static final long POLL_MILLIS = 250;

    private final Thread watcher;
    private final Thread waiting;
    private boolean closed;
    private boolean fired;

    private ContextStopWatch(BooleanSupplier stopped, Thread waiting) {
        this.waiting = waiting;
        this.watcher = new Thread(() -> watch(stopped), "layerscope-context-stop-watch");
        watcher.setDaemon(true);
    }

    /** Watches {@code stopped} (the context's isStopped) until closed, interrupting {@code waiting} when it turns true. */
    static ContextStopWatch interrupting(BooleanSupplier stopped, Thread waiting) {
        ContextStopWatch w = new ContextStopWatch(stopped, waiting);
        w.watcher.start();
        return w;
    }

    private void watch(BooleanSupplier stopped) {
        try {
            while (true) {
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    if (stopped.getAsBoolean()) {
                        fired = true;
                        waiting.interrupt();
                        return;
                    }
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Whether the context stopped while watched, and the waiting thread was interrupted for it. */
    synchronized boolean fired() {
        return fired;
    }

    /**
     * Ends the watch; the interrupt it made, if any, is cleared, so that the caller's clean-up (the
     * staging directory) runs uninterrupted while it reports the stop.
     */
    @Override
    public void close() {
        boolean interrupted;
        synchronized (this) {
            closed = true;
            interrupted = fired;
        }
        watcher.interrupt();
        if (interrupted && Thread.currentThread() == waiting) {
            Thread.interrupted();
        }
    }
}
