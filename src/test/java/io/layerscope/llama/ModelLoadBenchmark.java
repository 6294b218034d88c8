package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.management.OperatingSystemMXBean;
import io.layerscope.bench.BenchWorkload;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Seconds to load every weight of a checkpoint as float32 on the CPU, the way before issue 20 (Java
 * widening into a fresh tensor per part, then q/k/v and gate/up concatenated) and the ways of
 * {@link WeightReader}, side by side: each round runs every variant once, starting at a different
 * one, so the variants share the machine's load. Every variant's weights are summed (64-bit words,
 * weighted by position) after its timing, and the sums must agree. The page cache is warmed before each
 * load, so all variants read the files from memory. Not a unit test; run it as
 * {@link LlamaForwardBenchmark}'s header says, with this class name, optionally a model directory
 * (default {@code /tmp/layerscope-llama-1b}, where the Llama-3.2-1B-shaped model of
 * {@link BenchWorkload#llama1bShapedModel()} is written when absent: 2.47 GB, never commit it) and
 * the number of rounds (default 3).
 */
final class ModelLoadBenchmark {
    private ModelLoadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/layerscope-llama-1b");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            long t = System.nanoTime();
            BenchWorkload.llama1bShapedModel().write(dir);
            System.out.printf("wrote the Llama-3.2-1B-shaped checkpoint into %s in %.1f s%n", dir, (System.nanoTime() - t) / 1e9);
        }
        Checkpoint ckpt = Checkpoint.open(dir);
        int threads = WeightReader.optionsFor(Device.cpu(), DataType.FLOAT32).threads();
        WeightReader.Options base = new WeightReader.Options(1, false, false, 1L << 28);
        Map<String, Function<NDManager, List<NDArray>>> variants = new LinkedHashMap<>();
        variants.put("before: Java widening + concat", m -> JavaWideningBaseline.loadAll(m, ckpt));
        variants.put("reader, 1 thread", m -> loadAll(m, ckpt, base));
        variants.put("reader, " + threads + " threads", m -> loadAll(m, ckpt, base.withThreads(threads)));
        variants.put("reader, 1 thread, huge pages", m -> loadAll(m, ckpt, base.withHugePages(true)));
        variants.put("LlamaModel.load (" + threads + " threads, huge pages)", null);
        List<String> names = new ArrayList<>(variants.keySet());
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        System.out.printf("%s: %s, %d weights; %d threads; huge pages %s%n", dir, ckpt.storedDtype(),
                ckpt.files().stream().mapToInt(f -> f.tensors().size()).sum(), threads,
                HugePages.available() ? "can be advised" : "unavailable");
        Long expectedSum = null;
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((r + k) % names.size());
                warmPageCache(ckpt);
                String load = loadAverage();
                long cpu0 = processCpuNanos();
                long t0 = System.nanoTime();
                long sum;
                double secs;
                if (variants.get(name) == null) {
                    try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
                        secs = (System.nanoTime() - t0) / 1e9;
                        // right after the load the model's manager holds its weights and nothing else
                        sum = sum(new ArrayList<>(model.manager().getManagedArrays()));
                    }
                } else {
                    try (NDManager m = NativeLibrary.engine().newBaseManager(Device.cpu())) {
                        List<NDArray> weights = variants.get(name).apply(m);
                        secs = (System.nanoTime() - t0) / 1e9;
                        sum = sum(weights);
                    }
                }
                double cpu = (processCpuNanos() - cpu0) / 1e9;
                seconds.computeIfAbsent(name, x -> new ArrayList<>()).add(secs);
                System.out.printf("round %d  %-45s %6.2f s  (process CPU incl. checksum %6.2f s)  load avg %s%n", r + 1, name,
                        secs, cpu, load);
                if (expectedSum == null && name.startsWith("before")) {
                    expectedSum = sum;
                }
                if (expectedSum != null && sum != expectedSum) {
                    throw new IllegalStateException(name + " loaded other weights: sum " + sum + ", before " + expectedSum);
                }
            }
        }
        System.out.println();
        List<Double> before = seconds.get(names.get(0));
        for (String name : names) {
            List<Double> s = seconds.get(name);
            StringBuilder ratios = new StringBuilder();
            for (int r = 0; r < s.size(); r++) {
                ratios.append(String.format(" %.2fx", before.get(r) / s.get(r)));
            }
            System.out.printf("%-45s best %6.2f s  median %6.2f s  speed-up over before, round by round:%s%n", name,
                    s.stream().mapToDouble(Double::doubleValue).min().orElse(0), median(s), ratios);
        }
    }

    /** The weights as {@link LlamaModel#load} reads them, into {@code m}. */
    static List<NDArray> loadAll(NDManager m, Checkpoint ckpt, WeightReader.Options options) {
        List<NDArray> out = new ArrayList<>();
        try (WeightReader weights = new WeightReader(m, ckpt, DataType.FLOAT32, options)) {
            out.add(weights.weight("model.embed_tokens.weight"));
            for (int i = 0; i < ckpt.config().numHiddenLayers(); i++) {
                BlockWeights b = BlockWeights.load(weights, i);
                out.addAll(List.of(b.inputNorm(), b.qkv(), b.o(), b.postNorm(), b.gateUp(), b.down()));
            }
            out.add(weights.weight("model.norm.weight"));
        }
        return out;
    }

    /** Every mapped byte read once, so each variant finds the files in the page cache. */
    static void warmPageCache(Checkpoint ckpt) {
        for (SafetensorsFile f : ckpt.files()) {
            for (String name : f.tensors().keySet()) {
                f.map(name).load();
            }
        }
    }

    /**
     * Every 64-bit word of the arrays times its index within its array, summed (each array a whole
     * number of words here): independent of the arrays' order, which a manager does not keep.
     */
    static long sum(List<NDArray> arrays) {
        long s = 0;
        for (NDArray a : arrays) {
            ByteBuffer b = a.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN);
            int words = b.capacity() / 8;
            for (int i = 0; i < words; i++) {
                s += b.getLong(8 * i) * (i + 1);
            }
        }
        return s;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "?";
        }
    }

    static long processCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /**
     * The load before issue 20 (commit a1629da), kept here to measure against: each tensor widened
     * on one thread through Java arrays into a fresh float32 tensor, q/k/v and gate/up then
     * concatenated into a further one.
     */
    static final class JavaWideningBaseline {
        private static final int WIDEN_CHUNK = 1 << 16;

        static List<NDArray> loadAll(NDManager m, Checkpoint ckpt) {
            List<NDArray> out = new ArrayList<>();
            out.add(weight(m, ckpt, "model.embed_tokens.weight"));
            for (int i = 0; i < ckpt.config().numHiddenLayers(); i++) {
                String p = "model.layers." + i + ".";
                out.add(weight(m, ckpt, p + "input_layernorm.weight"));
                out.add(concatenated(m, ckpt, p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                        p + "self_attn.v_proj.weight"));
                out.add(weight(m, ckpt, p + "self_attn.o_proj.weight"));
                out.add(weight(m, ckpt, p + "post_attention_layernorm.weight"));
                out.add(concatenated(m, ckpt, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"));
                out.add(weight(m, ckpt, p + "mlp.down_proj.weight"));
            }
            out.add(weight(m, ckpt, "model.norm.weight"));
            return out;
        }

        private static NDArray concatenated(NDManager manager, Checkpoint ckpt, String... names) {
            try (NDManager parts = manager.newSubManager()) {
                NDArray out = weight(parts, ckpt, names[0]);
                for (int i = 1; i < names.length; i++) {
                    out = out.concat(weight(parts, ckpt, names[i]), 0);
                }
                out.attach(manager);
                return out;
            }
        }

        static NDArray weight(NDManager manager, Checkpoint ckpt, String name) {
            SafetensorsFile file = ckpt.fileOf(name);
            TensorInfo info = file.tensor(name);
            Shape shape = new Shape(info.shape());
            try (NDManager staging = manager.newSubManager(Device.cpu())) {
                NDArray stored = switch (info.dtype()) {
                    case F32 -> DeviceArrays.wrap(staging, file.map(name), shape, DataType.FLOAT32);
                    case F16 -> DeviceArrays.wrap(staging, file.map(name), shape, DataType.FLOAT16);
                    case BF16 -> widenBf16(staging, file.map(name), shape);
                    default -> throw new IllegalStateException(info.dtype().name());
                };
                NDArray result = DeviceArrays.cast(stored.toDevice(manager.getDevice(), false), DataType.FLOAT32);
                result.attach(manager);
                return result;
            }
        }

        static NDArray widenBf16(NDManager cpu, MappedByteBuffer littleEndianBf16, Shape shape) {
            NDArray out = DeviceArrays.empty(cpu, shape, DataType.FLOAT32);
            IntBuffer dst = out.toByteBuffer(true).asIntBuffer();
            ShortBuffer src = littleEndianBf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
            short[] in = new short[Math.min(WIDEN_CHUNK, src.remaining())];
            int[] bits = new int[in.length];
            while (src.hasRemaining()) {
                int n = Math.min(in.length, src.remaining());
                src.get(in, 0, n);
                for (int i = 0; i < n; i++) {
                    bits[i] = (in[i] & 0xffff) << 16;
                }
                dst.put(bits, 0, n);
            }
            return out;
        }
    }
}
