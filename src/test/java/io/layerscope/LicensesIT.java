package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The application jar keeps the licences: layerscope's own at META-INF/LICENSE, every bundled
 * dependency's licence and notice files byte for byte, the texts of what ships none (JFreeChart's
 * LGPL, libtorch, Intel oneMKL, the PSF licence of the demo text), and one merged NOTICE.
 */
class LicensesIT {
    private static final Path REPO = Path.of(System.getProperty("layerscope.repo", "."));
    /** Licence and notice files at a jar's root or in its META-INF, as the build is meant to keep them. */
    private static final Pattern LICENCE_FILE = Pattern.compile("(META-INF/)?(LICEN[SC]E|NOTICE|COPYING)[^/]*",
            Pattern.CASE_INSENSITIVE);

    @Test
    void theJarKeepsEveryLicenceAndNotice() throws IOException {
        try (ZipFile jar = new ZipFile(REPO.resolve("target/layerscope.jar").toFile())) {
            assertArrayEquals(Files.readAllBytes(REPO.resolve("LICENSE")), bytes(jar, "META-INF/LICENSE"), "layerscope's licence");
            assertContains(jar, "META-INF/licenses/jfreechart-LGPL-2.1.txt", "GNU LESSER GENERAL PUBLIC LICENSE");
            assertContains(jar, "META-INF/licenses/libtorch-LICENSE.txt", "Redistribution and use in source and binary forms");
            assertContains(jar, "META-INF/licenses/intel-mkl-NOTICE.txt", "Intel Simplified Software License");
            assertContains(jar, "META-INF/licenses/python-docs-PSF-LICENSE.txt", "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2");
            String notice = new String(bytes(jar, "META-INF/NOTICE"), StandardCharsets.UTF_8);
            // merged: layerscope's own notice and those of the dependencies (Apache Hadoop's among them)
            assertTrue(notice.contains("layerscope\nCopyright 2026 the layerscope authors\n"), "no layerscope notice");
            assertTrue(notice.contains("Apache Hadoop"), "the dependencies' notices were not merged");

            int dependencies = 0;
            List<String> missing = new ArrayList<>();
            String table = Files.readString(REPO.resolve("docs/LICENSES.md"));
            List<String> undocumented = new ArrayList<>();
            java.util.Set<String> onClassPath = new java.util.HashSet<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path dependency = Path.of(entry);
                if (dependency.toString().endsWith(".jar") && !dependency.startsWith(REPO.toAbsolutePath())) {
                    onClassPath.add(coordinates(dependency));
                }
                if (!dependency.toString().endsWith(".jar") || !bundled(jar, dependency)) {
                    continue;
                }
                dependencies++;
                // a Maven repository's layout: .../<artifact>/<version>/<artifact>-<version>[-classifier].jar
                String coordinates = coordinates(dependency);
                if (!table.contains("| " + coordinates.replaceFirst(":([^:]+)$", " | $1") + " |")) {
                    undocumented.add(coordinates);
                }
                String name = dependency.getFileName().toString();
                String dir = "META-INF/licenses/deps/" + name.substring(0, name.length() - ".jar".length()) + "-jar/";
                try (ZipFile dep = new ZipFile(dependency.toFile())) {
                    for (ZipEntry e : java.util.Collections.list(dep.entries())) {
                        if (!e.isDirectory() && LICENCE_FILE.matcher(e.getName()).matches()) {
                            ZipEntry kept = jar.getEntry(dir + e.getName());
                            if (kept == null) {
                                missing.add(dir + e.getName());
                            } else {
                                assertArrayEquals(dep.getInputStream(e).readAllBytes(), jar.getInputStream(kept).readAllBytes(),
                                        kept.getName());
                            }
                        }
                    }
                }
            }
            assertEquals(List.of(), missing, "licence files of bundled dependencies not in the jar");
            assertEquals(List.of(), undocumented, "bundled dependencies without their row in docs/LICENSES.md"
                    + " (python3 scripts/licenses-table.py rewrites the table)");
            // and no row for a dependency the build no longer has (the tests' class path holds every runtime one)
            List<String> stale = new ArrayList<>();
            java.util.regex.Matcher row = Pattern.compile("(?m)^\\| ([^|\\s]+:[^|\\s]+) \\| ([^|\\s]+) \\|").matcher(table);
            while (row.find()) {
                if (!onClassPath.contains(row.group(1) + ":" + row.group(2))) {
                    stale.add(row.group(1) + ":" + row.group(2));
                }
            }
            assertEquals(List.of(), stale, "rows of docs/LICENSES.md for no dependency of the build"
                    + " (python3 scripts/licenses-table.py rewrites the table)");
            assertTrue(dependencies > 100, "only " + dependencies + " bundled dependencies found on the class path");
        }
    }

    /**
     * group:artifact:version of a jar in a Maven repository (.../repository/&lt;group dirs&gt;/&lt;artifact&gt;/
     * &lt;version&gt;/...jar).
     */
    private static String coordinates(Path jar) {
        Path versionDir = jar.toAbsolutePath().getParent();
        Path artifactDir = versionDir.getParent();
        List<String> group = new ArrayList<>();
        for (Path p = artifactDir.getParent(); p != null && p.getFileName() != null; p = p.getParent()) {
            if (p.getFileName().toString().equals("repository")) {
                java.util.Collections.reverse(group);
                return String.join(".", group) + ":" + artifactDir.getFileName() + ":" + versionDir.getFileName();
            }
            group.add(p.getFileName().toString());
        }
        throw new AssertionError(jar + " is not in a Maven repository's layout (no directory named repository above it)");
    }

    /** Whether the application jar holds the first class of {@code dependency} (so it was shaded in). */
    private static boolean bundled(ZipFile jar, Path dependency) throws IOException {
        try (ZipFile dep = new ZipFile(dependency.toFile())) {
            return java.util.Collections.list(dep.entries()).stream()
                    .filter(e -> e.getName().endsWith(".class") && !e.getName().contains("module-info")
                            && !e.getName().startsWith("META-INF/"))
                    .findFirst().map(e -> jar.getEntry(e.getName()) != null).orElse(false);
        }
    }

    private static byte[] bytes(ZipFile jar, String name) throws IOException {
        ZipEntry e = jar.getEntry(name);
        assertNotNull(e, name + " is not in the jar");
        return jar.getInputStream(e).readAllBytes();
    }

    private static void assertContains(ZipFile jar, String name, String text) throws IOException {
        String s = new String(bytes(jar, name), StandardCharsets.UTF_8);
        assertTrue(s.contains(text), name + " does not contain " + text);
    }
}
