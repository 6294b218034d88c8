package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Help that fits its width with whole example commands, and a bash completion script that bash itself runs. */
class HelpAndCompletionTest {
    @TempDir
    Path tmp;

    /**
     * The root and every subcommand, by qualified name, laid out at 80 columns: the width without a
     * terminal, fixed here so that a test run from a terminal of another width checks the same.
     */
    private static Map<String, CommandLine> everyCommand() {
        Map<String, CommandLine> all = new LinkedHashMap<>();
        CommandLine root = Main.commandLine(MainTest.OFFLINE);
        all.put("layerscope", root);
        root.getSubcommands().forEach((name, c) -> all.put("layerscope " + name, c));
        all.values().forEach(c -> {
            assertTrue(c.getCommandSpec().usageMessage().autoWidth(), c.getCommandName() + " does not follow the terminal's width");
            c.getCommandSpec().usageMessage().autoWidth(false).width(80);
        });
        return all;
    }

    @Test
    void noHelpLineIsWiderThanTheHelpWidth() {
        for (Map.Entry<String, CommandLine> e : everyCommand().entrySet()) {
            CommandLine c = e.getValue();
            int width = c.getCommandSpec().usageMessage().width();
            for (String line : c.getUsageMessage().split("\\R")) {
                assertTrue(line.length() <= width, e.getKey() + ": " + line.length() + " > " + width + ": " + line);
            }
        }
    }

    /** Lines break at spaces only: a regex, a file name or a model id is never cut where a dot or colon is. */
    @Test
    void helpWrapsAtSpacesOnly() {
        for (Map.Entry<String, CommandLine> e : everyCommand().entrySet()) {
            CommandLine c = e.getValue();
            String at80 = c.getUsageMessage();
            c.getCommandSpec().usageMessage().width(10_000);
            String unwrapped = c.getUsageMessage();
            c.getCommandSpec().usageMessage().width(80);
            assertEquals(Arrays.asList(unwrapped.strip().split("\\s+")), Arrays.asList(at80.strip().split("\\s+")),
                    e.getKey() + ": a word was cut\n" + at80);
        }
        String sweep = everyCommand().get("layerscope sweep").getUsageMessage();
        for (String whole : List.of("'mlp\\.down_proj$'", "DIR/run.json", "meta-llama/Llama-3.2-1B.", "llama.cpp's")) {
            assertTrue(sweep.contains(whole), whole + "\n" + sweep);
        }
    }

    /** picocli's colours (a terminal's help) take no width; the hanging indents are picocli's. */
    @Test
    void colouredHelpWrapsByWhatTheTerminalShows() {
        String bold = "\u001B[1m--layers\u001B[21m\u001B[0m=\u001B[3mREGEX\u001B[23m\u001B[0m";
        String row = "      " + bold + "         Only layers whose name matches (e.g. 'mlp\\.down_proj$').";
        assertEquals("      " + bold + "         Only layers whose name matches (e.g." + System.lineSeparator()
                + " ".repeat(31) + "'mlp\\.down_proj$').", HelpWrapping.wrap(row, 72));
        // at picocli's narrowest width the description keeps its column
        String narrow = HelpWrapping.wrap("      --model=MODEL          A Hugging Face model directory, a repo id (from the cache,"
                + " else downloaded from the Hub), or \"demo\" (the embedded demo model).", 55);
        narrow.lines().skip(1).forEach(l -> assertTrue(l.startsWith(" ".repeat(31)) && l.charAt(31) != ' ' && l.length() <= 55,
                l));
        assertEquals("one two" + System.lineSeparator() + "three", HelpWrapping.wrap("one two three", 8));
        assertEquals("  one two" + System.lineSeparator() + "    three", HelpWrapping.wrap("  one two three", 10));
    }

