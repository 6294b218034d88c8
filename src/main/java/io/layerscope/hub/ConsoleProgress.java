package io.layerscope.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar for downloads on standard error: bytes done and total, rate and time left.
 * On a terminal it is one line redrawn with {@code \r} at most five times a second; otherwise
 * (a log file, a pipe) it prints one line each time another tenth of the batch is done, so logs
 * stay short.
 *
 * <pre>
 * model meta-llama/Llama-3.2-1B: 3 files  45% [#########           ] 1.10 GiB / 2.47 GiB  52.3 MiB/s  0:26 left
 * </pre>
 */
public final class ConsoleProgress implements ProgressListener {

    static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 20;

    private final PrintStream out;
    private final boolean interactive;
    private final LongSupplier nanoClock;

    private String label;
    private long total;
    private long resumed;
    private long done;
    private long startNanos;
    private long lastDrawNanos;
    private int lastTenth;
    private int drawnLength;
    private boolean active;

    /**
     * @param out where to write (standard error in the application)
     * @param interactive true when {@code out} is a terminal: redraw one line; false: one line per tenth
     * @param nanoClock {@link System#nanoTime} in the application, a fake clock in tests
     */
    public ConsoleProgress(PrintStream out, boolean interactive, LongSupplier nanoClock) {
        this.out = out;
        this.interactive = interactive;
        this.nanoClock = nanoClock;
    }

    /**
     * The console bar on {@code System.err}. Java 17 cannot ask whether standard error itself is a
     * terminal; {@code System.console()} (standard input and output are terminals) and a TERM other
     * than "dumb" stand in for it.
     */
    public static ConsoleProgress toStandardError() {
        boolean terminal = System.console() != null && !"dumb".equals(System.getenv("TERM"));
        return new ConsoleProgress(System.err, terminal, System::nanoTime);
    }

    @Override
    public synchronized void begin(String label, long totalBytes, long resumedBytes) {
        this.label = Redaction.userInfo(label);
        this.total = Math.max(0, totalBytes);
        this.resumed = Math.max(0, resumedBytes);
        this.done = this.resumed;
        this.startNanos = nanoClock.getAsLong();
        this.lastDrawNanos = startNanos;
        this.lastTenth = tenth();
        this.drawnLength = 0;
        this.active = true;
        if (interactive) {
            draw();
        } else {
            out.println(label + ": downloading " + bytes(total)
                    + (resumed > 0 ? " (" + bytes(resumed) + " already there from an interrupted download)" : ""));
            out.flush();
        }
    }

    @Override
    public synchronized void advance(long bytes) {
        if (!active) {
            return;
        }
        done = Math.max(0, done + bytes);
        long now = nanoClock.getAsLong();
        if (interactive) {
            if (now - lastDrawNanos >= REDRAW_NANOS) {
                lastDrawNanos = now;
                draw();
            }
        } else {
            int tenth = tenth();
            if (tenth > lastTenth && tenth < 10) {
                lastTenth = tenth;
                out.println(label + ": " + status(now));
                out.flush();
            }
        }
    }

    @Override
    public synchronized void end() {
        if (!active) {
            return;
        }
        long now = nanoClock.getAsLong();
        double seconds = (now - startNanos) / 1e9;
        String summary = done >= total
                ? "done, " + bytes(done - resumed) + " in " + duration(seconds)
                        + (seconds > 0 ? " (" + rate(now) + ")" : "")
                : "stopped at " + percent() + " (" + bytes(done) + " / " + bytes(total) + ")";
        if (interactive) {
            print("\r" + pad(label + ": " + summary));
            out.println();
        } else {
            out.println(label + ": " + summary);
        }
        out.flush();
        active = false;
    }

    @Override
    public synchronized void notice(String text) {
        String message = Redaction.userInfo(text); // a URL in a reason must not show its password
        if (interactive && active) {
            print("\r" + pad(""));
            out.print("\r");
            drawnLength = 0;
            out.println(message);
            draw();
        } else {
            out.println(message);
        }
        out.flush();
    }

    private void draw() {
        long now = nanoClock.getAsLong();
        int filled = total == 0 ? BAR_WIDTH : (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
        String bar = "[" + "#".repeat(filled) + " ".repeat(BAR_WIDTH - filled) + "]";
        print("\r" + pad(label + " " + String.format(Locale.ROOT, "%4s", percent()) + " " + bar + " " + bytes(done)
                + " / " + bytes(total) + "  " + rate(now) + "  " + timeLeft(now)));
        out.flush();
    }

    private String status(long now) {
        return percent() + " (" + bytes(done) + " / " + bytes(total) + ", " + rate(now) + ", " + timeLeft(now) + ")";
    }

    private void print(String line) {
        out.print(line);
        drawnLength = line.length() - 1;
    }

    /** Blanks what a longer earlier line left behind. */
    private String pad(String line) {
        return line.length() >= drawnLength ? line : line + " ".repeat(drawnLength - line.length());
    }

    private int tenth() {
        return total == 0 ? 10 : (int) Math.min(10, done * 10 / total);
    }

    private String percent() {
        return (total == 0 ? 100 : Math.min(100, done * 100 / total)) + "%";
    }

    private double bytesPerSecond(long now) {
        double seconds = (now - startNanos) / 1e9;
        return seconds <= 0 ? 0 : (done - resumed) / seconds;
    }

    private String rate(long now) {
        double r = bytesPerSecond(now);
        return r <= 0 ? "-- B/s" : bytes((long) r) + "/s";
    }

    private String timeLeft(long now) {
        double r = bytesPerSecond(now);
        return r <= 0 ? "--:-- left" : duration((total - done) / r) + " left";
    }

    /** 1023 B, 1.50 KiB, 52.3 MiB, 2.47 GiB: three significant digits, binary units. */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String format = v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s";
        return String.format(Locale.ROOT, format, v, units[u]);
    }

    /** m:ss below an hour, h:mm:ss above. */
    static String duration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
