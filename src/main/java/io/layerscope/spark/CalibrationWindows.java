package io.layerscope.spark;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.calibration.Documents;
import io.layerscope.calibration.HuggingFaceTokenEncoder;
import io.layerscope.calibration.RememberedWindows;
import io.layerscope.calibration.WandaSampler;
import io.layerscope.hub.Sha256Cache;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.HfCache;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * A job's calibration windows: Wanda's get_c4 windows, sampled on the driver (reading the whole
 * source and tokenizing a few thousand documents) while Spark starts, or as a run with the same
 * source, tokenizer and settings remembered them.
 *
 * @param samples    the windows, in sample order
 * @param source     where they were drawn from
 * @param documents  the documents the source holds
 * @param remembered where they were read from when a run before this one remembered them; null when sampled
 * @param seconds    the time they took here
 */
record CalibrationWindows(List<CalibrationSample> samples, CalibrationSource source, int documents,
                          RunRecord.WindowsRemembered remembered, double seconds) {

    /** The windows {@code o} asks for, read or sampled; a failed Spark start ends the sampling at once. */
    static CalibrationWindows of(JobOptions o, Checkpoint ckpt, SparkStartup startup, String runId, PrintStream err) {
        long t = System.nanoTime();
        JobOptions.Calibration c = o.calibration();
        err.printf("calibration: %d samples x %d tokens, seed %d, from %s%n", c.nsamples(), c.seqlen(), c.seed(), c.source());
        CalibrationSource source = CalibrationSources.resolve(c.source(), o.model().cacheDir(), o.model().env());
        RememberedWindows remembered = RememberedWindows.in(HfCache.layerscopeCache(o.model().env(), "windows"));
        Optional<String> key = key(o, ckpt, source, err);
        Optional<RememberedWindows.Entry> found = key.flatMap(k -> remembered.find(k, c.nsamples(), c.seqlen(), err));
        if (found.isPresent()) {
            RememberedWindows.Entry e = found.get();
            err.printf("calibration: windows remembered in %s (sampled by run %s at %s in %.1f s from %d documents);"
                    + " not sampled again%n", e.file(), e.runId(), e.createdAt(), e.seconds(), e.documents());
            return new CalibrationWindows(e.samples(), source, e.documents(),
                    new RunRecord.WindowsRemembered(e.file().toString(), e.createdAt(), e.runId(), e.seconds()),
                    RunSeconds.since(t));
        }
        CalibrationWindows sampled = sample(o, ckpt, source, startup, t, err);
        key.ifPresent(k -> {
            remembered.store(k, runId, sampled.seconds(), sampled.documents(), sampled.samples(), err);
            remembered.trim(k);
        });
        return sampled;
    }

    /** The key of this run's windows, or empty (said on err) when a file it covers cannot be read. */
    private static Optional<String> key(JobOptions o, Checkpoint ckpt, CalibrationSource source, PrintStream err) {
        JobOptions.Calibration c = o.calibration();
        try {
            String tokenizer = Sha256Cache.forEnvironment(o.model().env()).of(ckpt.dir().resolve("tokenizer.json"));
            return Optional.of(RememberedWindows.key(source.files(), tokenizer, c.nsamples(), c.seqlen(), c.seed(),
                    RunRecords.build()));
        } catch (IOException e) {
            err.printf("calibration: the windows cannot be remembered (%s); sampling them%n", e.getMessage());
            return Optional.empty();
        }
    }

    private static CalibrationWindows sample(JobOptions o, Checkpoint ckpt, CalibrationSource source, SparkStartup startup,
                                             long since, PrintStream err) {
        long t = System.nanoTime();
        try (Documents docs = Documents.open(source.files())) {
            int documents = docs.size();
            startup.throwIfFailed();
            err.printf("calibration: %d documents read in %.1f s; sampling windows%n", documents, RunSeconds.since(t));
            long[] lastPrint = {System.nanoTime()};
            List<CalibrationSample> samples = new WandaSampler(docs, HuggingFaceTokenEncoder.forPath(ckpt.dir()))
                    .sample(o.calibration().nsamples(), o.calibration().seqlen(), o.calibration().seed(), done -> {
                        startup.throwIfFailed();   // a failed start ends the job now, not after sampling
                        if (System.nanoTime() - lastPrint[0] > 2_000_000_000L) {
                            lastPrint[0] = System.nanoTime();
                            err.printf("calibration sampling: %d/%d samples%n", done, o.calibration().nsamples());
                        }
                    });
            return new CalibrationWindows(samples, source, documents, null, RunSeconds.since(since));
        }
    }
}
