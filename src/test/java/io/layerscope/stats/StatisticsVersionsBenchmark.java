package io.layerscope.stats;

import io.layerscope.plot.BlockMaxReduction;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CPU time per weight of one layer's statistics under several builds of layerscope's classes, in
 * one JVM, alternating call by call. This machine runs whole JVMs at one of two speeds for minutes
 * at a time, so two builds compared in separate JVMs can differ by a third for no reason in the
 * code; alternated in one JVM they see the same speed, and the per-call ratio is steady.
 *
 * <p>Each build is a directory of compiled main classes (e.g. {@code target/classes} of a
 * {@code git archive} of another commit, built with {@code mvn -o -q -DskipTests compile}), loaded
 * child-first by a class loader of its own, so the builds' {@code io.layerscope} classes do not
 * meet. Not a unit test; run it after {@code mvn -o -q test-compile dependency:build-classpath
 * -Dmdep.outputFile=target/test.classpath}, with the flags {@code submit.sh} gives a sweep's JVM (on
 * an AVX-512 CPU without {@code -XX:MaxVectorSize=32} the build named second ran 1.15-1.28 times as
 * long as the first in every call, with the same classes given twice):
 * <pre>
 * java -Xmx4g -XX:+UseParallelGC -XX:MaxVectorSize=32 -cp target/test-classes:target/classes:$(cat target/test.classpath) \
 *     io.layerscope.stats.StatisticsVersionsBenchmark 8192 2048 14 stage /tmp/old/target/classes target/classes
 * </pre>
 * Arguments: rows, columns, calls per build (the first two are warm-up and not counted), {@code plain}
 * (the statistics alone) or {@code stage} (with stage two's by-products: counts above three block
 * thresholds and the heatmaps' block maxima, builds from commit 0006967 on), then the build
 * directories. The weights are bf16-rounded Gaussians, as {@link BenchLayerInputs} makes them. It
 * prints each build's best and median nanoseconds per weight, whether its results equal the first
 * build's, and the second build's time over the first's, call by call.
 *
 * <p>{@code depth} times the depth statistics' scan of the residual stream instead
 * ({@link DepthSums#blockStreams}, stage one's host work per block): rows are then tokens and
 * columns the hidden size, over two sequences of {@link BenchLayerInputs#residualStreams}, and the
 * figures are nanoseconds per stream entry:
 * <pre>
 * java ... io.layerscope.stats.StatisticsVersionsBenchmark 256 2048 40 depth /tmp/old/target/classes target/classes
 * </pre>
 */
public final class StatisticsVersionsBenchmark {
    private StatisticsVersionsBenchmark() {
    }

    /** Loads {@code io.layerscope} classes from its own directories first, everything else from the parent. */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("io.layerscope.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    /** One layer's statistics; loaded once per build, so it links against that build's classes. */
    public static final class Layer {
        private Layer() {
        }

        /**
         * The depth statistics of block 0's stream ({@code in} and {@code out}, two sequences of
         * {@code tokens} x {@code hidden}) as a hash of their serialized form, for comparing builds.
         */
        public static String depth(float[] in, float[] out, int tokens, int hidden) throws java.io.IOException {
            DepthSums sums = new DepthSums();
            sums.blockStreams(0, new int[] {0, 1}, in, out, tokens, hidden);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(bytes)) {
                o.writeObject(sums);
            }
            return Integer.toHexString(Arrays.hashCode(bytes.toByteArray()));
        }

        /** The statistics (and by-products) as text, for comparing builds. */
        public static String compute(float[] w, int out, int in, float[] scalerRow, boolean stage) {
            if (!stage) {
                return LayerStatistics.compute("bench", w, out, in, scalerRow).toString();
            }
            LayerByProducts byProducts = new LayerByProducts().wandaAbove(new float[] {1e-3f, 2e-3f, 4e-3f})
                    .blockMaxima(BlockMaxReduction.blockSize(out, BlockMaxReduction.DEFAULT_MAX_CELLS),
                            BlockMaxReduction.blockSize(in, BlockMaxReduction.DEFAULT_MAX_CELLS));
            LayerStats stats = LayerStatistics.compute("bench", w, out, in, scalerRow, LayerStatistics.DEFAULT_SPARSITY,
                    null, null, byProducts);
            return stats + " " + Arrays.toString(byProducts.wandaAboveCounts()) + " "
                    + Arrays.hashCode(byProducts.absMaxima()) + " " + Arrays.hashCode(byProducts.wandaMaxima());
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5 || !List.of("plain", "stage", "depth").contains(args[3])) {
            System.err.println("usage: StatisticsVersionsBenchmark ROWS COLUMNS CALLS plain|stage|depth BUILD_DIR...");
            System.exit(2);
        }
        int out = Integer.parseInt(args[0]);
        int in = Integer.parseInt(args[1]);
        int calls = Math.max(3, Integer.parseInt(args[2]));
        String mode = args[3];
        boolean stage = mode.equals("stage");
        boolean depth = mode.equals("depth");
        List<String> builds = List.of(args).subList(4, args.length);
        // this class's own directory (the test classes) serves Layer and BenchLayerInputs to every build
        URL tests = StatisticsVersionsBenchmark.class.getProtectionDomain().getCodeSource().getLocation();
        List<Method> layers = new ArrayList<>();
        for (String build : builds) {
            if (!Files.isDirectory(Path.of(build, "io", "layerscope"))) {
                throw new IllegalArgumentException(build + " holds no compiled io.layerscope classes");
            }
            ClassLoader loader = new ChildFirst(new URL[] {Path.of(build).toUri().toURL(), tests},
                    StatisticsVersionsBenchmark.class.getClassLoader());
            Class<?> layer = loader.loadClass(Layer.class.getName());
            layers.add(depth ? layer.getMethod("depth", float[].class, float[].class, int.class, int.class)
                    : layer.getMethod("compute", float[].class, int.class, int.class, float[].class, boolean.class));
        }
        float[] w = depth ? null : BenchLayerInputs.bf16Gaussian(out, in);
        float[] scalerRow = depth ? null : BenchLayerInputs.scalerRow(in);
        float[][] streams = depth ? BenchLayerInputs.residualStreams(2, out, in) : null;
        double entries = depth ? 2.0 * out * in : (double) out * in;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[][] nanos = new double[builds.size()][calls];
        String[] results = new String[builds.size()];
        for (int call = 0; call < calls; call++) {
            for (int k = 0; k < builds.size(); k++) {
                int b = (call + k) % builds.size();   // each round starts at another build
                long cpu = threads.getCurrentThreadCpuTime();
                Object result = depth ? layers.get(b).invoke(null, streams[0], streams[1], out, in)
                        : layers.get(b).invoke(null, w, out, in, scalerRow, stage);
                nanos[b][call] = (threads.getCurrentThreadCpuTime() - cpu) / entries;
                results[b] = (String) result;
            }
        }
        System.out.printf("%d x %d%s, %s, %d calls per build (2 of warm-up)%n", out, in, depth ? " x 2 sequences" : "", mode,
                calls);
        for (int b = 0; b < builds.size(); b++) {
            double[] counted = Arrays.copyOfRange(nanos[b], 2, calls);
            Arrays.sort(counted);
            System.out.printf("%-40s ns per %s: best %.2f, median %.2f; results equal the first build's: %s%n",
                    builds.get(b), depth ? "entry" : "weight", counted[0], counted[counted.length / 2],
                    results[b].equals(results[0]));
        }
        if (builds.size() > 1) {
            StringBuilder ratios = new StringBuilder("second build / first, call by call:");
            for (int call = 2; call < calls; call++) {
                ratios.append(String.format(" %.2f", nanos[1][call] / nanos[0][call]));
            }
            System.out.println(ratios);
        }
    }
}
