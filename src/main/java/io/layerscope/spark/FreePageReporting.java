package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Whether this machine is a virtual machine whose memory balloon reports free pages to its host
 * (a virtio balloon offering VIRTIO_BALLOON_F_REPORTING). There every free 2 MiB block goes back to
 * the host, so a transparent huge page is always memory the host must back afresh, while 4 KiB
 * pages mostly come from fragments the guest still holds: on such a machine huge pages cost a sweep
 * more than they save (docs/PERFORMANCE.md), and the defaults leave them off. {@value #ENV} set to
 * {@code yes} or {@code no} overrides the detection ({@code auto}, the default, detects); submit.sh
 * reads the same variable for the JVM it starts. A driver started some other way (spark-submit
 * itself) can be told with the system property {@value #PROPERTY}, which comes first.
 */
public final class FreePageReporting {
    static final String ENV = "LAYERSCOPE_FREE_PAGE_REPORTING";
    public static final String PROPERTY = "layerscope.freePageReporting";
    private static final Path VIRTIO_DEVICES = Path.of("/sys/bus/virtio/devices");
    /** virtio's device id of a memory balloon. */
    private static final String BALLOON = "0x0005";
    /** The balloon's feature bit for free page reporting. */
    private static final int REPORTING = 5;

    private FreePageReporting() {
    }

    /** For this process: {@value #PROPERTY} or else {@value #ENV} if set, else what sysfs shows. */
    public static boolean here() {
        String property = System.getProperty(PROPERTY);
        return decide(property != null ? property : System.getenv(ENV), VIRTIO_DEVICES);
    }

    /**
     * {@code setting} ({@value #ENV}'s value, null when unset) decides, or the devices under
     * {@code virtioDevices} (sysfs' /sys/bus/virtio/devices) where it is unset, empty or auto (no
     * spaces around: " yes" is refused, as submit.sh refuses it).
     *
     * @throws LayerscopeException for any other value
     */
    static boolean decide(String setting, Path virtioDevices) {
        // exactly these words, as submit.sh's test of the same variable takes them
        return switch (setting == null ? "" : setting) {
            case "", "auto" -> balloonReports(virtioDevices);
            case "yes" -> true;
            case "no" -> false;
            default -> throw new LayerscopeException(ENV + " is '" + setting + "', but it must be auto, yes or no.");
        };
    }

    /**
     * Whether a device under {@code virtioDevices} is a balloon offering free page reporting: sysfs
     * gives a device's type in {@code device} and its features in {@code features}, a string of 0s
     * and 1s, bit 0 first. No such directory (not Linux, not a VM, a container without sysfs): false.
     */
    static boolean balloonReports(Path virtioDevices) {
        if (!Files.isDirectory(virtioDevices)) {
            return false;
        }
        try (Stream<Path> devices = Files.list(virtioDevices)) {
            return devices.anyMatch(FreePageReporting::isReportingBalloon);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean isReportingBalloon(Path device) {
        if (!BALLOON.equals(read(device.resolve("device")))) {
            return false;
        }
        String features = read(device.resolve("features"));
        return features.length() > REPORTING && features.charAt(REPORTING) == '1';
    }

    private static String read(Path file) {
        return LinuxFiles.readOrEmpty(file.toString()).strip();
    }
}
