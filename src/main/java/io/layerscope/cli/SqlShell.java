package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The interactive side of {@code query}: reads SQL line by line over one {@link QuerySession} and
 * runs each statement when a semicolon ends it (or at the end of the input), printing each result as
 * {@code query} prints one. Lines that start with a dot are the shell's own commands
 * ({@value #HELP_LINES}). A failed statement prints its one-paragraph error and the shell reads
 * on; it ends at the end of the input or at {@code .quit}.
 *
 * <p>The prompt is printed only to a terminal: piped input gives only the results, as a one-shot
 * query would. Without a line-editing library on the class path the terminal's own line editing
 * applies; {@code rlwrap} adds arrow-key history, and {@code .history} lists what was run.
 */
final class SqlShell {
    static final String HELP_LINES = ".tables, .schema TABLE, .format table|csv|json, .history, .help, .quit";
    private static final String PROMPT = "layerscope> ";
    private static final String CONTINUATION = "        ...> ";

    private final QuerySession session;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean terminal;
    private final List<String> history = new ArrayList<>();
    private QueryOutput format;
    private int failures;

    /** Piped output: each block of output a blank line after the last one (null on a terminal, where prompts part them). */
    private final Blocks blocks;

    SqlShell(QuerySession session, QueryOutput format, PrintWriter out, PrintWriter err, boolean terminal) {
        this.session = session;
        this.format = format;
        this.blocks = terminal ? null : new Blocks(out);
        this.out = terminal ? out : new PrintWriter(blocks);
        this.err = err;
        this.terminal = terminal;
    }

    /**
     * Parts blocks of output by a blank line, written only once the next block prints something, so that
     * a statement that fails (and prints nothing) adds no gap.
     */
    private static final class Blocks extends java.io.FilterWriter {
        private boolean wrote;
        private boolean gap;

        Blocks(java.io.Writer out) {
            super(out);
        }

        /** What is written next starts a new block (JSON Lines stay one object per line: no gap). */
        void next(QueryOutput format) {
            gap = wrote && format != QueryOutput.JSON;
        }

        private void open() throws IOException {
            if (gap) {
                out.write(System.lineSeparator());
                gap = false;
            }
            wrote = true;
        }

        @Override
        public void write(int c) throws IOException {
            open();
            super.write(c);
        }

        @Override
        public void write(char[] cbuf, int off, int len) throws IOException {
            if (len > 0) {
                open();
            }
            super.write(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) throws IOException {
            if (len > 0) {
                open();
            }
            super.write(str, off, len);
        }
    }

    /** Reads until the end of {@code in} or .quit; returns how many statements or commands failed. */
    int run(BufferedReader in) throws IOException {
        if (terminal) {
            out.println("layerscope query: SQL over " + String.join(", ", session.views()) + ". End statements with ;"
                    + " and type .help for the shell's commands.");
        }
        StringBuilder pending = new StringBuilder();
        while (true) {
            prompt(pending.isEmpty() ? PROMPT : CONTINUATION);
            String line = in.readLine();
            if (line == null) {
                break;
            }
            if (pending.isEmpty() && line.strip().startsWith(".")) {
                if (!command(line.strip())) {
                    return failures;
                }
                continue;
            }
            pending.append(line).append('\n');
            SqlStatements.Split split = SqlStatements.split(pending.toString());
            split.statements().forEach(this::execute);
            pending.setLength(0);
            if (SqlStatements.hasSql(split.rest())) {
                pending.append(split.rest());
            }
        }
        // the end of the input ends the last statement too
        SqlStatements.split(pending.toString()).all().forEach(this::execute);
        if (terminal) {
            out.println();
            out.flush();
        }
        return failures;
    }

    private void prompt(String prompt) {
        if (terminal) {
            out.print(prompt);
            out.flush();
        }
    }

    /**
     * Runs one statement. From a pipe, where no prompt separates them, results are a blank line apart
     * (JSON Lines stay one object per line), and an error names its statement as {@code query -f} does.
     */
    private void execute(String sql) {
        history.add(sql);
        nextBlock();
        try {
            session.run(sql, format, out, err);
        } catch (LayerscopeException e) {
            fail(terminal ? e.getMessage()
                    : "statement " + history.size() + " (" + QueryCommand.abbreviated(sql) + "): " + e.getMessage());
        }
        out.flush();
    }

    private void nextBlock() {
        if (blocks != null) {
            blocks.next(format);
        }
    }

    private void fail(String message) {
        failures++;
        out.flush();
        err.println("error: " + Main.oneParagraph(message));
        err.flush();
    }

    /** Runs a dot command; false when it ends the shell. */
    private boolean command(String line) {
        String[] words = line.split("\\s+");
        String name = words[0].toLowerCase(Locale.ROOT);
        nextBlock();
        switch (name) {
            case ".quit", ".exit", ".q" -> {
                return false;
            }
            case ".help" -> {
                out.println("""
                        SQL statements end with ; and may span lines. Shell commands:
                          .tables                   the tables (views over the results directories)
                          .schema TABLE             the columns of TABLE with their types
                          .format table|csv|json    how results are printed from now on
                          .history                  the statements run so far
                          .help                     this text
                          .quit                     leave (so does the end of the input, Ctrl-D)""");
            }
            case ".tables" -> session.views().forEach(out::println);
            case ".schema" -> {
                if (words.length != 2) {
                    fail(".schema needs one table name, e.g. .schema layers; the tables are "
                            + String.join(", ", session.views()));
                } else {
                    try {
                        session.printSchema(words[1], out);
                    } catch (LayerscopeException e) {
                        fail(e.getMessage());
                    }
                }
            }
            case ".format" -> {
                QueryOutput chosen = null;
                try {
                    chosen = words.length == 2 ? QueryOutput.parse(words[1]) : null;
                } catch (IllegalArgumentException e) {
                    // said below
                }
                if (chosen == null) {
                    fail(".format takes one of table, csv, json (it stays " + format.name().toLowerCase(Locale.ROOT) + ")");
                } else {
                    format = chosen;
                }
            }
            case ".history" -> {
                for (int i = 0; i < history.size(); i++) {
                    out.println((i + 1) + "  " + history.get(i).replaceAll("\\s*\\R\\s*", " "));
                }
            }
            default -> fail("unknown shell command " + words[0] + "; the commands are " + HELP_LINES);
        }
        out.flush();
        return true;
    }
}
