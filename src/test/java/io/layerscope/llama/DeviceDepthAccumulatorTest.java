package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthStatistics;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.OutlierFeature;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The depth statistics as device reductions ({@link DeviceDepthAccumulator}, what a GPU executor
 * runs) against the host scans ({@link DepthAccumulator}) on CPU libtorch: counts, peaks, medians and
 * distances identical; block influence, a sum of doubles added in another order, within 1e-12
 * relative. On streams with NaNs of both signs, infinities, ties at the top and |x| exactly 6, and on
 * the demo model's forward.
 */
class DeviceDepthAccumulatorTest {
    private static final int HIDDEN = 12;
    private static final int INTERMEDIATE = 20;

    @TempDir
    Path tmp;

    /** Both accumulators fed the same tensors: two batches (samples out of order), two blocks each. */
    @Test
    void specialValuesAndTiesGiveWhatTheHostScansGive() {
        DepthSums host = new DepthSums();
        DepthSums device = new DepthSums();
        SplittableRandom random = new SplittableRandom(17);
        try (NDManager manager = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            ExactFloatBits bits = new ExactFloatBits(manager);
            int[][] batches = {{5, 2}, {0, 9, 4}};
            for (int[] samples : batches) {
                int tokens = 7;
                try (NDManager batch = manager.newSubManager()) {
                    BatchDepth h = new DepthAccumulator(host, new HashMap<>(), new float[2][]);
                    BatchDepth d = new DeviceDepthAccumulator(device, batch, bits);
                    h.beginBatch(samples, tokens);
                    d.beginBatch(samples, tokens);
                    NDArray stream = array(batch, random, samples.length, tokens, HIDDEN);
                    for (int block = 0; block < 2; block++) {
                        taps(h, d, block, batch, random, samples.length, tokens);
                        NDArray next = array(batch, random, samples.length, tokens, HIDDEN);
                        h.residual(block, stream, next);
                        d.residual(block, stream, next);
                        stream = next;
                    }
                    h.endBatch();
                    d.endBatch();
                }
            }
        }
        assertSame(host, device);
        // the streams hold NaNs, ties and infinities: the comparison saw them
        BlockDepth b0 = DepthStatistics.blocks(host).get(0);
        assertEquals(Float.POSITIVE_INFINITY, b0.top().abs());
        assertTrue(Double.isNaN(b0.blockInfluence()));
        assertTrue(host.histogramOf(0)[0x7fc0] > 0, "no NaN");
    }

    /**
     * Sequential mode's pruned pass: the residual stream around one block per round, batch by batch
     * (samples out of order, specials planted), reduced on the device and scanned on the host.
     */
    @Test
    void thePrunedPassesStreamsGiveWhatTheHostScansGive() {
        DepthSums host = new DepthSums();
        DepthSums device = new DepthSums();
        SplittableRandom random = new SplittableRandom(23);
        try (NDManager manager = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            int[][] batches = {{5, 2}, {0, 9, 4}};
            int tokens = 6;
            for (int block = 0; block < 3; block++) {
                for (int[] samples : batches) {
                    try (NDManager batch = manager.newSubManager()) {
                        NDArray in = array(batch, random, samples.length, tokens, HIDDEN);
                        NDArray out = array(batch, random, samples.length, tokens, HIDDEN);
                        host.blockStreams(block, samples, in.toFloatArray(), out.toFloatArray(), tokens, HIDDEN);
                        DeviceDepthAccumulator.blockStreams(device, batch, block, samples, tokens, in, out);
                    }
                }
            }
        }
        host.finishSequences();
        device.finishSequences();
        assertSame(host, device);
        assertEquals(3, DepthStatistics.blocks(host).size());
        assertTrue(host.histogramOf(2)[0x7fc0] > 0, "no NaN");
    }

