package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FreePageReportingTest {
    @TempDir
    Path sysfs;

    /** A device directory as sysfs lists it: its type and its features, bit 0 first. */
    private Path device(String name, String type, String features) throws IOException {
        Path d = Files.createDirectories(sysfs.resolve(name));
        Files.writeString(d.resolve("device"), type + "\n");
        Files.writeString(d.resolve("features"), features + "\n");
        return d;
    }

    @Test
    void aBalloonWithFeatureFiveReports() throws IOException {
        // the features this machine's balloon showed: bits 1, 2, 5 and 7
        device("virtio0", "0x0005", "0110010100000000000000000000000010000000");
        assertTrue(FreePageReporting.balloonReports(sysfs));
    }

    @Test
    void otherDevicesAndBalloonsWithoutItDoNot() throws IOException {
        device("virtio1", "0x0002", "0010011001100100");   // a block device with bit 5 set
        device("virtio2", "0x0005", "0110000100000000");   // a balloon without reporting
        device("virtio3", "0x0005", "01100");               // features too short to have bit 5
        assertFalse(FreePageReporting.balloonReports(sysfs));
        device("virtio4", "0x0005", "000001");
        assertTrue(FreePageReporting.balloonReports(sysfs));
    }

    @Test
    void noVirtioDevicesMeansNoReporting() throws IOException {
        assertFalse(FreePageReporting.balloonReports(sysfs.resolve("absent")));
        assertFalse(FreePageReporting.balloonReports(sysfs));
        Files.createDirectories(sysfs.resolve("virtio0"));   // unreadable attributes: not a balloon
        assertFalse(FreePageReporting.balloonReports(sysfs));
    }

    @Test
    void theVariableOverridesTheDetection() throws IOException {
        device("virtio0", "0x0005", "000001");
        assertTrue(FreePageReporting.decide(null, sysfs));
        assertTrue(FreePageReporting.decide("", sysfs));
        assertTrue(FreePageReporting.decide("auto", sysfs));
        assertFalse(FreePageReporting.decide("no", sysfs));
        assertTrue(FreePageReporting.decide("yes", sysfs.resolve("absent")));
        assertFalse(FreePageReporting.decide("auto", sysfs.resolve("absent")));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> FreePageReporting.decide("true", sysfs));
        assertEquals("LAYERSCOPE_FREE_PAGE_REPORTING is 'true', but it must be auto, yes or no.", e.getMessage());
        // spaces are not trimmed, as submit.sh does not trim them
        e = assertThrows(LayerscopeException.class, () -> FreePageReporting.decide(" yes", sysfs));
        assertEquals("LAYERSCOPE_FREE_PAGE_REPORTING is ' yes', but it must be auto, yes or no.", e.getMessage());
    }

    @Test
    void aSystemPropertyTellsADriverStartedWithoutSubmitSh() {
        try {
            System.setProperty(FreePageReporting.PROPERTY, "yes");
            assertTrue(FreePageReporting.here());
            assertEquals("0", HugePageAllocation.setting(2048, 1, true));
            System.setProperty(FreePageReporting.PROPERTY, "no");
            assertFalse(FreePageReporting.here());
            assertEquals("1", HugePageAllocation.setting(2048, 1, true));
        } finally {
            System.clearProperty(FreePageReporting.PROPERTY);
        }
    }
}
