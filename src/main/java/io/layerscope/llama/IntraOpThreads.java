package io.layerscope.llama;

import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op threads for the calling thread, raised for one piece of work and put back
 * after it. libtorch keeps the count per thread (OpenMP's and MKL's per-thread settings), so threads
 * that have run an operation keep theirs; a thread whose first operation comes while the count is
 * raised starts with the raised count, since libtorch also keeps it as the default for new threads.
 * So raise it only where no other work starts on libtorch meanwhile: local mode's lone Gram task.
 *
 * <pre>{@code
 * try (IntraOpThreads t = IntraOpThreads.atLeast(2)) {
 *     model.forward(...);   // libtorch's products on two threads
 * }
 * }</pre>
 */
public final class IntraOpThreads implements AutoCloseable {
    private final int before;
    private final boolean raised;

    private IntraOpThreads(int before, boolean raised) {
        this.before = before;
        this.raised = raised;
    }

    /**
     * Raises the calling thread's count to {@code threads} where it is lower; the engine must be
     * loaded (a model or an array made first).
     */
    public static IntraOpThreads atLeast(int threads) {
        int before = JniUtils.getNumThreads();
        if (threads <= before) {
            return new IntraOpThreads(before, false);
        }
        JniUtils.setNumThreads(threads);
        return new IntraOpThreads(before, true);
    }

    /** The calling thread's count now. */
    public static int current() {
        return JniUtils.getNumThreads();
    }

    /** Puts the count back; call on the thread that raised it. */
    @Override
    public void close() {
        if (raised) {
            JniUtils.setNumThreads(before);
        }
    }
}
