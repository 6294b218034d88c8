package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;

/**
 * The application jar at a URI the executors read themselves (submit.sh's LAYERSCOPE_EXECUTOR_JAR
 * set to hdfs://..., s3a://..., https://...), handed to Spark by the driver rather than to
 * spark-submit: in client mode spark-submit downloads every remote jar it is given into the driver's
 * temporary directory first (the whole jar, at every run), though the driver runs the jar from its
 * own class path. Checked here, since an executor that cannot fetch it fails its tasks with a
 * message about fetching files.
 */
public final class RemoteExecutorJar {
    /** The jar's URI, set by submit.sh on clusters in client mode. */
    public static final String PROPERTY = "spark.layerscope.executorJar";

    private RemoteExecutorJar() {
    }

    /** Adds the jar {@link #PROPERTY} names (if any) for the executors, after checking that it can be read. */
    static void addTo(SparkContext sc) {
        String uri = sc.getConf().get(PROPERTY, "");
        if (uri.isEmpty()) {
            return;
        }
        check(uri, sc.hadoopConfiguration());
        sc.addJar(uri);
    }

    /** Throws a user error unless {@code uri} names a file this driver can read (as the executors will). */
    static void check(String uri, Configuration hadoop) {
        String scheme;
        try {
            scheme = new URI(uri).getScheme();
        } catch (URISyntaxException e) {
            throw unreadable(uri, "not a URI: " + e.getMessage(), e);
        }
        if (scheme == null) {
            throw unreadable(uri, "no scheme such as hdfs:// or https://", null);
        }
        try {
            if (scheme.equals("http") || scheme.equals("https")) {
                checkHttp(uri);
            } else {
                Path path = new Path(uri);
                FileStatus status = path.getFileSystem(hadoop).getFileStatus(path);
                if (status.isDirectory()) {
                    throw unreadable(uri, "a directory", null);
                }
            }
        } catch (FileNotFoundException e) {
            throw unreadable(uri, "no such file", e);
        } catch (LayerscopeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw unreadable(uri, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }
    }

    /**
     * Hadoop's HTTP file system says nothing of a missing file: ask the server itself, for the first
     * byte (a GET, as the executors will send: a presigned URL signs its method, so HEAD may be refused
     * where GET is not). A server that ignores the range sends the whole jar, of which nothing is read.
     */
    private static void checkHttp(String uri) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(uri).toURL().openConnection();
        try {
            c.setRequestProperty("Range", "bytes=0-0");
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            int status = c.getResponseCode();
            if (status != HttpURLConnection.HTTP_OK && status != HttpURLConnection.HTTP_PARTIAL) {
                throw unreadable(uri, "HTTP " + status, null);
            }
        } finally {
            c.disconnect();
        }
    }

    private static LayerscopeException unreadable(String uri, String why, Throwable cause) {
        return new LayerscopeException("LAYERSCOPE_EXECUTOR_JAR names " + uri + ", which the driver cannot read ("
                + why + "): the executors read the application jar from there. Give a URI every node reaches,"
                + " or leave LAYERSCOPE_EXECUTOR_JAR unset to send the jar with the job", cause);
    }
}
