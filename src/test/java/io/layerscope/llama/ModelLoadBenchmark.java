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
 * one, so the variants share the machine's load. Every loading variant's weights are summed
 * (64-bit words, weighted by position) after its timing, and the sums must agree. The page cache
 * is warmed before each load, so all variants read the files from memory.
 *
 * <p>Fresh memory is most of a load's cost, and on a virtual machine whose host takes back freed
 * guest memory after a few seconds (free page reporting) its price depends on what ran just
 * before. So the memory each load meets is set: {@code cold} idles after each load until the host
 * has taken the memory back (what an executor's first load meets: memory the host must supply
 * again), {@code warm} touches and frees as much memory as the weights take right before each
 * load (memory already backed, as on a machine without that reporting).
 *
 * <p>Not a unit test; run it as {@link LlamaForwardBenchmark}'s header says, with this class name
 * and optionally: a model directory (default {@code /tmp/layerscope-llama-1b}, where the
 * Llama-3.2-1B-shaped model of {@link BenchWorkload#llama1bShapedModel()} is written when absent:
 * 2.47 GB, never commit it), the number of rounds (default 3), {@code cold} (default) or
 * {@code warm}, and the variants, comma-separated (default {@code before,r1,rN,r1h,load}):
 * {@code before}, {@code r1}/{@code rN} (reader on 1 / N threads), {@code r1h}/{@code rNh} (with
 * huge pages), {@code load} ({@link LlamaModel#load}), {@code touch1h}/{@code touchNh} (no reading:
 * the weights' memory allocated, advised and touched once per 4 KiB, the floor of any load). N is
 * libtorch's intra-op thread count.
 */
final class ModelLoadBenchmark {
    /** Seconds to idle in {@code cold} mode: the host takes memory back a few seconds after its release. */
    private static final int SETTLE_SECONDS = 20;

    private ModelLoadBenchmark() {
    }

    private record Variant(String label, Function<NDManager, List<NDArray>> load) {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/layerscope-llama-1b");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        boolean warm = args.length > 2 && args[2].equals("warm");
        List<String> keys = List.of((args.length > 3 ? args[3] : "before,r1,rN,r1h,load").split(","));
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            long t = System.nanoTime();
            BenchWorkload.llama1bShapedModel().write(dir);
            System.out.printf("wrote the Llama-3.2-1B-shaped checkpoint into %s in %.1f s%n", dir, (System.nanoTime() - t) / 1e9);
        }
        Checkpoint ckpt = Checkpoint.open(dir);
        int threads = WeightReader.optionsFor(Device.cpu(), DataType.FLOAT32).threads();
        List<Variant> variants = new ArrayList<>();
        for (String key : keys) {
            variants.add(variant(key, ckpt, threads));
        }
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        System.out.printf("%s: %s, %d weights; %d threads; huge pages %s; %s memory%n", dir, ckpt.storedDtype(),
                ckpt.files().stream().mapToInt(f -> f.tensors().size()).sum(), threads,
                HugePages.available() ? "can be advised" : "unavailable", warm ? "warm" : "cold");
        Long expectedSum = null;
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < variants.size(); k++) {
                Variant v = variants.get((r + k) % variants.size());
                warmPageCache(ckpt);
                if (warm) {
                    touchAndFree(ckpt, threads);
                } else {
                    Thread.sleep(SETTLE_SECONDS * 1000L);
                }
                String load = loadAverage();
                long cpu0 = processCpuNanos();
                long t0 = System.nanoTime();
                Long sum = null;
                double secs;
                if (v.load() == null) {
                    try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
                        secs = (System.nanoTime() - t0) / 1e9;
                        // right after the load the model's manager holds its weights and nothing else
                        sum = sum(new ArrayList<>(model.manager().getManagedArrays()), ckpt);
                    }
                } else {
                    try (NDManager m = NativeLibrary.engine().newBaseManager(Device.cpu())) {
                        List<NDArray> weights = v.load().apply(m);
                        secs = (System.nanoTime() - t0) / 1e9;
                        if (!v.label().startsWith("touch")) {
                            sum = sum(weights, ckpt);
                        }
                    }
                }
                double cpu = (processCpuNanos() - cpu0) / 1e9;
                seconds.computeIfAbsent(v.label(), x -> new ArrayList<>()).add(secs);
                System.out.printf("round %d  %-48s %6.2f s  (process CPU incl. checksum %6.2f s)  load avg %s%n", r + 1,
                        v.label(), secs, cpu, load);
                if (sum != null) {
                    if (expectedSum == null) {
                        expectedSum = sum;
                    } else if (!sum.equals(expectedSum)) {
                        throw new IllegalStateException(v.label() + " loaded other weights: sum " + sum + ", first " + expectedSum);
                    }
                }
            }
        }
        System.out.println();
        List<Double> first = seconds.get(variants.get(0).label());
        for (Variant v : variants) {
            List<Double> s = seconds.get(v.label());
            StringBuilder ratios = new StringBuilder();
            for (int r = 0; r < s.size(); r++) {
                ratios.append(String.format(" %.2fx", first.get(r) / s.get(r)));
            }
            System.out.printf("%-48s best %6.2f s  median %6.2f s  speed-up over the first, round by round:%s%n", v.label(),
                    s.stream().mapToDouble(Double::doubleValue).min().orElse(0), median(s), ratios);
        }
    }

    private static Variant variant(String key, Checkpoint ckpt, int threads) {
        WeightReader.Options one = new WeightReader.Options(1, false, false, 1L << 28);
        return switch (key) {
            case "before" -> new Variant("before: Java widening + concat", m -> JavaWideningBaseline.loadAll(m, ckpt));
            case "r1" -> new Variant("reader, 1 thread", m -> loadAll(m, ckpt, one));
            case "rN" -> new Variant("reader, " + threads + " threads", m -> loadAll(m, ckpt, one.withThreads(threads)));
            case "r1h" -> new Variant("reader, 1 thread, huge pages", m -> loadAll(m, ckpt, one.withHugePages(true)));
            case "rNh" -> new Variant("reader, " + threads + " threads, huge pages",
                    m -> loadAll(m, ckpt, one.withThreads(threads).withHugePages(true)));
            case "load" -> new Variant("LlamaModel.load (" + threads + " threads, huge pages)", null);
            case "touch1h" -> new Variant("touch only, 1 thread, huge pages", m -> touchOnly(m, ckpt, 1));
            case "touchNh" -> new Variant("touch only, " + threads + " threads, huge pages", m -> touchOnly(m, ckpt, threads));
            default -> throw new IllegalArgumentException("unknown variant " + key);
        };
    }

    /** Float32 arrays the size of every tensor, advised for huge pages, one byte per 4 KiB written on {@code threads}. */
    static List<NDArray> touchOnly(NDManager m, Checkpoint ckpt, int threads) {
        List<NDArray> out = new ArrayList<>();
        List<ByteBuffer> buffers = new ArrayList<>();
        for (SafetensorsFile f : ckpt.files()) {
            for (TensorInfo t : f.tensors().values()) {
                NDArray a = DeviceArrays.empty(m, new Shape(t.shape()), DataType.FLOAT32);
                ByteBuffer b = a.toByteBuffer(true);
                HugePages.advise(b);
                out.add(a);
                buffers.add(b);
            }
        }
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int part = w;
            workers.add(new Thread(() -> {
                for (ByteBuffer b : buffers) {
                    int pages = (b.capacity() + 4095) / 4096;
                    for (int p = pages * part / threads; p < pages * (part + 1) / threads; p++) {
                        b.put(p * 4096, (byte) 1);
                    }
                }
            }));
        }
        workers.forEach(Thread::start);
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** As much memory as the weights take, touched and freed, so the next load finds it backed. */
    static void touchAndFree(Checkpoint ckpt, int threads) {
        try (NDManager m = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            touchOnly(m, ckpt, threads);
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
     * number of words here): independent of the arrays' order, which a manager does not keep. The
     * embedding is left out: {@link LlamaModel#load} keeps a bf16 one as stored ({@link TokenEmbedding}).
     */
    static long sum(List<NDArray> arrays, Checkpoint ckpt) {
        Shape embedding = new Shape(ckpt.tensor("model.embed_tokens.weight").shape());
        long s = 0;
        for (NDArray a : arrays) {
            if (a.getShape().equals(embedding)) {
                continue;
            }
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
