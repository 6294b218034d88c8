package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.layerscope.fixtures.TestRequirements;
import io.layerscope.plot.LayerSummary;
import io.layerscope.plot.TestSummaries;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens a report in a real headless Chromium, from disk, and checks the DOM after the page's script
 * ran: the address asks for a sort by Wanda mean, largest first, so the rows must come out in that
 * order (ties in model order), the headings must have become buttons, and every image and link in the
 * page must point at a file that exists (or an element of the page). The sweep is a --gram one, so
 * the page also has the two tables of the masks' output errors, which the sorting must leave alone. Chromium is required: CI installs
 * it in .ci/run; without it this test fails and says how to install it.
 */
class HtmlReportBrowserIT {
    private static final long TIMEOUT_SECONDS = 120;
    private static final Pattern ROW = Pattern.compile("<tr id=\"row-[^\"]*\"[^>]*>\\s*<td class=\"name\">(?:<a [^>]*>)?(.*?)(?:</a>)?</td>");
    private static final Pattern CELL = Pattern.compile("<td(?: class=\"([^\"]*)\")?[^>]*>(.*?)</td>");
    private static final Pattern LINK = Pattern.compile("<(?:a|img|link|script)\\b[^>]*?\\s(?:href|src)=\"([^\"]*)\"");

    @Test
    void sortedTableAndResolvableLinksInChromium(@TempDir Path tmp) throws Exception {
        Path chromium = TestRequirements.chromium();
        Path dir = tmp.resolve("results");
        List<LayerSummary> layers = new ArrayList<>(SyntheticReport.gramSweep(3));
        // A name that needs escaping in text and percent-encoding in links; no output errors (a zero output).
        layers.add(1, TestSummaries.of("model.layers.0.extra proj #1 <&>", 0, "extra", 16, 16, 2.0, 0.0125, 0.8, 0.8,
                0.8, 0.01, 0.001, 0.0));
        String model = "demo <&> \"model\"";
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("run.json"), "{}\n");
        SweepReport.write(dir, SyntheticReport.header(model), SyntheticReport.withPictures(dir, layers));

        String dom = dumpDom(chromium, tmp, dir.resolve(HtmlReport.FILE).toUri() + "#sort=wanda_mean:desc");

        assertTrue(dom.contains("<h1>" + "demo &lt;&amp;&gt; \"model\"" + "</h1>"), "escaped model name in the title");
        Matcher table = Pattern.compile("<table ([^>]*)>").matcher(dom);
        assertTrue(table.find(), "no table in the DOM");
        assertTrue(table.group(1).contains("class=\"sortable\""), "the script did not run: " + table.group(1));
        assertTrue(table.group(1).contains("data-sorted-by=\"wanda_mean:desc\""), "not sorted from the address: " + table.group(1));
        assertEquals(17, count(dom, "<th [^>]*data-key=\"[^\"]+\"[^>]*><button type=\"button\">"),
                "sortable headings: 12 and the five output errors");
        assertTrue(dom.contains("aria-sort=\"descending\""));