    @Test
    void exampleCommandsStayWhole() {
        int examples = 0;
        for (Map.Entry<String, CommandLine> e : everyCommand().entrySet()) {
            CommandLine c = e.getValue();
            List<String> help = Arrays.asList(c.getUsageMessage().split("\\R"));
            for (String line : c.getCommandSpec().usageMessage().footer()) {
                if (line.isBlank() || line.endsWith(":")) {
                    continue;
                }
                examples++;
                // each line of an example (a command, or a part of one ending in a backslash) is printed as written
                assertTrue(help.contains(line), e.getKey() + ": the example line was wrapped: " + line + "\n" + help);
                assertTrue(line.length() <= 80, line);
            }
            // a line that starts a command and does not end it goes on with a backslash: never cut mid-command
            for (int i = 0; i < help.size(); i++) {
                String line = help.get(i).strip();
                if (line.startsWith("./submit.sh") || line.startsWith("source <(")) {
                    String next = i + 1 < help.size() ? help.get(i + 1) : "";
                    assertTrue(line.endsWith("\\") || next.isBlank() || next.startsWith("  ./submit.sh")
                            || next.startsWith("  source") || !next.startsWith(" "), e.getKey() + ": " + line + " / " + next);
                }
            }
        }
        assertTrue(examples >= 5, examples + " example lines");
    }

    @Test
    void bashCompletesCommandsAndOptions() throws Exception {
        MainTest.Run r = MainTest.run("completion");
        assertEquals(0, r.status(), r.err());
        Path script = tmp.resolve("layerscope-completion.bash");
        Files.writeString(script, r.out());
        assertEquals(List.of("query"), complete(script, "./submit.sh", "qu"));
        assertEquals(List.of("layer", "layer-types"), complete(script, "./submit.sh", "layer"));
        assertEquals(List.of("--overwrite"), complete(script, "./submit.sh", "sweep", "--over"));
        assertEquals(List.of("--results"), complete(script, "layerscope", "query", "--res"));
        List<String> sweepOptions = complete(script, "submit.sh", "sweep", "--");
        for (String option : List.of("--model", "--out", "--nsamples", "--seqlen", "--calibration", "--layers", "--no-png")) {
            assertTrue(sweepOptions.contains(option), option + " not in " + sweepOptions);
        }
        assertEquals(List.of("json"), complete(script, "./submit.sh", "query", "--format", "js"));
        assertEquals(List.of("sequential"), complete(script, "./submit.sh", "sweep", "--mode", "s"));
        assertEquals(List.of("owl"), complete(script, "./submit.sh", "sweep", "--allocation", "o"));
        assertEquals(List.of("device"), complete(script, "./submit.sh", "sweep", "--stats-device", "d"));
        assertEquals(List.of("float16"), complete(script, "./submit.sh", "layer", "--dtype", "float1"));

        // submit.sh names the command ./submit.sh, which is no bash function name: the script is the same
        java.io.StringWriter viaScript = new java.io.StringWriter();
        picocli.CommandLine cl = Main.commandLine(java.util.Map.of("LAYERSCOPE_PROG", "./submit.sh"));
        cl.setOut(new java.io.PrintWriter(viaScript));
        assertEquals(0, cl.execute("completion"));
        assertEquals(r.out(), viaScript.toString());
    }

    /** What bash offers for the last word of {@code words}, as the completion function fills COMPREPLY. */
    private List<String> complete(Path script, String... words) throws Exception {
        StringBuilder array = new StringBuilder();
        for (String w : words) {
            array.append(" '").append(w).append('\'');
        }
        String line = String.join(" ", words);
        String program = "source '" + script + "'\n"
                + "COMP_WORDS=(" + array + ")\n"
                + "COMP_CWORD=" + (words.length - 1) + "\n"
                + "COMP_LINE='" + line + "'\nCOMP_POINT=" + line.length() + "\n"
                + "spec=$(complete -p '" + words[0] + "')\n"
                + "fn=$(sed -E 's/.*-F ([^ ]+).*/\\1/' <<< \"$spec\")\n"
                + "$fn '" + words[0] + "' '" + words[words.length - 1] + "' '" + words[words.length - 2] + "'\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        // stderr apart: compopt complains when called outside a real completion, which is harmless here
        Process p = new ProcessBuilder("bash", "-c", program).redirectError(tmp.resolve("bash.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + Files.readString(tmp.resolve("bash.err")));
        List<String> offered = new ArrayList<>();
        out.lines().map(String::strip).filter(s -> !s.isEmpty()).forEach(offered::add);
        offered.sort(null);
        return offered;
    }
}
