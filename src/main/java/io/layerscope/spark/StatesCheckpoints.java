package io.layerscope.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Sequential mode's reliable checkpoints of the hidden states (docs/CLUSTER.md). Each round's states
 * derive from the last round's, so without them an executor lost late in the run has its share of
 * every round so far recomputed from the embeddings. With Spark's checkpoint directory set
 * ({@code spark.checkpoint.dir}, storage every node shares), the states after every
 * {@value #DEFAULT_EVERY}th block (or {@link #EVERY}) are written there once, and Spark cuts the
 * lineage at them: a lost partition is read back from the last checkpoint and only the rounds since
 * are run again. A checkpoint's files are deleted once a later one is written, and all of them when
 * the rounds end, failed or not; the tables do not depend on any of this.
 */
final class StatesCheckpoints implements AutoCloseable {
    /** The Spark setting for the blocks between two checkpoints (0: none). */
    static final String EVERY = "spark.layerscope.sequential.checkpointEvery";
    static final int DEFAULT_EVERY = 4;

    private final JavaSparkContext jsc;
    private final String dir;
    private final int every;
    private final PrintStream err;
    /** Every checkpoint asked for, written or not: what {@link #close} deletes. */
    private final List<Path> files = new ArrayList<>();
    private JavaRDD<?> pending;
    private int pendingBlock;
    private Path written;
    private int writtenBlock = -1;

    private StatesCheckpoints(JavaSparkContext jsc, String dir, int every, PrintStream err) {
        this.jsc = jsc;
        this.dir = dir;
        this.every = every;
        this.err = err;
    }

    /** The checkpoints the context's settings ask for, or none (no directory, or {@link #EVERY} 0). */
    static StatesCheckpoints of(JavaSparkContext jsc, PrintStream err) {
        int every = every(jsc.getConf());
        String dir = jsc.getCheckpointDir().orElse(null);
        if (dir == null || every == 0) {
            return new StatesCheckpoints(jsc, null, 0, err);
        }
        if (!jsc.isLocal() && "file".equals(new Path(dir).toUri().getScheme())) {
            err.println("sequential: spark.checkpoint.dir is on a local file system (" + dir + "); the checkpoints"
                    + " help after an executor loss only if every node sees that path (a shared mount)");
        }
        err.printf("sequential: the hidden states are checkpointed %s to %s%n",
                every == 1 ? "after every block" : "every " + every + " blocks", dir);
        return new StatesCheckpoints(jsc, dir, every, err);
    }

    /** {@link #EVERY}: a whole number of blocks, 0 for none; refused otherwise, before stage one. */
    static int every(SparkConf conf) {
        return WholeNumberSetting.read(conf, EVERY, DEFAULT_EVERY, 0, "blocks", "(0 for no checkpoints; " + DEFAULT_EVERY
                + " by default when spark.checkpoint.dir is set)");
    }

    /**
     * Marks {@code states}, the states after block {@code block} that later rounds read, for a
     * checkpoint when the block's turn has come: before any job ran on them, so the first job that
     * computes them (and keeps them) also writes them.
     */
    void offer(JavaRDD<?> states, int block) {
        if (dir == null || (block + 1) % every != 0) {
            return;
        }
        settle();   // the last one, written by a job of this round when its states were not read before
        states.checkpoint();
        files.add(new Path(dir, "rdd-" + states.id()));
        pending = states;
        pendingBlock = block;
    }

    /** Once the marked states are written: the one before is no longer in any lineage, and goes. */
    void settle() {
        if (pending == null || !pending.isCheckpointed()) {
            return;
        }
        if (written != null) {
            delete(written);
        }
        written = files.get(files.size() - 1);
        writtenBlock = pendingBlock;
        pending = null;
        err.printf("sequential: hidden states after block %d checkpointed%n", pendingBlock);
    }

    /** The block after which the states were last written, -1 before the first: no recomputation goes further back. */
    int writtenBlock() {
        return writtenBlock;
    }

    /** Deletes every checkpoint this run asked for. */
    @Override
    public void close() {
        files.forEach(this::delete);
        files.clear();
    }

    /** Best effort, saying so: a checkpoint left behind costs storage, not results. */
    private void delete(Path p) {
        Configuration hadoop = jsc.hadoopConfiguration();
        try {
            p.getFileSystem(hadoop).delete(p, true);
        } catch (IOException e) {
            err.println("sequential: could not delete the checkpoint " + p + " (" + e.getMessage() + "); delete it by hand");
        }
    }
}
