package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {

    static final long SECOND = 1_000_000_000L;

    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    final AtomicLong clock = new AtomicLong(100 * SECOND);

    String written() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aLogGetsOneLinePerTenth() {
        ConsoleProgress p = new ConsoleProgress(out, false, clock::get);
        p.begin("model x: 2 files", 10_000, 0);
        clock.addAndGet(SECOND);
        p.advance(1_000); // 10% after 1 s: 1000 B/s, 9 s left
        p.advance(500); // 15%: no line
        clock.addAndGet(SECOND);
        p.advance(1_500); // 30% after 2 s: 1500 B/s, 7000 B left
        p.advance(7_000); // 100%: the end line says it
        clock.addAndGet(SECOND);
        p.end();
        assertEquals(String.join(System.lineSeparator(),
                "model x: 2 files: downloading 9.77 KiB",
                "model x: 2 files: 10% (1000 B / 9.77 KiB, 1000 B/s, 0:09 left)",
                "model x: 2 files: 30% (2.93 KiB / 9.77 KiB, 1.46 KiB/s, 0:05 left)",
                "model x: 2 files: done, 9.77 KiB in 0:03 (3.25 KiB/s)", ""), written());
    }

    @Test
    void aTerminalGetsOneLineRedrawnAtMostFiveTimesASecond() {
        ConsoleProgress p = new ConsoleProgress(out, true, clock::get);
        p.begin("c4", 4 * 1024 * 1024, 1024 * 1024);
        clock.addAndGet(SECOND / 10);
        p.advance(1024 * 1024); // 0.1 s after the last draw: not redrawn
        clock.addAndGet(SECOND / 10);
        p.advance(0); // 0.2 s: redrawn, 1 MiB new in 0.2 s = 5 MiB/s, 2 MiB left
        p.notice("resuming");
        clock.addAndGet(SECOND);
        p.advance(2 * 1024 * 1024); // 1 s later: redrawn, 3 MiB new in 1.2 s
        p.end();
        String first = "\rc4  25% [#####               ] 1.00 MiB / 4.00 MiB  -- B/s  --:-- left";
        String second = "\rc4  50% [##########          ] 2.00 MiB / 4.00 MiB  5.00 MiB/s  0:00 left";
        String blank = "\r" + " ".repeat(second.length() - 1) + "\r";
        String third = "\rc4  50% [##########          ] 2.00 MiB / 4.00 MiB  5.00 MiB/s  0:00 left";
        String full = "\rc4 100% [####################] 4.00 MiB / 4.00 MiB  2.50 MiB/s  0:00 left";
        String done = "\rc4: done, 3.00 MiB in 0:01 (2.50 MiB/s)";
        assertEquals(first + second + blank + "resuming" + System.lineSeparator() + third + full
                + done + " ".repeat(full.length() - done.length()) + System.lineSeparator(), written());
    }

    @Test
    void formatsSizesAndDurations() {
        assertEquals("1023 B", ConsoleProgress.bytes(1023));
        assertEquals("1.50 KiB", ConsoleProgress.bytes(1536));
        assertEquals("52.3 MiB", ConsoleProgress.bytes(Math.round(52.3 * 1024 * 1024)));
        assertEquals("2.47 GiB", ConsoleProgress.bytes(Math.round(2.47 * 1024 * 1024 * 1024)));
        assertEquals("0:07", ConsoleProgress.duration(7.4));
        assertEquals("12:05", ConsoleProgress.duration(725));
        assertEquals("1:01:01", ConsoleProgress.duration(3661));
    }
}
