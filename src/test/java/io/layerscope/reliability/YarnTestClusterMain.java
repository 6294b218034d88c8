package io.layerscope.reliability;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A YARN ResourceManager and one NodeManager (Hadoop's MiniYARNCluster) for {@link YarnCluster}, run
 * in a JVM of its own: it writes the client configuration (yarn-site.xml, the RM's real address) into
 * {@code DIR/conf}, prints "ready" and runs until standard input closes. Containers are started by
 * the NodeManager as real processes (bash, then java), as on a cluster's node.
 *
 * <p>Arguments: DIR, the NodeManager's memory in MiB and its vcores, and optionally its GPUs: YARN's
 * {@code yarn.io/gpu} resource type, counted by the scheduler as any other (the NodeManager's GPU plugin,
 * which needs a GPU, stays off; the executors find theirs with Spark's discovery script).
 */
public final class YarnTestClusterMain {
    private YarnTestClusterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        YarnConfiguration conf = new YarnConfiguration();
        // the minicluster gives its NodeManager this one (4096 unless set), not NM_PMEM_MB
        conf.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, Integer.parseInt(args[1]));
        conf.setInt(YarnConfiguration.NM_VCORES, Integer.parseInt(args[2]));
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, Integer.parseInt(args[1]));
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_VCORES, Integer.parseInt(args[2]));
        // containers of about the size asked for: YARN rounds up to this step (1024 MB by default)
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
        // a full disk must not mark the node unhealthy (it would take no containers)
        conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
        // YARN's default: a container whose processes' resident memory passes its size is killed. The
        // minicluster leaves the monitor off unless told, and without cgroups it must not count on them.
        conf.setBoolean(YarnConfiguration.YARN_MINICLUSTER_CONTROL_RESOURCE_MONITORING, true);
        conf.setBoolean(YarnConfiguration.NM_MEMORY_RESOURCE_ENFORCED, false);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, true);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        // the shaded minicluster has no capacity-scheduler.xml: one queue, all of the cluster
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.setInt("yarn.scheduler.capacity.root.default.capacity", 100);
        conf.setFloat("yarn.scheduler.capacity.root.default.user-limit-factor", 1);
        conf.setInt("yarn.scheduler.capacity.root.default.maximum-capacity", 100);
        conf.set("yarn.scheduler.capacity.root.default.state", "RUNNING");
        conf.set("yarn.scheduler.capacity.root.default.acl_submit_applications", "*");
        conf.setInt("yarn.scheduler.capacity.node-locality-delay", -1);
        conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        conf.set(YarnConfiguration.NM_LOCAL_DIRS, Files.createDirectories(dir.resolve("nm-local")).toString());
        conf.set(YarnConfiguration.NM_LOG_DIRS, Files.createDirectories(dir.resolve("nm-logs")).toString());
        // an application's containers are deleted at its end: keep them a while for a failing test's look
        conf.setInt(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 600);

        if (args.length > 3) {
            conf.set(YarnConfiguration.RESOURCE_TYPES, "yarn.io/gpu");
            conf.set(YarnConfiguration.NM_RESOURCES_PREFIX + "yarn.io/gpu", args[3]);
            conf.set(YarnConfiguration.RESOURCE_TYPES + ".yarn.io/gpu.maximum-allocation", args[3]);
            // the capacity scheduler's default calculator counts memory only
            conf.set("yarn.scheduler.capacity.resource-calculator",
                    "org.apache.hadoop.yarn.util.resource.DominantResourceCalculator");
        }
        MiniYARNCluster cluster = new MiniYARNCluster("layerscope", 1, 1, 1);
        cluster.init(conf);
        cluster.start();
        // start() may return before the RM has put its bound port into the configuration
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (cluster.getConfig().get(YarnConfiguration.RM_ADDRESS).endsWith(":0")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the ResourceManager did not publish its address");
            }
            Thread.sleep(100);
        }
        Path confDir = Files.createDirectories(dir.resolve("conf"));
        Path tmp = confDir.resolve("yarn-site.xml.tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            cluster.getConfig().writeXml(out);
        }
        Files.move(tmp, confDir.resolve("yarn-site.xml"));
        System.out.println("ready " + cluster.getConfig().get(YarnConfiguration.RM_ADDRESS));
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the test closes our standard input (or kills us)
        }
        cluster.stop();
    }
}
