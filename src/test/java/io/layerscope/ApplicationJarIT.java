package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shaded application jar (target/layerscope.jar, built by mvn package before the integration
 * tests) carries native libraries for the platforms layerscope runs on, Linux x86-64 and aarch64
 * with glibc, and for no other: pom.xml's shade filters leave the rest out.
 */
class ApplicationJarIT {
    private static final Pattern NATIVE = Pattern.compile(".*\\.(so(\\.[0-9]+)*|dll|dylib|jnilib|a)$");
    /** How each library names Linux x86-64 or aarch64 in its paths. */
    private static final Pattern LINUX_X64_OR_ARM64 = Pattern.compile(
            "(^|.*/)librocksdbjni-linux(64|-aarch64)\\.so|.*linux-(x86_64|x86-64|aarch64)/.*|.*linux/(amd64|aarch64)/.*"
                    + "|.*/Linux/(x86_64|aarch64)/.*|.*/linux64/(aarch64/)?libleveldbjni\\.so"
                    + "|META-INF/native/libnetty_[a-z_]*_(linux_)?(x86_64|aarch_64)\\.so");

    static List<String> natives;

    @BeforeAll
    static void listJar() throws IOException {
        Path jar = Path.of(System.getProperty("layerscope.repo", ".")).resolve("target/layerscope.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run mvn package (mvn -B verify builds it before this test)");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            natives = Collections.list(zip.entries()).stream().map(ZipEntry::getName)
                    .filter(n -> NATIVE.matcher(n).matches()).sorted().toList();
        }
    }

    @Test
    void everyNativeLibraryIsForLinuxX64OrArm64() {
        assertEquals(List.of(), natives.stream().filter(n -> !LINUX_X64_OR_ARM64.matcher(n).matches()).toList());
        assertEquals(List.of(), natives.stream().filter(n -> n.contains("musl")).toList());
        assertFalse(natives.contains("librocksdbjni-win64.dll"));
        assertFalse(natives.contains("native/lib/osx-aarch64/cpu/libtokenizers.dylib"));
    }

    @Test
    void theNativesLayerscopeLoadsAreThere() {
        for (String n : List.of("pytorch/cpu/linux-x86_64/libtorch_cpu.so", "jnilib/linux-x86_64/cpu/libdjl_torch.so",
                "native/lib/linux-x86_64/cpu/libtokenizers.so", "native/lib/linux-aarch64/cpu/libtokenizers.so",
                "librocksdbjni-linux64.so", "librocksdbjni-linux-aarch64.so", "com/sun/jna/linux-x86-64/libjnidispatch.so",
                "org/xerial/snappy/native/Linux/x86_64/libsnappyjava.so")) {
            assertTrue(natives.contains(n), n + " is missing from the jar");
        }
        assertTrue(natives.stream().anyMatch(n -> n.matches("linux/amd64/libzstd-jni-.*\\.so")), "zstd-jni for x86-64");
    }
}
