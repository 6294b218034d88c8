package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.llamacpp.ImportanceMatrix;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The end of a job's outputs: each (results directory, importance matrix, pruned checkpoint) is
 * written into staging while the job runs and put in place here, and a failure to write one is told
 * by what the file system said, with the option that chose the place.
 */
final class OutputCommit {
    private OutputCommit() {
    }

    /**
     * A failure while writing (disk full, quota, permissions changed under us) named by its root
     * cause: Spark wraps it in task and job failures whose messages say only "Task failed while
     * writing rows". The staging directory is removed by the caller.
     */
    static RuntimeException writeFailure(Path where, Throwable e) {
        return writeFailure(where, "the results", "--out", e);
    }

    /** As above, for an output named by {@code what} ("the pruned model") and {@code option} ("--save-pruned"). */
    static RuntimeException writeFailure(Path where, String what, String option, Throwable e) {
        if (e instanceof LayerscopeException l) {
            return l;
        }
        IOException root = null;
        for (Throwable t : io.layerscope.Failures.causes(e)) {
            if (t instanceof IOException io) {
                root = io;   // the deepest: what the file system said
            }
        }
        if (root == null && e instanceof RuntimeException r) {
            return r;
        }
        if (root instanceof InterruptedIOException) {
            return new LayerscopeException("interrupted while writing " + what + " to " + where + "; nothing was kept", e);
        }
        String why = root != null ? io.layerscope.Failures.describe(root) : e.getMessage();
        return new LayerscopeException("cannot write " + what + " to " + where + " (" + why + "); nothing was kept;"
                + " free space there or choose another " + option, e);
    }

    /**
     * The matrix holds stage one's sums, the unpruned model's: a user who pruned in the same run would
     * otherwise quantize the pruned checkpoint with activations it no longer produces.
     */
    static String unprunedImatrixNote(Path imatrix, Path savePruned) {
        return "note: --imatrix " + imatrix + " holds the unpruned model's activations; for the pruned model's, "
                + (savePruned != null ? "run a sweep on it with this run's calibration options: ./submit.sh sweep --model "
                        + savePruned + " --out DIR --imatrix FILE ..."
                : "save it (--save-pruned DIR) and run a sweep on that directory with --imatrix");
    }

    /**
     * Moves each output into place, each on its own: one that cannot be (a directory made at its place
     * meanwhile, kept beside it then) does not take the others with it, and the error says what failed
     * and what is where. An interrupt stops it at once: nothing more is put in place.
     *
     * @param pictures  where a job without --out wrote its pictures (already in place), or null
     * @param failed    the failure of an output before this (writing --out's tables), or null
     */
    static void commit(ResultsDirectory out, ImportanceMatrix imatrix, ResultsDirectory pruned, Path pictures,
                       RuntimeException failed, PrintStream err) {
        List<String> kept = new ArrayList<>();
        List<RuntimeException> failures = new ArrayList<>();
        if (failed != null) {
            failures.add(failed);
        }
        if (pictures != null) {
            kept.add("the pictures are in " + pictures);
        }
        record Output(String what, String option, Path target, java.util.function.Supplier<Path> commit) {
        }
        List<Output> outputs = new ArrayList<>();
        if (out != null) {
            outputs.add(new Output("the results", "--out", out.target(), () -> {
                out.commit();
                return out.target();
            }));
        }
        if (imatrix != null) {
            outputs.add(new Output("the importance matrix", "--imatrix", imatrix.target(), imatrix::commit));
        }
        if (pruned != null) {
            outputs.add(new Output("the pruned model", "--save-pruned", pruned.target(), () -> {
                pruned.commit();
                err.printf("pruned model written to %s%n", pruned.target());
                return pruned.target();
            }));
        }
        for (Output o : outputs) {
            try {
                kept.add(io.layerscope.KeptOutputs.put(o.what(),
                        () -> o.what() + (o.what().equals("the results") ? " are in " : " is in ") + o.commit().get()));
            } catch (RuntimeException e) {
                if (io.layerscope.Shutdown.inProgress()) {
                    throw e;
                }
                failures.add(writeFailure(o.target(), o.what(), o.option(), e));
            }
        }
        if (failures.isEmpty()) {
            return;
        }
        if (failures.size() == 1 && kept.isEmpty()) {
            throw failures.get(0);
        }
        List<String> said = new ArrayList<>();
        failures.forEach(f -> said.add(f.getMessage().replace("; nothing was kept", "")));
        said.addAll(kept);
        // the outputs in place are said too: "nothing was kept" would send the user to redo them
        throw new LayerscopeException(String.join("; ", said), failures.get(0));
    }
}
