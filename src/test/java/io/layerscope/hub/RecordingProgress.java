package io.layerscope.hub;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** Remembers what a {@link ProgressListener} heard, for assertions. */
final class RecordingProgress implements ProgressListener {

    final List<String> begins = new CopyOnWriteArrayList<>();
    final List<String> notices = new CopyOnWriteArrayList<>();
    final AtomicLong advanced = new AtomicLong();
    final AtomicLong ends = new AtomicLong();

    @Override
    public void begin(String label, long totalBytes, long resumedBytes) {
        begins.add(label + " total=" + totalBytes + " resumed=" + resumedBytes);
    }

    @Override
    public void advance(long bytes) {
        advanced.addAndGet(bytes);
    }

    @Override
    public void end() {
        ends.incrementAndGet();
    }

    @Override
    public void notice(String message) {
        notices.add(message);
    }
}
