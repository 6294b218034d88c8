package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class StandaloneMasterTest {
    private static int closedPort() {
        return io.layerscope.fixtures.ClosedPort.reserve();
    }

    @Test
    void aMasterNothingListensAtIsRefusedAtOnceWithWhy() throws Exception {
        int closed = closedPort();
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> StandaloneMaster.refuseUnreachable("spark://127.0.0.1:" + closed));
        assertEquals("cannot reach the Spark master spark://127.0.0.1:" + closed + ": 127.0.0.1:" + closed
                + " (connection refused); check --master (the Master's log gives the URL it listens on, spark://HOST:PORT)"
                + " and that this machine reaches it", e.getMessage());
    }

    /** One answering address of several (a standby master) is enough; other masters are Spark's to judge. */
    @Test
    void anyAnsweringAddressOrAnotherKindOfMasterPasses() throws Exception {
        int closed = closedPort();
        try (ServerSocket master = new ServerSocket(0)) {
            assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable("spark://127.0.0.1:" + closed + ",127.0.0.1:"
                    + master.getLocalPort()));
        }
        assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable("local[2]"));
        assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable("yarn"));
        assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable(null));
        assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable("spark://host:notaport"));
        assertDoesNotThrow(() -> StandaloneMaster.refuseUnreachable("spark://host"));   // Spark refuses a URL without a port
    }

    @Test
    void anUnknownHostIsSaidToBeOne() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> StandaloneMaster.refuseUnreachable("spark://no-such-host.invalid:7077"));
        assertTrue(e.getMessage().startsWith("cannot reach the Spark master spark://no-such-host.invalid:7077:"
                + " no-such-host.invalid:7077 (unknown host); "), e.getMessage());
    }
}
