package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.llama.HiddenStates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executor's store of the residual stream between --gram passes. */
class KeptStatesTest {
    @TempDir
    Path tmp;

    static HiddenStates states(int first, int sequences, int tokens) {
        byte[] data = new byte[sequences * tokens * 4 * 4];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (first * 31 + i);
        }
        return new HiddenStates(first, sequences, tokens, 4, false, data);
    }

    @Test
    void committedStatesAreClaimedOnceInTheOrderWrittenAndDeletedAfter() {
        Path file = tmp.resolve("a");
        List<HiddenStates> written = List.of(states(0, 2, 3), states(2, 1, 5), states(3, 2, 3));
        try (KeptStates.Writer w = KeptStates.writer("run-a", 1, 4, file)) {
            written.forEach(w);
            w.commit();
            assertNull(w.failure());
        }
        assertTrue(Files.exists(file), "a committed writer leaves its file to the next pass");
        assertNull(KeptStates.claim("run-a", 0, 4), "another partition");
        assertNull(KeptStates.claim("run-b", 1, 4), "another run");
        try (KeptStates.Claim c = KeptStates.claim("run-a", 1, 4)) {
            List<HiddenStates> read = new ArrayList<>();
            c.states().forEachRemaining(read::add);
            assertEquals(3, read.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(written.get(i).firstSample(), read.get(i).firstSample());
                assertEquals(written.get(i).tokens(), read.get(i).tokens());
                assertArrayEquals(written.get(i).data(), read.get(i).data());
            }
            assertNull(KeptStates.claim("run-a", 1, 4), "taken out by the first claim");
        }
        assertFalse(Files.exists(file));
    }

    @Test
    void claimedStatesKeptAgainAreOfferedUnchangedToTheNextPass() {
        Path file = tmp.resolve("again");
        List<HiddenStates> written = List.of(states(0, 2, 3), states(2, 1, 5));
        int committed = KeptStates.committed();
        try (KeptStates.Writer w = KeptStates.writer("run-e", 2, 3, file)) {
            written.forEach(w);
            w.commit();
        }
        assertEquals(committed + 1, KeptStates.committed());
        try (KeptStates.Claim c = KeptStates.claim("run-e", 2, 3)) {
            c.states().forEachRemaining(s -> { });
            c.keepAgain();
        }
        assertTrue(Files.exists(file), "kept again, not deleted");
        assertEquals(committed + 1, KeptStates.committed(), "nothing written again");
        try (KeptStates.Claim c = KeptStates.claim("run-e", 2, 3)) {
            List<HiddenStates> read = new ArrayList<>();
            c.states().forEachRemaining(read::add);
            assertEquals(2, read.size());
            for (int i = 0; i < 2; i++) {
                assertEquals(written.get(i).firstSample(), read.get(i).firstSample());
                assertArrayEquals(written.get(i).data(), read.get(i).data());
            }
        }
        assertFalse(Files.exists(file), "deleted by the claim that did not keep it again");
        assertNull(KeptStates.claim("run-e", 2, 3));
    }

    @Test
    void statesAtAnotherBlockAreNotResumedFromAndAreDeleted() {
        Path file = tmp.resolve("b");
        try (KeptStates.Writer w = KeptStates.writer("run-c", 0, 2, file)) {
            w.accept(states(0, 1, 2));
            w.commit();
        }
        assertNull(KeptStates.claim("run-c", 0, 3));
        assertFalse(Files.exists(file));
        assertNull(KeptStates.claim("run-c", 0, 2));
    }

    @Test
    void aNewerPassReplacesTheStatesOfItsPartitionAndForgetDeletesARunsStates() {
        Path older = tmp.resolve("older");
        Path newer = tmp.resolve("newer");
        Path other = tmp.resolve("other");
        int before = KeptStates.kept();
        for (Path f : List.of(older, newer)) {
            try (KeptStates.Writer w = KeptStates.writer("run-d", 0, f == older ? 1 : 2, f)) {
                w.accept(states(0, 1, 2));
                w.commit();
            }
        }
        try (KeptStates.Writer w = KeptStates.writer("run-e", 0, 1, other)) {
            w.commit();
        }
        assertFalse(Files.exists(older));
        assertEquals(before + 2, KeptStates.kept());
        KeptStates.forget("run-d");
        assertFalse(Files.exists(newer));
        assertTrue(Files.exists(other));
        assertEquals(before + 1, KeptStates.kept());
        try (KeptStates.Claim c = KeptStates.claim("run-e", 0, 1)) {
            assertFalse(c.states().hasNext(), "a pass of no batches keeps an empty stream");
        }
    }

    @Test
    void aWriterThatFailsOrIsNotCommittedKeepsNothing() {
        Path file = tmp.resolve("uncommitted");
        try (KeptStates.Writer w = KeptStates.writer("run-f", 0, 1, file)) {
            w.accept(states(0, 1, 2));
        }
        assertFalse(Files.exists(file));
        assertNull(KeptStates.claim("run-f", 0, 1));

        Path missing = tmp.resolve("no-such-dir").resolve("f");
        try (KeptStates.Writer w = KeptStates.writer("run-f", 0, 1, missing)) {
            w.accept(states(0, 1, 2));
            w.commit();
            assertEquals(missing.toString(), w.failure());
        }
        assertNull(KeptStates.claim("run-f", 0, 1));
        assertArrayEquals(new String[0], tmp.toFile().list(), "nothing left behind");
    }
}
