package io.layerscope.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.spark.SparkDriverExecutionException;
import org.apache.spark.api.java.JavaRDD;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * What {@code collect()} gives, one element at a time: the elements of every partition in partition
 * order, each handed to the driver's consumer as soon as every partition before its own has been
 * handed over. {@code collect()} holds all the partitions' results at once before the driver merges
 * them (stage one's shard sums: a few MB each, hundreds of MB for many shards of an 8B model); here the
 * driver holds its running merge and what the partitions that finished before one in front of them
 * left to merge. Partition order keeps the merge's float additions in the order collect's list had
 * them, so the sums are the same bits; parts whose merge does not depend on order (maps, counts)
 * can be merged the moment they arrive.
 */
final class PartitionsInOrder {
    private PartitionsInOrder() {
    }

    /**
     * Runs one job over {@code rdd} and gives {@code inOrder} its elements in partition order, on
     * Spark's scheduler thread (which waits for it: keep it to a merge). An exception the consumer
     * throws fails the job and is thrown here as it was thrown.
     *
     * @return the most partitions that waited for one in front of them at once
     */
    static <T> int forEach(JavaRDD<T> rdd, Consumer<? super T> inOrder) {
        return forEach(rdd, t -> t, inOrder);
    }

    /**
     * As above, where each element first goes to {@code onArrival} as its partition arrives, in any
     * order (for parts whose merge does not depend on order), and only what that returns waits for
     * the partitions in front of it before it goes to {@code inOrder}.
     */
    @SuppressWarnings("unchecked")
    static <T, U> int forEach(JavaRDD<T> rdd, Function<? super T, ? extends U> onArrival, Consumer<? super U> inOrder) {
        InOrder<T, U> handler = new InOrder<>(onArrival, inOrder);
        try {
            rdd.context().runJob(rdd.rdd(), new PartitionList<T>(), handler,
                    ClassTag$.MODULE$.apply((Class<ArrayList<T>>) (Class<?>) ArrayList.class));
        } catch (Exception e) {   // Scala throws SparkException, a checked exception, undeclared
            // Spark wraps what the result handler threw; the caller's own exception says more
            if (e instanceof SparkDriverExecutionException && e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw PartitionsInOrder.<RuntimeException>undeclared(e);
        }
        handler.checkAllHandedOver(rdd.getNumPartitions());
        return handler.mostWaiting();
    }

    /** Rethrows {@code e} as it is, checked or not, as {@code collect()} lets Spark's exceptions through. */
    @SuppressWarnings("unchecked")
    private static <E extends Exception> E undeclared(Exception e) throws E {
        throw (E) e;
    }

    /** Runs on an executor: a partition's elements. */
    static final class PartitionList<T> extends AbstractFunction1<scala.collection.Iterator<T>, ArrayList<T>>
            implements Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public ArrayList<T> apply(scala.collection.Iterator<T> elements) {
            ArrayList<T> out = new ArrayList<>();
            while (elements.hasNext()) {
                out.add(elements.next());
            }
            return out;
        }
    }

    /** On the driver: each partition's elements as they arrive, handed over in partition order. */
    static final class InOrder<T, U> extends AbstractFunction2<Object, ArrayList<T>, BoxedUnit> {
        private final Function<? super T, ? extends U> onArrival;
        private final Consumer<? super U> inOrder;
        /** What partitions that arrived before one in front of them left to hand over. */
        private final TreeMap<Integer, List<U>> waiting = new TreeMap<>();
        private int next;
        private int mostWaiting;

        InOrder(Function<? super T, ? extends U> onArrival, Consumer<? super U> inOrder) {
            this.onArrival = onArrival;
            this.inOrder = inOrder;
        }

        @Override
        public synchronized BoxedUnit apply(Object partition, ArrayList<T> elements) {
            try {
                List<U> left = new ArrayList<>(elements.size());
                elements.forEach(e -> left.add(onArrival.apply(e)));
                waiting.put((Integer) partition, left);
                mostWaiting = Math.max(mostWaiting, waiting.size() - (waiting.firstKey() == next ? 1 : 0));
                while (!waiting.isEmpty() && waiting.firstKey() == next) {
                    waiting.pollFirstEntry().getValue().forEach(inOrder);
                    next++;
                }
            } catch (OutOfMemoryError e) {
                // On Spark's scheduler thread a fatal error would shut the context down; as the job's
                // failure it reaches the command, which names the driver's heap (its cause).
                throw new IllegalStateException("the driver ran out of memory merging the tasks' results", e);
            }
            return BoxedUnit.UNIT;
        }

        /** The most partitions that waited for one in front of them at once. */
        synchronized int mostWaiting() {
            return mostWaiting;
        }

        /** How many partitions wait now. */
        synchronized int waiting() {
            return waiting.size();
        }

        synchronized void checkAllHandedOver(int partitions) {
            if (next != partitions || !waiting.isEmpty()) {
                throw new IllegalStateException("handed over " + next + " of " + partitions + " partitions, "
                        + waiting.size() + " waiting");
            }
        }
    }
}
