package io.layerscope.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits SQL text into statements at semicolons that end a statement, as Spark SQL reads them: not
 * inside a quoted string or identifier ({@code '...'}, {@code "..."}, {@code `...`}, where a backslash
 * escapes the next character in strings), a {@code --} comment or a {@code /* ... *}{@code /}
 * comment. Statements holding nothing but blanks and comments are dropped.
 *
 * <pre>{@code
 * SqlStatements.Split s = SqlStatements.split("SELECT 1; SELECT ';' AS x; SELECT");
 * s.statements();   // ["SELECT 1", "SELECT ';' AS x"]
 * s.rest();         // "SELECT": not ended yet (the shell reads on; a file or argument runs it as the last)
 * }</pre>
 */
final class SqlStatements {
    /** Complete statements in order (without their semicolons), and the text after the last one. */
    record Split(List<String> statements, String rest) {
        /** Every statement, counting an unterminated rest that holds SQL as the last one. */
        List<String> all() {
            List<String> all = new ArrayList<>(statements);
            if (hasSql(rest)) {
                all.add(rest.strip());
            }
            return all;
        }
    }

    private SqlStatements() {
    }

    static Split split(String text) {
        List<String> statements = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            int afterComment = endOfComment(text, i);
            if (afterComment > i) {
                i = afterComment;
            } else if (c == '\'' || c == '"' || c == '`') {
                i = endOfQuoted(text, i);
            } else if (c == ';') {
                String statement = text.substring(start, i);
                if (hasSql(statement)) {
                    statements.add(statement.strip());
                }
                start = ++i;
            } else {
                i++;
            }
        }
        return new Split(statements, text.substring(start));
    }

    /** The index after the quote that closes the one at {@code open}, or the end of the text. */
    private static int endOfQuoted(String text, int open) {
        char quote = text.charAt(open);
        for (int i = open + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && quote != '`') {
                i++;
            } else if (c == quote) {
                return i + 1;
            }
        }
        return text.length();
    }

    /** Whether {@code text} holds anything but blanks and comments. */
    static boolean hasSql(String text) {
        int i = 0;
        int n = text.length();
        while (i < n) {
            int afterComment = endOfComment(text, i);
            if (afterComment > i) {
                i = afterComment;
            } else if (Character.isWhitespace(text.charAt(i))) {
                i++;
            } else {
                return true;
            }
        }
        return false;
    }

    /** The index after the comment that starts at {@code i} (up to the end of the text), or {@code i} when none does. */
    private static int endOfComment(String text, int i) {
        if (text.startsWith("--", i)) {
            int eol = text.indexOf('\n', i);
            return eol < 0 ? text.length() : eol + 1;
        }
        if (text.startsWith("/*", i)) {
            int end = text.indexOf("*/", i + 2);
            return end < 0 ? text.length() : end + 2;
        }
        return i;
    }
}
