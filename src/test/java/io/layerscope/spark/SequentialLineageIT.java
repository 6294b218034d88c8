package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.llama.ComputeDtype;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.spark.SequentialStage.Carried;
import io.layerscope.spark.SequentialStage.PassOutput;
import io.layerscope.spark.SequentialStage.Round;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.junit.jupiter.api.Test;

/**
 * What --mode sequential ships with each task: a pass's lineage holds every round before it, so each
 * round's share of it must not grow with the model's width. Spark serialises a task's RDD chain
 * with Java serialisation; so does this test, over the pruned passes of a Llama-3.1-8B-shaped block
 * (whose rows, 26,624 floats dense and as many sequential, are 213 KB a round), without running them.
 */
class SequentialLineageIT {
    static final int ROUNDS = 8;

    @Test
    void eachRoundAddsAFewKilobytesWhateverTheRowsWeigh() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkSessions.getOrCreate("lineage test").sparkContext());
        ModelSpec spec = new ModelSpec("/nowhere", ComputeDtype.FLOAT32, 31, List.of("0/q"), 1);
        JavaRDD<PassOutput> pass = jsc.parallelize(List.<PassOutput>of(), 2);
        List<Broadcast<Round>> shipped = new ArrayList<>();
        SequentialStage.PassProgress counts = new SequentialStage.PassProgress(jsc.sc().longAccumulator("samples"),
                jsc.sc().longAccumulator("tokens"));
        long[] bytes = new long[ROUNDS + 1];
        bytes[0] = serialisedSize(pass.rdd());
        try {
            for (int b = 0; b < ROUNDS; b++) {
                Round round = new Round("round-" + b, b, 0.5, SparsityPattern.UNSTRUCTURED, eightBillionRows(b),
                        eightBillionRows(b + 1000));
                assertTrue(serialisedSize(round) > 200_000, "the rows of a round weigh " + serialisedSize(round));
                Broadcast<Round> r = jsc.broadcast(round.forPrunedPass());
                shipped.add(r);
                JavaRDD<Carried> input = SequentialStage.carried(pass);
                pass = SequentialStage.prunedPass(input, spec, r, false, org.apache.spark.storage.StorageLevel.DISK_ONLY(),
                        counts);
                bytes[b + 1] = serialisedSize(pass.rdd());
            }
            long perRound = (bytes[ROUNDS] - bytes[1]) / (ROUNDS - 1);
            assertTrue(perRound < 4096, "lineage grows by " + perRound + " bytes a round: " + java.util.Arrays.toString(bytes));
            // the task reads the round's rows from the broadcast; the dense rows serve the drift only
            Round back = shipped.get(ROUNDS - 1).value();
            assertEquals(4, back.scalerRows().size());
            assertEquals(14_336, back.scalerRows().get("7/down").length);
            assertTrue(back.denseScalerRows().isEmpty());
        } finally {
            shipped.forEach(r -> r.destroy(false));
        }
    }

    /** A block's four taps at Llama-3.1-8B's width: hidden 4096, intermediate 14336. */
    private static Map<String, float[]> eightBillionRows(int block) {
        Map<String, float[]> rows = new LinkedHashMap<>();
        int[] widths = {4096, 4096, 4096, 14_336};
        String[] taps = {"q", "o", "gate", "down"};
        for (int t = 0; t < taps.length; t++) {
            float[] row = new float[widths[t]];
            for (int j = 0; j < row.length; j++) {
                row[j] = (j * 31 + block) % 977 / 977f;
            }
            rows.put(block + "/" + taps[t], row);
        }
        return rows;
    }

    private static long serialisedSize(Object o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.size();
    }
}
