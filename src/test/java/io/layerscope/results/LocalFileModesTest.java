package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The java.nio modes against Hadoop's own local file system (chmod), which is the reference. */
public class LocalFileModesTest {
    @TempDir
    Path tmp;

    @Test
    void octalModesToPermissionBits() {
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), LocalFileModes.permissions(0640));
        assertEquals(PosixFilePermissions.fromString("rwxr-xr-x"), LocalFileModes.permissions(0755));
        assertEquals(PosixFilePermissions.fromString("-w---x--x"), LocalFileModes.permissions(0211));
        assertEquals(PosixFilePermissions.fromString("---------"), LocalFileModes.permissions(0));
    }

    /** A Parquet table written both ways: the same files, with the same modes, under two umasks. */
    @Test
    void sameFilesAndModesAsHadoopsLocalFileSystem() throws IOException {
        for (String umask : List.of("022", "027")) {
            Configuration hadoop = new Configuration();
            hadoop.set("fs.permissions.umask-mode", umask);
            // the cache would hand both rounds the file system made with the first round's umask
            hadoop.setBoolean("fs.file.impl.disable.cache", true);
            Configuration nio = LocalFileModes.install(new Configuration(hadoop));
            Path a = tmp.resolve("hadoop-" + umask + ".parquet");
            Path b = tmp.resolve("nio-" + umask + ".parquet");
            write(hadoop, a);
            write(nio, b);
            assertEquals(modes(a), modes(b), "umask " + umask);
            assertEquals(PosixFilePermissions.fromString(umask.equals("022") ? "rwxr-xr-x" : "rwxr-x---"),
                    Files.getPosixFilePermissions(b));
        }
    }

    @Test
    void opensFileUrisWithItselfUnlessAFileSystemIsNamed() throws IOException {
        Configuration conf = LocalFileModes.install(new Configuration());
        FileSystem fs = new org.apache.hadoop.fs.Path(tmp.toUri()).getFileSystem(conf);
        assertEquals(LocalFileModes.class, fs.getClass());
        Configuration named = new Configuration();
        named.setClass("fs.file.impl", RawLocalFileSystem.class, FileSystem.class);
        assertSame(named, LocalFileModes.install(named));
        assertEquals(RawLocalFileSystem.class, named.getClass("fs.file.impl", null));
    }

    private static void write(Configuration conf, Path table) throws IOException {
        StructType schema = new StructType().add("i", DataTypes.IntegerType, false);
        List<Row> rows = List.of(RowFactory.create(1), RowFactory.create(2));
        ParquetTable.write(conf, table, schema, rows, new ParquetTable.Format("4.2.0", CompressionCodecName.ZSTD), Map.of());
    }

    /** Each file of the table by name (the part file's random id left out) with its mode. */
    private static Map<String, String> modes(Path table) throws IOException {
        Map<String, String> modes = new TreeMap<>();
        try (Stream<Path> files = Files.list(table)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString().replaceAll("part-00000-[0-9a-f-]+-c000", "part");
                modes.put(name, PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            }
        }
        return modes;
    }

}
