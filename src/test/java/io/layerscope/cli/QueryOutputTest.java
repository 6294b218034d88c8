package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** QueryOutput's CSV quoting and its held-back streaming, fed strings and lines without Spark. */
class QueryOutputTest {
    @Test
    void csvQuotesFieldsWithCommasQuotesOrLineBreaksAndDoublesTheQuotes() {
        assertEquals("plain", QueryOutput.csvQuote("plain"));
        assertEquals("\"x,y\"", QueryOutput.csvQuote("x,y"));
        assertEquals("\"a\"\"b\"", QueryOutput.csvQuote("a\"b"));
        assertEquals("\"\"\"\"\"\"", QueryOutput.csvQuote("\"\""));
        assertEquals("\"l1\nl2\"", QueryOutput.csvQuote("l1\nl2"));
        assertEquals("\"a\rb\"", QueryOutput.csvQuote("a\rb"));
        assertEquals("\"say \"\"hi\"\",\r\n\"", QueryOutput.csvQuote("say \"hi\",\r\n"));
        // spaces and semicolons need no quotes in RFC 4180
        assertEquals(" a; b ", QueryOutput.csvQuote(" a; b "));
    }

    @Test
    void csvTellsANullFromAnEmptyString() {
        assertEquals("", QueryOutput.csvCell(null));
        assertEquals("\"\"", QueryOutput.csvCell(""));
        assertEquals("\"a\"\"b\"", QueryOutput.csvCell("a\"b"));
        assertEquals("[0A FF]", QueryOutput.csvCell(new byte[] {10, -1}));
        assertEquals("12.50", QueryOutput.csvCell(new java.math.BigDecimal("1.25E1").setScale(2)));
    }

    /** Lines of 1023 characters: with their newline, 1024 of them fill the held-back MiB. */
    private static final int LINE = 1023;

    private static String line(int i) {
        String n = Integer.toString(i);
        return n + "x".repeat(LINE - n.length());
    }

    /** Lines 0, 1, ... and then, in place of line {@code failAt}, an exception. */
    private static Iterator<String> failingAt(int failAt, RuntimeException e) {
        return new Iterator<>() {
            int next;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public String next() {
                if (next == failAt) {
                    throw e;
                }
                return line(next++);
            }
        };
    }

    /** What stream printed before {@code lines} failed; the failure itself is passed on unchanged. */
    private static String printedBefore(int failAt, String header) {
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text);
        RuntimeException boom = new RuntimeException("boom");
        assertSame(boom, assertThrows(RuntimeException.class, () -> QueryOutput.stream(failingAt(failAt, boom), header, out)));
        out.flush();
        return text.toString();
    }

    private static String lines(String header, int count) {
        StringBuilder b = new StringBuilder(header == null ? "" : header + "\n");
        for (int i = 0; i < count; i++) {
            b.append(line(i)).append('\n');
        }
        return b.toString();
    }

    @Test
    void anErrorWithinTheFirstMibPrintsNothingAndOnePastItCutsTheOutputShort() {
        assertEquals(1 << 20, QueryOutput.HOLD_BACK_CHARS, "the sizes below assume 1 MiB");
        // JSON Lines (no header): 1024 lines reach the MiB; an error in the 1024th leaves nothing printed
        assertEquals("", printedBefore(1023, null));
        assertEquals(lines(null, 1024), printedBefore(1024, null));
        // past the MiB each line is printed as it comes: all before the error are out
        assertEquals(lines(null, 1500), printedBefore(1500, null));
        // CSV's header is held back with the rows and counts towards the MiB: one as long as a line makes
        // 1023 lines enough
        String header = "h".repeat(LINE);
        assertEquals("", printedBefore(1022, header));
        assertEquals(lines(header, 1023), printedBefore(1023, header));
        // an error at once: not even the header
        assertEquals("", printedBefore(0, "h"));
    }

    @Test
    void aResultWithinTheFirstMibIsPrintedWholeAtItsEnd() {
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text);
        QueryOutput.stream(java.util.List.of("a,b", "1,2").iterator(), "x,y", out);
        out.flush();
        assertEquals("x,y\na,b\n1,2\n", text.toString());
        StringWriter empty = new StringWriter();
        PrintWriter none = new PrintWriter(empty);
        QueryOutput.stream(java.util.Collections.emptyIterator(), "x,y", none);
        none.flush();
        assertEquals("x,y\n", empty.toString(), "no rows: the header alone");
    }
}
