package io.layerscope.hub;

/**
 * Hears how a batch of downloads advances. {@link HubClient} calls {@link #begin} once per batch
 * (the files of one request that are not in the cache yet), {@link #advance} from several download
 * threads at once, and {@link #end} when the batch is over, also after a failure. A batch where
 * everything is cached makes no calls at all.
 *
 * <pre>{@code
 * HubClient hub = new HubClient(settings, ConsoleProgress.toStandardError());
 * }</pre>
 */
public interface ProgressListener {

    /** Hears nothing. */
    ProgressListener SILENT = new ProgressListener() {
        @Override
        public void begin(String label, long totalBytes, long resumedBytes) {
        }

        @Override
        public void advance(long bytes) {
        }

        @Override
        public void end() {
        }
    };

    /**
     * @param label what is downloaded, e.g. "model meta-llama/Llama-3.2-1B: 3 files"
     * @param totalBytes bytes of all files of the batch
     * @param resumedBytes bytes already on disk from interrupted downloads, counted as done
     */
    void begin(String label, long totalBytes, long resumedBytes);

    /**
     * Bytes received since the last call; thread-safe. Negative when bytes already counted were
     * thrown away (a server that ignored a resume request, a corrupt file downloaded again).
     */
    void advance(long bytes);

    /** The batch is over. */
    void end();

    /** Something the user should know that is not an error, e.g. a resumed connection or a cache fallback. */
    default void notice(String message) {
    }
}
