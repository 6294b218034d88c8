package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/** Finds the {@link SweepHook} a job was given, or one that does nothing; each class is made once per JVM. */
final class SweepHooks {
    private static final SweepHook NONE = new SweepHook() { };
    private static final Map<String, SweepHook> MADE = new ConcurrentHashMap<>();

    private SweepHooks() {
    }

    /** On the driver: the hook for jobs submitted from this thread. */
    static SweepHook onDriver(SparkContext sc) {
        return named(sc.getLocalProperty(SweepHook.CONF), sc.getConf().get(SweepHook.CONF, ""));
    }

    /** In a task: the hook of the job it belongs to. */
    static SweepHook inTask() {
        TaskContext tc = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        return named(tc == null ? null : tc.getLocalProperty(SweepHook.CONF), env == null ? "" : env.conf().get(SweepHook.CONF, ""));
    }

    private static SweepHook named(String local, String conf) {
        String name = local != null && !local.isBlank() ? local.trim() : conf.trim();
        return name.isEmpty() ? NONE : MADE.computeIfAbsent(name, SweepHooks::make);
    }

    private static SweepHook make(String name) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        try {
            return Class.forName(name, true, loader != null ? loader : SweepHook.class.getClassLoader())
                    .asSubclass(SweepHook.class).getConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException | LinkageError e) {
            throw new LayerscopeException(SweepHook.CONF + "=" + name + " is not a class on the class path that implements "
                    + SweepHook.class.getName() + " with a public no-argument constructor (" + e + ")", e);
        }
    }
}
