package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A standalone master that does not answer: Spark's client tries to register three times, 20 s
 * each, before it gives up with a message about a stopped context. One TCP connection attempt to
 * each of the master's addresses (at most 3 s each, the name's look-up aside) says the same at once,
 * before the model is read.
 */
final class StandaloneMaster {
    static final int CONNECT_MILLIS = 3000;

    private StandaloneMaster() {
    }

    /**
     * Throws unless some address of {@code master} (spark://HOST:PORT, or several for a standby master,
     * spark://h1:7077,h2:7077) accepts a connection; any other master is left to Spark.
     */
    static void refuseUnreachable(String master) {
        if (master == null || !master.startsWith("spark://")) {
            return;
        }
        List<String> reasons = new ArrayList<>();
        for (String address : master.substring("spark://".length()).split(",")) {
            int colon = address.lastIndexOf(':');
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                return;   // no port, or not a URL this check understands: Spark will say what is wrong with it
            }
            String host = address.substring(0, colon);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), CONNECT_MILLIS);
                return;
            } catch (java.net.UnknownHostException e) {
                reasons.add(host + ":" + port + " (unknown host)");
            } catch (IOException e) {
                reasons.add(host + ":" + port + " (" + (e.getMessage() == null ? e.getClass().getSimpleName()
                        : e.getMessage().toLowerCase(java.util.Locale.ROOT)) + ")");
            }
        }
        throw new LayerscopeException("cannot reach the Spark master " + master + ": " + String.join(", ", reasons)
                + "; check --master (the Master's log gives the URL it listens on, spark://HOST:PORT) and that this"
                + " machine reaches it");
    }
}
