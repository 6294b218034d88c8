package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code -V} of the built jar prints the version pom.xml declares, not "(development build)". */
class VersionIT {
    @Test
    void theJarKnowsItsVersion() throws Exception {
        Path repo = Path.of(System.getProperty("layerscope.repo", ".")).toAbsolutePath();
        Path jar = repo.resolve("target/layerscope.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing; integration tests run after mvn package");
        // the project's own <version>: the first one after its <artifactId>, read from the file, not from the jar
        Matcher m = Pattern.compile("<artifactId>layerscope</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(repo.resolve("pom.xml")));
        assertTrue(m.find(), "no project version in pom.xml");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "-V").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("layerscope " + m.group(1) + "\n", out);
    }
}
