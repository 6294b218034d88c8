package io.layerscope;

/**
 * Whether the JVM is shutting down (SIGINT, SIGTERM, System.exit): then no output may be put in
 * place any more, whatever step was under way. The JVM has no call for it; a shutdown hook can only
 * be added before shutdown begins, which tells.
 */
public final class Shutdown {
    private Shutdown() {
    }

    public static boolean inProgress() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
