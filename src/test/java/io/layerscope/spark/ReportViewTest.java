package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import org.junit.jupiter.api.Test;

/** The report's line on what the statistics see (a dense run's page and a sequential one's looked alike). */
class ReportViewTest {

    @Test
    void denseUniform() {
        assertEquals("dense model, masks at sparsity 0.5", ResultsWriter.view(JobOptions.Analysis.dense(null, false, 0.5)));
    }

    @Test
    void sequentialWithOwlsAllocation() {
        JobOptions.Analysis a = new JobOptions.Analysis(null, false, 0.7, PruneMode.SEQUENTIAL, SparsityPattern.UNSTRUCTURED,
                new Allocation(Allocation.Kind.OWL, 5, 0.08));
        assertEquals("sequential pruning (Wanda's, block by block), OWL's block sparsities around 0.7 (lambda 0.08, M 5)",
                ResultsWriter.view(a));
    }

    @Test
    void nOfMMasksNameTheirPatternNotTheSparsity() {
        JobOptions.Analysis a = new JobOptions.Analysis(null, false, 0.5, PruneMode.SEQUENTIAL, new SparsityPattern(2, 4),
                Allocation.uniform());
        assertEquals("sequential pruning (Wanda's, block by block), 2:4 masks", ResultsWriter.view(a));
    }
}
