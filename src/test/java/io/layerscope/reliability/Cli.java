package io.layerscope.reliability;

import io.layerscope.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the layerscope command line in this JVM; what picocli prints is captured (progress goes to System.err). */
final class Cli {
    record Run(int status, String out, String err) {
        /** The error paragraph without the "error: " prefix and the line break. */
        String message() {
            String e = err.strip();
            return e.startsWith("error: ") ? e.substring("error: ".length()) : e;
        }
    }

    private Cli() {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }
}
