package io.layerscope.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Large values passed between the driver and its tasks by reference when both run in the driver's
 * JVM (local mode), instead of through Spark's task results and broadcasts. A Gram pass's matrices
 * take hundreds of MiB: as a task result Spark serialises them, stores the bytes, fetches them
 * through a file on the driver's disk (past {@code spark.network.maxRemoteBlockSizeFetchToMem}) and
 * deserialises them; as a broadcast it serialises and LZ4-compresses them again. In local mode all
 * of that copies an object within one JVM while the cores that would do the next work wait.
 */
final class HeldValues {
    private static final Map<String, Object> HELD = new ConcurrentHashMap<>();
    private static final AtomicLong HOLDS = new AtomicLong();

    private HeldValues() {
    }

    /** Whether this code runs in the driver's JVM: on the driver, or in local mode's executor. */
    static boolean inDriverJvm() {
        SparkEnv env = SparkEnv.get();
        // Spark's own name for the driver's executor (SparkContext.DRIVER_IDENTIFIER, private to Spark)
        return env != null && "driver".equals(env.executorId());
    }

    /** Values held in this JVM whose keys start with {@code prefix}: those no one took. */
    static int held(String prefix) {
        return (int) HELD.keySet().stream().filter(k -> k.startsWith(prefix)).count();
    }

    /** How many values this JVM has held so far (tests: whether local mode took the path by reference). */
    static long holds() {
        return HOLDS.get();
    }

    private static String hold(String prefix, Object value) {
        String key = prefix + UUID.randomUUID();
        HELD.put(key, value);
        HOLDS.incrementAndGet();
        return key;
    }

    /** Drops the values held under keys starting with {@code prefix} (a failed job's results no one took). */
    static void release(String prefix) {
        HELD.keySet().removeIf(k -> k.startsWith(prefix));
    }

    private static Object lookUp(String key, boolean take) {
        Object value = take ? HELD.remove(key) : HELD.get(key);
        if (value == null) {
            throw new IllegalStateException("value " + key + " is not held in this JVM (it is held only where the"
                    + " driver runs, for tasks of local mode" + (take ? ", and taken once)" : ")"));
        }
        return value;
    }

    /**
     * A task's result value. Made in the driver's JVM it is held there and only its key is
     * serialised with the task's result; made in another executor it is serialised itself.
     */
    static final class Handed<T> implements Serializable {
        private static final long serialVersionUID = 1L;
        private String key;
        private transient T value;

        private Handed(String key, T value) {
            this.key = key;
            this.value = value;
        }

        /** {@code value} as a task's result: held under a key starting with {@code prefix} if this is the driver's JVM. */
        static <T> Handed<T> of(String prefix, T value) {
            return of(prefix, value, inDriverJvm());
        }

        static <T> Handed<T> of(String prefix, T value, boolean hold) {
            return hold ? new Handed<>(hold(prefix, value), null) : here(value);
        }

        /** A value already where it is used (the driver's merge of two results). */
        static <T> Handed<T> here(T value) {
            return new Handed<>(null, value);
        }

        /** The value; a held one is taken out of this JVM's hold the first time. */
        @SuppressWarnings("unchecked")
        T get() {
            if (value == null) {
                value = (T) lookUp(key, true);
            }
            return value;
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.writeObject(key);
            if (key == null) {
                out.writeObject(value);
            }
        }

        @SuppressWarnings("unchecked")
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            key = (String) in.readObject();
            value = key == null ? (T) in.readObject() : null;
        }
    }

    /**
     * A value for a job's tasks: held in the driver's JVM in local mode (the tasks run there and read
     * it in place), broadcast otherwise. Closing it on the driver drops it either way.
     */
    static final class Shared<T> implements Serializable, AutoCloseable {
        private static final long serialVersionUID = 1L;
        private final String key;
        private final Broadcast<T> broadcast;

        private Shared(String key, Broadcast<T> broadcast) {
            this.key = key;
            this.broadcast = broadcast;
        }

        static <T> Shared<T> of(JavaSparkContext jsc, T value) {
            if (jsc.sc().isLocal()) {
                return held(value);
            }
            return new Shared<>(null, jsc.broadcast(value));
        }

        static <T> Shared<T> held(T value) {
            return new Shared<>(hold("shared/", value), null);
        }

        @SuppressWarnings("unchecked")
        T value() {
            return key != null ? (T) lookUp(key, false) : broadcast.value();
        }

        @Override
        public void close() {
            if (key != null) {
                HELD.remove(key);
            } else {
                broadcast.destroy();
            }
        }
    }
}