        String body = dom.substring(dom.indexOf("<tbody>"), dom.indexOf("</tbody>"));
        List<String> rows = new ArrayList<>();
        for (Matcher m = ROW.matcher(body); m.find(); ) {
            rows.add(unescape(m.group(1)));
        }
        assertEquals(layers.size(), rows.size(), "one table row per layer");
        List<String> expected = IntStream.range(0, layers.size()).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -layers.get(i).value("wanda_mean")).thenComparingInt(i -> i))
                .map(i -> layers.get(i).layer()).toList();
        assertEquals(expected, rows, "rows by Wanda mean, largest first, ties in model order");

        // the mask-error tables: not sortable, kinds in model order, the extra layer in no mean
        String byKind = table(dom, "mask-errors-by-kind");
        assertFalse(byKind.contains("<button"), "only the layer table sorts");
        assertEquals(List.of("q_proj", "extra", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"),
                cells(byKind, 0));
        assertEquals(List.of("Wanda", "\u2014", "Wanda", "Wanda", "Wanda", "RIA", "RIA", "RIA", "RIA"), cells(byKind, 7));
        String byDepth = table(dom, "mask-errors-by-depth");
        assertEquals(List.of("0", "1", "2", "head"), cells(byDepth, 0));
        assertEquals(List.of("7 of 8", "7", "7", "1"), cells(byDepth, 1));
        assertEquals(List.of("0.02429", "0.03643", "0.04857", "0.01250"), cells(byDepth, "least"));

        Set<String> ids = new HashSet<>();
        for (Matcher m = Pattern.compile("\\sid=\"([^\"]*)\"").matcher(dom); m.find(); ) {
            ids.add(unescape(m.group(1)));
        }
        int files = 0;
        URI base = dir.toUri();
        for (Matcher m = LINK.matcher(dom); m.find(); ) {
            String link = unescape(m.group(1));
            assertFalse(link.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") || link.startsWith("//"), "not relative: " + link);
            if (link.startsWith("#")) {
                assertTrue(ids.contains(link.substring(1)), "no element with id " + link);
                continue;
            }
            Path target = Path.of(base.resolve(link));
            assertTrue(Files.isRegularFile(target), "link " + link + " resolves to " + target + ", which does not exist");
            if (link.endsWith(".png")) {
                assertNotNull(ImageIO.read(target.toFile()), "not a readable picture: " + target);
            }
            files++;
        }
        // overview (link and image), per layer: picture link in the table, figure link and thumbnail; run.json
        assertEquals(2 + 3 * layers.size() + 1, files);
    }

    /** The element {@code <table id="id">...</table>} of the DOM. */
    private static String table(String dom, String id) {
        int start = dom.indexOf("<table id=\"" + id + "\"");
        assertTrue(start >= 0, "no table " + id + " in the DOM");
        return dom.substring(start, dom.indexOf("</table>", start));
    }

    /** The text of the {@code column}th cell (0-based) of every body row. */
    private static List<String> cells(String table, int column) {
        List<String> out = new ArrayList<>();
        for (Matcher row = Pattern.compile("<tr>(.*?)</tr>").matcher(table.substring(table.indexOf("<tbody>"))); row.find(); ) {
            List<String> texts = new ArrayList<>();
            for (Matcher td = CELL.matcher(row.group(1)); td.find(); ) {
                texts.add(td.group(2).replaceAll("<[^>]*>", ""));
            }
            out.add(unescape(texts.get(column)));
        }
        return out;
    }

    /** The text of the cells with {@code cssClass} among their classes, in document order. */
    private static List<String> cells(String table, String cssClass) {
        List<String> out = new ArrayList<>();
        for (Matcher td = CELL.matcher(table); td.find(); ) {
            if (td.group(1) != null && List.of(td.group(1).split(" ")).contains(cssClass)) {
                out.add(td.group(2));
            }
        }
        return out;
    }

    /** The DOM after load, as Chromium serialises it; the browser is killed if it takes longer than the bound. */
    static String dumpDom(Path chromium, Path tmp, String url) throws IOException, InterruptedException {
        Path out = tmp.resolve("dom.html");
        Path err = tmp.resolve("chromium.log");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + tmp.resolve("profile"), "--dump-dom", url)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            fail("chromium did not finish within " + TIMEOUT_SECONDS + " s on " + url + "; its log:\n" + tail(err));
        }
        String dom = Files.readString(out);
        if (p.exitValue() != 0 || !dom.contains("</html>")) {
            fail("chromium exited with " + p.exitValue() + " and no DOM for " + url + "; its log:\n" + tail(err));
        }
        return dom;
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    private static int count(String s, String regex) {
        int n = 0;
        for (Matcher m = Pattern.compile(regex).matcher(s); m.find(); ) {
            n++;
        }
        return n;
    }

    /** Undoes the entities Chromium's serialiser writes (text: &amp; &lt; &gt; &nbsp;; attributes: &amp; &quot;). */
    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&nbsp;", "\u00a0")
                .replace("&amp;", "&");
    }
}
