package io.layerscope.spark;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.catalyst.analysis.UnresolvedExecuteImmediate;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.catalyst.parser.ParserInterface;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.CompoundPlanStatement;
import org.apache.spark.sql.catalyst.plans.logical.DescribeColumn;
import org.apache.spark.sql.catalyst.plans.logical.DescribeFunction;
import org.apache.spark.sql.catalyst.plans.logical.DescribeNamespace;
import org.apache.spark.sql.catalyst.plans.logical.DescribeRelation;
import org.apache.spark.sql.catalyst.plans.logical.ExecutableDuringAnalysis;
import org.apache.spark.sql.catalyst.plans.logical.InsertIntoDir;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.ParsedStatement;
import org.apache.spark.sql.catalyst.plans.logical.ScriptTransformation;
import org.apache.spark.sql.catalyst.plans.logical.ShowColumns;
import org.apache.spark.sql.catalyst.plans.logical.ShowFunctions;
import org.apache.spark.sql.catalyst.plans.logical.ShowTables;
import org.apache.spark.sql.catalyst.plans.logical.ShowViews;
import org.apache.spark.sql.catalyst.trees.TreeNode;
import org.apache.spark.sql.execution.command.DescribeQueryCommand;
import org.apache.spark.sql.execution.command.ExplainCommand;

/**
 * Decides from Spark's parsed logical plan, before anything runs, whether a statement only reads:
 * a query (SELECT, WITH, VALUES, TABLE, FROM ...), or DESCRIBE, SHOW TABLES/VIEWS/COLUMNS/FUNCTIONS,
 * or EXPLAIN of such a statement. Anything else that the plan holds anywhere (in a subquery or a
 * CTE too) is refused: a {@link Command} (CREATE, DROP, ALTER, INSERT ... as a v2 write, TRUNCATE,
 * DELETE, UPDATE, MERGE, CACHE, LOAD DATA, ADD JAR/FILE, SET, USE, REFRESH, ANALYZE, DECLARE, ...),
 * a parsed statement ({@code INSERT INTO}), {@code INSERT OVERWRITE DIRECTORY}, {@code TRANSFORM ...
 * USING} (runs a program), {@code CALL}, {@code EXECUTE IMMEDIATE} (SQL built at run time, which cannot
 * be checked), SQL scripts, and the functions that call Java methods ({@code reflect},
 * {@code java_method}, {@code try_reflect}).
 */
public final class ReadOnlySql {
    /** Commands that only read the catalog; allowed as the whole statement. */
    private static final Set<Class<?>> READING_COMMANDS = Set.of(DescribeRelation.class, DescribeColumn.class,
            DescribeFunction.class, DescribeNamespace.class, ShowTables.class, ShowViews.class, ShowColumns.class,
            ShowFunctions.class);

    /** Functions that call any static Java method named in the SQL. */
    private static final Set<String> JAVA_CALLS = Set.of("reflect", "java_method", "try_reflect");

    private ReadOnlySql() {
    }

    /**
     * Empty when {@code sql} only reads; else what it does, as the end of "this statement ...". A
     * statement that does not parse is left to Spark, which reports it when it is run.
     */
    public static Optional<String> whatItChanges(ParserInterface parser, String sql) {
        LogicalPlan plan;
        try {
            plan = parser.parsePlan(sql);
        } catch (ParseException | RuntimeException e) {
            return Optional.empty();
        }
        return whatItChanges(plan);
    }

    static Optional<String> whatItChanges(LogicalPlan root) {
        if (root instanceof ExplainCommand explain) {
            return whatItChanges(explain.logicalPlan());
        }
        if (root instanceof DescribeQueryCommand describe) {
            return whatItChanges(describe.plan());
        }
        return find(root, READING_COMMANDS.contains(root.getClass()));
    }

    /** Walks the plan, its subqueries and the plans it holds beside its children (CTE definitions). */
    private static Optional<String> find(LogicalPlan node, boolean allowedCommand) {
        if (!allowedCommand) {
            Optional<String> own = judge(node);
            if (own.isPresent()) {
                return own;
            }
        }
        var expressions = node.expressions().iterator();
        while (expressions.hasNext()) {
            Optional<String> call = javaCall(expressions.next());
            if (call.isPresent()) {
                return call;
            }
        }
        var children = node.children().iterator();
        while (children.hasNext()) {
            Optional<String> found = find(children.next(), false);
            if (found.isPresent()) {
                return found;
            }
        }
        var inner = node.innerChildren().iterator();
        while (inner.hasNext()) {
            TreeNode<?> t = inner.next();
            if (t instanceof LogicalPlan p) {
                Optional<String> found = find(p, false);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        var subqueries = node.subqueries().iterator();
        while (subqueries.hasNext()) {
            Optional<String> found = find(subqueries.next(), false);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> judge(LogicalPlan node) {
        String name = node.getClass().getSimpleName().replace("$", "");
        if (node instanceof ScriptTransformation) {
            return Optional.of("runs a program (TRANSFORM ... USING)");
        }
        if (node instanceof UnresolvedExecuteImmediate) {
            return Optional.of("runs SQL made at run time (EXECUTE IMMEDIATE), which cannot be checked");
        }
        if (node instanceof Command || node instanceof ParsedStatement || node instanceof InsertIntoDir
                || node instanceof ExecutableDuringAnalysis || node instanceof CompoundPlanStatement) {
            return Optional.of("writes or changes state (Spark plans it as " + name + ")");
        }
        return Optional.empty();
    }

    private static Optional<String> javaCall(Expression e) {
        var found = e.find(x -> x instanceof UnresolvedFunction f && JAVA_CALLS.contains(lastPart(f)));
        return found.isDefined() ? Optional.of("calls Java methods (" + lastPart((UnresolvedFunction) found.get()) + ")")
                : Optional.empty();
    }

    private static String lastPart(UnresolvedFunction f) {
        return f.nameParts().last().toLowerCase(Locale.ROOT);
    }
}
