package io.layerscope.spark;

import io.layerscope.llama.HiddenStates;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The residual stream a task of a --gram pass keeps on its executor's local disk for the task of
 * the same partition in the next pass, which then starts at its first tap's block instead of the
 * embedding. A cache, not state: a task that finds nothing (its partition ran on another executor
 * last pass, a retry, a replaced executor) runs from the embedding and sums the same matrices, so
 * nothing here needs Spark's fault tolerance. A task takes its partition's states out of the store
 * ({@link #claim}), so two attempts never read one file, and deletes them when done.
 */
final class KeptStates {
    private KeptStates() {
    }

    private record Key(String run, int partition) {
    }

    private record Entry(int block, Path file) {
    }

    private static final Map<Key, Entry> KEPT = new HashMap<>();

    /**
     * Partition {@code partition}'s states at the input of {@code block}, kept by run {@code run}'s
     * previous pass on this JVM, taken out of the store; null if there are none (or they are at
     * another block, and are then deleted). Closing the claim deletes them.
     */
    static Claim claim(String run, int partition, int block) {
        Entry e;
        synchronized (KEPT) {
            e = KEPT.remove(new Key(run, partition));
        }
        if (e == null) {
            return null;
        }
        if (e.block() != block) {
            delete(e.file());
            return null;
        }
        try {
            return new Claim(new Key(run, partition), e);
        } catch (IOException ex) {
            delete(e.file());
            return null;
        }
    }

    /** A writer of partition {@code partition}'s states at the input of {@code block} into {@code file}. */
    static Writer writer(String run, int partition, int block, Path file) {
        return new Writer(new Key(run, partition), block, file);
    }

    /** Deletes whatever run {@code run} kept in this JVM (local mode's driver, when the passes end or fail). */
    static void forget(String run) {
        synchronized (KEPT) {
            KEPT.entrySet().removeIf(e -> {
                if (e.getKey().run().equals(run)) {
                    delete(e.getValue().file());
                    return true;
                }
                return false;
            });
        }
    }

    /** The partitions this JVM keeps states of, over every run (tests). */
    static int kept() {
        synchronized (KEPT) {
            return KEPT.size();
        }
    }

    /** The files this JVM's writers have committed, over every run (tests). */
    static int committed() {
        return COMMITTED.get();
    }

    private static final AtomicInteger COMMITTED = new AtomicInteger();

    /** Offers {@code entry} to the next pass of {@code key}'s partition, in place of what it had. */
    private static void offer(Key key, Entry entry) {
        Entry previous;
        synchronized (KEPT) {
            previous = KEPT.put(key, entry);
        }
        if (previous != null) {
            delete(previous.file());
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a file left in Spark's local directory goes when the executor stops
        }
    }

    /**
     * Claimed states, read a batch at a time in the order they were kept; deleted when closed, unless
     * {@link #keepAgain} offered them to the next pass.
     */
    static final class Claim implements AutoCloseable {
        private final Key key;
        private final Entry entry;
        private final ObjectInputStream in;
        private boolean again;

        private Claim(Key key, Entry entry) throws IOException {
            this.key = key;
            this.entry = entry;
            this.in = new ObjectInputStream(new BufferedInputStream(Files.newInputStream(entry.file()), 1 << 20));
        }

        /**
         * Offers these states, unchanged, to the next pass when this claim closes: for a pass that
         * starts and keeps at the same block, whose writer would copy the file it reads.
         */
        void keepAgain() {
            again = true;
        }

        Iterator<HiddenStates> states() {
            return new Iterator<>() {
                private HiddenStates next = read();

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public HiddenStates next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    HiddenStates s = next;
                    next = read();
                    return s;
                }
            };
        }

        private HiddenStates read() {
            try {
                return (HiddenStates) in.readObject();
            } catch (IOException e) {
                throw new UncheckedIOException("reading the kept residual stream " + entry.file(), e);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                // read to the end or abandoned: the file is whole either way
            }
            if (again) {
                offer(key, entry);
            } else {
                delete(entry.file());
            }
        }
    }

    /**
     * Writes a pass's states batch by batch and, once {@link #commit}ted, offers them to the next
     * pass. Keeping is an optimisation: a write that fails (a full disk) stops keeping, says why in
     * {@link #failure}, and the pass goes on.
     */
    static final class Writer implements Consumer<HiddenStates>, AutoCloseable {
        private final Key key;
        private final int block;
        private final Path file;
        private ObjectOutputStream out;
        private String failure;
        private boolean committed;

        private Writer(Key key, int block, Path file) {
            this.key = key;
            this.block = block;
            this.file = file;
            try {
                out = new ObjectOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20));
            } catch (IOException e) {
                fail(e);
            }
        }

        @Override
        public void accept(HiddenStates s) {
            if (out == null) {
                return;
            }
            try {
                out.writeObject(s);
                out.reset();   // the stream would otherwise hold on to every batch written
            } catch (IOException e) {
                fail(e);
            }
        }

        /** Ends the file (a null object) and offers it to the next pass, unless a write failed. */
        void commit() {
            accept(null);
            if (out == null) {
                return;
            }
            try {
                out.close();
            } catch (IOException e) {
                fail(e);
                return;
            }
            out = null;
            committed = true;
            COMMITTED.incrementAndGet();
            offer(key, new Entry(block, file));
        }

        /** Why keeping stopped, or null. */
        String failure() {
            return failure;
        }

        private void fail(IOException e) {
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            close();
        }

        @Override
        public void close() {
            if (committed) {
                return;
            }
            if (out != null) {
                try {
                    out.close();
                } catch (IOException e) {
                    // deleted below
                }
                out = null;
            }
            delete(file);
        }
    }
}