    /**
     * The demo model's forward (its planted outlier features), batches of 2 in a group, both ways; in
     * float16 too, as a GPU executor computes.
     */
    @ParameterizedTest
    @EnumSource(value = ComputeDtype.class, names = {"FLOAT32", "FLOAT16"})
    void theDemoModelsForwardGivesWhatTheHostScansGive(ComputeDtype dtype) throws Exception {
        Checkpoint ckpt = Checkpoint.open(DemoModel.ensure(tmp));
        List<int[]> windows = TinyModels.windows(5, 16, 31);
        int[] samples = {3, 4, 0, 1, 2};
        LlamaModel.Pass hostPass;
        LlamaModel.Pass devicePass;
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), dtype)) {
            assertEquals(dtype.name(), model.computeType().name());
            hostPass = model.forward(windows, samples, 2, model.tapKeys(), true, List.of());
            model.depthOnDevice(true);
            devicePass = model.forward(windows, samples, 2, model.tapKeys(), true, List.of());
        }
        assertSame(hostPass.depth(), devicePass.depth());
        assertTrue(DepthStatistics.outlierFeatures(hostPass.depth(), 0, 0).size() > 0, "no outlier feature to compare");
        for (String key : hostPass.sums().keys()) {
            assertArrayEquals(hostPass.sums().sumSq().get(key), devicePass.sums().sumSq().get(key), key);
        }
    }

    /**
     * Sequential mode's dense pass: the marks packed on the device are the host's bit for bit (entry
     * counts not a multiple of 32 included), and so are the counts and down_proj's spikes; then
     * through the model's dense block run, float32 and float16.
     */
    @Test
    void theDenseRoundsMarksAndCountsAreTheHostsBitForBit() throws Exception {
        DepthSums host = new DepthSums();
        DepthSums device = new DepthSums();
        OutlierPositions hostMarks = new OutlierPositions();
        OutlierPositions deviceMarks = new OutlierPositions();
        SplittableRandom random = new SplittableRandom(5);
        int[] samples = {3, 1};
        int tokens = 7;   // 2 x 7 x 12 = 168 entries, 2 x 7 x 20 = 280: neither a multiple of 32
        try (NDManager batch = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            BatchDepth h = new DepthAccumulator(host, new HashMap<>(), new float[2][]);
            BatchDepth d = new DeviceDepthAccumulator(device, batch, null);
            h.beginBatch(samples, tokens);
            d.beginBatch(samples, tokens);
            TapSink hs = h.denseRound(hostMarks);
            TapSink ds = d.denseRound(deviceMarks);
            for (int block = 0; block < 3; block++) {
                taps(hs, ds, block, batch, random, samples.length, tokens);
            }
        }
        assertArrayEquals(bytes(hostMarks), bytes(deviceMarks), "marks");
        assertArrayEquals(bytes(host), bytes(device), "counts and spikes");
        assertTrue(hostMarks.positions(Tap.MLP_ACT).length == INTERMEDIATE);

        Checkpoint ckpt = Checkpoint.open(DemoModel.ensure(tmp));
        for (ComputeDtype dtype : new ComputeDtype[] {ComputeDtype.FLOAT32, ComputeDtype.FLOAT16}) {
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), dtype)) {
                HiddenStates states = model.embed(TinyModels.windows(2, 9, 43), 4);
                DepthSums[] sums = {new DepthSums(), new DepthSums()};
                OutlierPositions[] marks = {new OutlierPositions(), new OutlierPositions()};
                for (int way = 0; way < 2; way++) {
                    model.depthOnDevice(way == 1);
                    for (int block = 0; block < 2; block++) {
                        model.denseBlockTaps(states, block, sums[way], marks[way]);
                    }
                }
                assertArrayEquals(bytes(marks[0]), bytes(marks[1]), dtype + " marks");
                assertArrayEquals(bytes(sums[0]), bytes(sums[1]), dtype + " counts and spikes");
            }
        }
    }

    /** The same four random taps of a block, and down_proj's output, to both sinks. */
    private static void taps(TapSink a, TapSink b, int block, NDManager manager, SplittableRandom random, int batch,
                             int tokens) {
        for (Tap tap : new Tap[] {Tap.ATTN_IN, Tap.ATTN_OUT, Tap.MLP_IN, Tap.MLP_ACT}) {
            NDArray x = array(manager, random, batch, tokens, tap == Tap.MLP_ACT ? INTERMEDIATE : HIDDEN);
            a.accept(tap.key(block), x);
            b.accept(tap.key(block), x);
            if (tap == Tap.MLP_ACT) {
                NDArray out = array(manager, random, batch, tokens, HIDDEN);
                a.downProj(block, x, out);
                b.downProj(block, x, out);
            }
        }
    }

    private static byte[] bytes(java.io.Serializable o) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    /** Everything the depth tables read, equal; block influence within 1e-12 relative. */
    private static void assertSame(DepthSums host, DepthSums device) {
        List<BlockDepth> h = DepthStatistics.blocks(host);
        List<BlockDepth> d = DepthStatistics.blocks(device);
        assertEquals(h.size(), d.size());
        for (int b = 0; b < h.size(); b++) {
            BlockDepth x = h.get(b);
            BlockDepth y = d.get(b);
            assertEquals(x.block(), y.block());
            if (Double.isNaN(x.blockInfluence())) {
                assertTrue(Double.isNaN(y.blockInfluence()), "block " + b);
            } else {
                assertEquals(x.blockInfluence(), y.blockInfluence(), 1e-12 * Math.abs(x.blockInfluence()), "block " + b);
            }
            assertEquals(x.angularDistanceNext(), y.angularDistanceNext(), "block " + b);
            assertEquals(x.top(), y.top(), "block " + b);
            assertArrayEquals(x.top3(), y.top3(), "block " + b);
            assertEquals(x.medianAbs(), y.medianAbs(), "block " + b);
            assertEquals(x.massive(), y.massive(), "block " + b);
            assertEquals(x.downIn(), y.downIn(), "block " + b);
            assertEquals(x.downOut(), y.downOut(), "block " + b);
            assertArrayEquals(host.histogramOf(x.block()), device.histogramOf(y.block()), "block " + b);
        }
        assertEquals(DepthStatistics.distances(host), DepthStatistics.distances(device));
        assertEquals(features(host), features(device));
        // the first-block counts: cut at each block both ways alike, and whole they add up to the any-block counts
        for (int b = 0; b < h.size(); b++) {
            assertEquals(features(host.upTo(b).orElseThrow()), features(device.upTo(b).orElseThrow()), "up to block " + b);
        }
        assertEquals(features(host), features(host.upTo(h.size() - 1).orElseThrow()));
    }

    /** Every channel that reached |x| >= 6 anywhere, with its shares and blocks, as text. */
    private static List<String> features(DepthSums d) {
        List<String> out = new ArrayList<>();
        for (OutlierFeature f : DepthStatistics.outlierFeatures(d, 0, 0)) {
            out.add(f.tap() + "/" + f.channel() + " " + f.blockShare() + " " + f.positionShare() + " "
                    + java.util.Arrays.toString(f.blocks()));
        }
        return out;
    }

    /**
     * [batch, tokens, features] float32 of small Gaussians with planted specials: NaNs of both signs,
     * infinities, |x| exactly 6 and just below, a value tied three times at the top of a sequence,
     * zeros of both signs and subnormals.
     */
    private static NDArray array(NDManager manager, SplittableRandom random, int batch, int tokens, int features) {
        float[] v = new float[batch * tokens * features];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 3);
        }
        float[] specials = {Float.NaN, Float.intBitsToFloat(0xffc00000), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 6f, -6f, Math.nextDown(6f), 0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL};
        for (float s : specials) {
            v[random.nextInt(v.length)] = s;
        }
        // a tie at a sequence's top, three times, and once more in another sequence
        float tie = 40f + random.nextInt(3);
        for (int n = 0; n < 3; n++) {
            v[random.nextInt(tokens * features)] = tie;
        }
        v[v.length - 1 - random.nextInt(tokens * features)] = -tie;
        return DeviceArrays.floats(manager, v, new Shape(batch, tokens, features));
    }
}
