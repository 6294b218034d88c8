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
 * -Dmdep.outputFile=target/test.classpath}:
 * <pre>
 * java -Xmx4g -XX:+UseParallelGC -cp target/test-classes:target/classes:$(cat target/test.classpath) \
 *     io.layerscope.stats.StatisticsVersionsBenchmark 8192 2048 14 stage /tmp/old/target/classes target/classes
 * </pre>
 * Arguments: rows, columns, calls per build (the first two are warm-up and not counted), {@code plain}
 * (the statistics alone) or {@code stage} (with stage two's by-products: counts above three block
 * thresholds and the heatmaps' block maxima, builds from commit 0006967 on), then the build
 * directories. The weights are bf16-rounded Gaussians, as {@link BenchLayerInputs} makes them. It
 * prints each build's best and median nanoseconds per weight, whether its results equal the first
 * build's, and the second build's time over the first's, call by call.
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
        if (args.length < 5 || !(args[3].equals("plain") || args[3].equals("stage"))) {
            System.err.println("usage: StatisticsVersionsBenchmark ROWS COLUMNS CALLS plain|stage BUILD_DIR...");
            System.exit(2);
        }
        int out = Integer.parseInt(args[0]);
        int in = Integer.parseInt(args[1]);
        int calls = Math.max(3, Integer.parseInt(args[2]));
        boolean stage = args[3].equals("stage");
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
            layers.add(loader.loadClass(Layer.class.getName())
                    .getMethod("compute", float[].class, int.class, int.class, float[].class, boolean.class));
        }
        float[] w = BenchLayerInputs.bf16Gaussian(out, in);
        float[] scalerRow = BenchLayerInputs.scalerRow(in);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[][] nanos = new double[builds.size()][calls];
        String[] results = new String[builds.size()];
        for (int call = 0; call < calls; call++) {
            for (int k = 0; k < builds.size(); k++) {
                int b = (call + k) % builds.size();   // each round starts at another build
                long cpu = threads.getCurrentThreadCpuTime();
                Object result = layers.get(b).invoke(null, w, out, in, scalerRow, stage);
                nanos[b][call] = (threads.getCurrentThreadCpuTime() - cpu) / ((double) out * in);
                results[b] = (String) result;
            }
        }
        System.out.printf("%d x %d, %s, %d calls per build (2 of warm-up)%n", out, in, stage ? "stage" : "plain", calls);
        for (int b = 0; b < builds.size(); b++) {
            double[] counted = Arrays.copyOfRange(nanos[b], 2, calls);
            Arrays.sort(counted);
            System.out.printf("%-40s ns per weight: best %.2f, median %.2f; results equal the first build's: %s%n",
                    builds.get(b), counted[0], counted[counted.length / 2], results[b].equals(results[0]));
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
