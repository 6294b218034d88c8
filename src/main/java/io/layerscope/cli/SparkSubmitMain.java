package io.layerscope.cli;

/**
 * Spark's launcher as {@code submit.sh} runs it without a Spark distribution. Spark checks its own
 * options (--executor-memory, --master, --conf ...) before layerscope starts and throws on a bad one,
 * which the JVM printed as a stack trace with exit status 1; here it ends as layerscope's own bad
 * input does: one paragraph and exit status 2. Everything else is SparkSubmit's, unchanged.
 */
public final class SparkSubmitMain {
    private SparkSubmitMain() {
    }

    public static void main(String[] args) {
        try {
            org.apache.spark.deploy.SparkSubmit.main(args);
        } catch (Throwable e) {   // Scala throws SparkException, a checked exception, undeclared
            if (Main.started()) {
                // layerscope's own command failed in a way its handlers did not catch: not an option of Spark's
                boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
                System.err.println("error: unexpected " + Main.oneParagraph(String.valueOf(e))
                        + (verbose ? "" : " (run with --verbose for the stack trace)"));
                if (verbose) {
                    e.printStackTrace();
                }
                System.exit(Main.EXIT_FAILURE);
            }
            String reason = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
            System.err.println("error: Spark refused the options: " + Main.oneParagraph(reason)
                    + "; check the Spark options given to submit.sh (--master, --conf, --driver-memory,"
                    + " --executor-memory ...)");
            System.exit(Main.EXIT_BAD_INPUT);
        }
    }
}
