package io.layerscope.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Help wrapped at spaces only. picocli wraps with java.text's line BreakIterator, which also breaks
 * after a dot or a colon inside a word: {@code 'mlp\.down_proj$'}, {@code DIR/run.json} or
 * {@code meta-llama/Llama-3.2-1B} came out cut in two, and a copy and paste of them then went wrong.
 * Each help section is laid out by picocli on one line per row, then wrapped here to the width
 * picocli would have used (the terminal's, else 80), with picocli's hanging indents.
 */
final class HelpWrapping {
    /** Wide enough that picocli wraps nothing. */
    private static final int UNWRAPPED = 100_000;
    /** The least room a wrapped line keeps for its words. */
    private static final int MIN_TEXT = 20;
    /** picocli's indent of a wrapped description line past its column. */
    private static final int WRAPPED_INDENT = 2;
    /** picocli's colours (a terminal's help): no width of their own. */
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[;\\d]*m");
    /** The gap before a two-column row's second column (an option's description, a command's summary). */
    private static final Pattern COLUMN_GAP = Pattern.compile("\\S {2,}(?=\\S)");
    /** Where a synopsis's arguments start, after "Usage: " and the command's words. */
    private static final Pattern SYNOPSIS_ARGUMENTS = Pattern.compile(" (?=[\\[<(-])");

    private HelpWrapping() {
    }

    /** Makes {@code cl} and its subcommands wrap their help at spaces only. */
    static void install(CommandLine cl) {
        Map<String, CommandLine.IHelpSectionRenderer> sections = new LinkedHashMap<>(cl.getHelpSectionMap());
        sections.replaceAll((key, renderer) -> help -> {
            UsageMessageSpec usage = help.commandSpec().usageMessage();
            boolean auto = usage.autoWidth();
            int width = usage.width();   // the terminal's with auto width
            usage.autoWidth(false).width(UNWRAPPED);
            try {
                String text = renderer.render(help);
                if (!key.equals(CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS)) {
                    return wrap(text, width);
                }
                // the synopsis goes on under its arguments, past the heading printed before it ("Usage: ")
                String heading = visible(help.synopsisHeading());
                return heading.contains("\n") ? wrap(text, width) : wrap(heading + text, width).substring(heading.length());
            } finally {
                usage.width(width).autoWidth(auto);
            }
        });
        cl.setHelpSectionMap(sections);
        cl.getSubcommands().values().forEach(HelpWrapping::install);
    }

    /** Each line of {@code text} wider than {@code width} wrapped at its spaces, under its hanging indent. */
    static String wrap(String text, int width) {
        String[] lines = text.split("\\R", -1);
        List<String> out = new ArrayList<>(lines.length);
        for (String line : lines) {
            out.add(visible(line).length() <= width ? line : wrapLine(line, width));
        }
        return String.join(System.lineSeparator(), out);
    }

    private static String wrapLine(String line, int width) {
        String plain = visible(line);
        String command = plain.strip();
        if (command.startsWith("./submit.sh") || command.startsWith("source <(")) {
            return line;   // an example command: pasted whole, never cut without a backslash
        }
        int body = bodyStart(plain);
        // a synopsis goes on under its arguments; a description (a column's, or a line of its own) 2 further in
        int indent = plain.startsWith("Usage: ") ? body : body > 0 ? body + WRAPPED_INDENT : 0;
        // a column that leaves no room: the words keep some
        indent = Math.min(indent, Math.max(width - MIN_TEXT, width / 2));
        int split = rawIndex(line, body);
        StringBuilder out = new StringBuilder(line.substring(0, split));
        int column = body;
        boolean first = true;
        for (String word : line.substring(split).split(" +")) {
            if (word.isEmpty()) {
                continue;
            }
            int length = visible(word).length();
            if (!first && column + 1 + length > width) {
                out.append(System.lineSeparator()).append(" ".repeat(indent)).append(word);
                column = indent + length;
            } else {
                if (!first) {
                    out.append(' ');
                    column++;
                }
                out.append(word);
                column += length;
            }
            first = false;
        }
        return out.toString();
    }

    /** The column where the line's wrappable text starts: a synopsis's arguments, a second column, or the text. */
    private static int bodyStart(String plain) {
        if (plain.startsWith("Usage: ")) {
            Matcher m = SYNOPSIS_ARGUMENTS.matcher(plain);
            return m.find("Usage: ".length()) ? m.end() : "Usage: ".length();
        }
        int lead = leadingSpaces(plain);
        Matcher gap = COLUMN_GAP.matcher(plain);
        if (gap.find(lead) && gap.start() < plain.length() / 2 && gap.end() <= 40) {
            return gap.end();
        }
        return lead;
    }

    private static int leadingSpaces(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return i;
    }

    /** {@code s} without picocli's colour codes: what a terminal shows. */
    private static String visible(String s) {
        return ANSI.matcher(s).replaceAll("");
    }

    /** The index in {@code raw} of its {@code column}-th visible character (colour codes skipped). */
    private static int rawIndex(String raw, int column) {
        Matcher code = ANSI.matcher(raw);
        int i = 0;
        int seen = 0;
        while (i < raw.length() && seen < column) {
            if (code.find(i) && code.start() == i) {
                i = code.end();
            } else {
                i++;
                seen++;
            }
        }
        return i;
    }
}
