package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlStatementsTest {
    @Test
    void semicolonsEndStatementsOutsideQuotesAndComments() {
        String text = """
                SELECT 1;
                SELECT ';' AS a, "x;y" AS `b;c` FROM layers -- a comment; not an end
                WHERE layer = 'it\\'s; here';
                /* a; block */ SELECT 2 ;;
                SELECT 3""";
        SqlStatements.Split s = SqlStatements.split(text);
        assertEquals(List.of("SELECT 1",
                "SELECT ';' AS a, \"x;y\" AS `b;c` FROM layers -- a comment; not an end\nWHERE layer = 'it\\'s; here'",
                "/* a; block */ SELECT 2"), s.statements());
        assertEquals("\nSELECT 3", s.rest());
        assertEquals(4, s.all().size());
        assertEquals("SELECT 3", s.all().get(3));
    }

    @Test
    void anUnfinishedStringOrCommentKeepsTheRestOpen() {
        assertEquals(List.of(), SqlStatements.split("SELECT 'a;").statements());
        assertEquals("SELECT 'a;", SqlStatements.split("SELECT 'a;").rest());
        assertEquals(List.of(), SqlStatements.split("SELECT 1 /* ; ").statements());
    }

    @Test
    void onlyCommentsAndBlanksAreNoStatement() {
        assertEquals(List.of(), SqlStatements.split("  ;\n-- nothing;\n/* none */;").all());
        assertFalse(SqlStatements.hasSql(" -- x\n /* y */ \n"));
        assertTrue(SqlStatements.hasSql(" -- x\n1"));
        // a backtick-quoted identifier has no backslash escapes: `a\` ends at its second backtick
        assertEquals(List.of("SELECT 1 AS `a\\`", "SELECT 2"), SqlStatements.split("SELECT 1 AS `a\\`; SELECT 2").all());
    }
}
