package io.layerscope.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.CacheEntries;
import io.layerscope.FileIdentity;
import io.layerscope.LayerscopeException;
import io.layerscope.WholeFiles;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.Sha256;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import java.io.BufferedInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --calibration-cache DIR}: stage one's merged result (the activation sums and depth
 * statistics) kept on disk under a key of everything that decides its bits, so that a later run over
 * the same model and the same windows skips the calibration forward: another --sparsity, pictures,
 * or a run again after a failure in stage two (--gram's passes run a forward of their own). The forward is most of a CPU sweep at
 * Wanda's 128 x 2048 tokens; what follows it is cheap to redo.
 *
 * <p>The key hashes the tool's build and libtorch's version, config.json's bytes, each weight file's
 * real path and {@link FileIdentity} (device, inode, size, modification and status-change times: what
 * {@code Sha256Cache} trusts a remembered hash by; a rewrite that keeps size and mtime still misses), the
 * forward's settings ({@link ModelSpec} but the directory's spelling), the shard count (the shards'
 * float sums are added in shard order) and every window's token ids (so the calibration source,
 * --nsamples, --seqlen, --seed and the tokenizer are all in it). The devices are not: a result
 * computed on CPUs serves a run on GPUs, and run.json then names the devices that computed it.
 *
 * <p>Entries are written whole or not at all (a temporary file renamed into place) and read through
 * a deserialization filter that admits only the classes an entry holds. An entry that cannot be read
 * is reported and stage one runs instead; failing to store one is reported and does not fail the run.
 * An entry's modification time is its last use, and each run ends its look at the cache by removing
 * the least recently used entries beyond {@code --calibration-cache-size} ({@link #trim}).
 */
final class CalibrationCache {
    private static final String FORMAT = "layerscope stage-one cache 1";
    private static final byte[] MAGIC = (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII);
    /**
     * The classes an entry holds: ours, java.util's collections, boxed numbers and strings, and arrays
     * of them (Object[] in the collections' serial forms) and of primitives; arrays of at most 64 Mi
     * elements, so a crafted length cannot claim the heap.
     */
    static final ObjectInputFilter CLASSES = ObjectInputFilter.Config.createFilter("maxdepth=64;maxarray=67108864;"
            + "io.layerscope.**;java.util.*;java.lang.Object;java.lang.Number;java.lang.Integer;java.lang.Long;"
            + "java.lang.Double;java.lang.Float;java.lang.String;java.lang.Enum;java.lang.Record;!*");

    /**
     * A stored stage one: its key (checked against the file's name), when and by which run it was
     * computed, and the result as that run's driver merged it.
     */
    record Entry(String key, String createdAt, String runId, CalibrationStage.Result result) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** Runs on deserialization too: an entry without its parts is refused there, not met later as a null. */
        Entry {
            if (key == null || result == null || result.sums() == null || result.devices() == null
                    || result.computeTypes() == null || result.sums().sumSq().containsValue(null)) {
                throw new IllegalArgumentException("an entry without its key, sums or devices");
            }
        }
    }

    /** An entry's file name: the key is a SHA-256 in hex. */
    private static final Pattern ENTRY = Pattern.compile("stage1-([0-9a-f]{64})\\.bin");
    private static final Pattern DESCRIPTION = Pattern.compile("stage1-([0-9a-f]{64})\\.json");

    private final Path dir;
    private final long maxBytes;
    /** A directory this process cannot write (a team's shared cache, mounted read-only): entries are read, none stored. */
    private final boolean readOnly;

    private CalibrationCache(Path dir, long maxBytes, boolean readOnly) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.readOnly = readOnly;
    }

    /**
     * The cache in {@code dir}, whose entries may take {@code maxBytes} (see {@link #trim}). Nothing is
     * created: the directory is made when the first entry is stored, so a run refused or failed
     * before stage one leaves none behind. A {@code dir} no cache can be made in fails here, before
     * any work: a file, or one whose nearest existing parent is not a writable directory. An existing
     * directory that is not writable is read only ({@link #readOnly}).
     */
    static CalibrationCache open(Path dir, long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("a calibration cache needs room for its entries, got " + maxBytes + " bytes");
        }
        Path absolute = dir.toAbsolutePath();
        // a symbolic link to nothing exists as a name: createDirectories would fail on it at the first store
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(absolute)) {
            throw notADirectory(dir);
        }
        Path existing = io.layerscope.RealPaths.nearestExisting(absolute, LinkOption.NOFOLLOW_LINKS);
        if (existing == null) {
            return new CalibrationCache(dir, maxBytes, false);   // not even the root exists: the first store says why
        }
        if (existing.equals(absolute)) {
            if (!Files.isWritable(absolute)) {
                return new CalibrationCache(dir, maxBytes, true);
            }
        } else if (!Files.isDirectory(existing)) {
            throw new LayerscopeException("--calibration-cache " + dir + " cannot be created (" + existing + " exists and"
                    + " is not a directory)");
        } else if (!Files.isWritable(existing)) {
            throw new LayerscopeException("--calibration-cache " + dir + " cannot be created (" + existing + " is not"
                    + " writable)");
        }
        return new CalibrationCache(dir, maxBytes, false);
    }

    private static LayerscopeException notADirectory(Path dir) {
        return new LayerscopeException("--calibration-cache " + dir + " is not a directory; give a directory the cached"
                + " stage-one results can be kept in");
    }

    Path dir() {
        return dir;
    }

    /** Whether its directory could not be written when opened: its entries are read, none stored or removed. */
    boolean readOnly() {
        return readOnly;
    }

    /** Where the entry of {@code key} lives. */
    Path file(String key) {
        return dir.resolve("stage1-" + key + ".bin");
    }

    /**
     * The key of stage one over {@code windows} in {@code shards} shards with {@code spec}'s forward,
     * on {@code ckpt}'s weights, by the given tool and libtorch versions: a SHA-256 in hex.
     */
    static String key(Checkpoint ckpt, ModelSpec spec, int shards, List<int[]> windows, String toolVersion,
                      String torchVersion) {
        MessageDigest sha = Sha256.newDigest();
        try (DataOutputStream d = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha))) {
            d.writeUTF(FORMAT);
            d.writeUTF(toolVersion);
            d.writeUTF(torchVersion);
            d.write(Files.readAllBytes(ckpt.dir().resolve("config.json")));
            d.writeInt(ckpt.files().size());
            for (SafetensorsFile f : ckpt.files()) {
                Path real = f.path().toRealPath();
                d.writeUTF(real.toString());
                // with the ctime a rewrite that keeps size and mtime (cp -p, tar x) misses; off Unix, size and mtime
                d.writeUTF(FileIdentity.describe(real));
            }
            d.writeUTF(spec.dtype().name());
            d.writeInt(spec.lastBlock());
            d.writeUTF(String.join(",", spec.tapKeys()));
            d.writeInt(spec.batchSize());
            d.writeBoolean(spec.depth());
            d.writeUTF(spec.statsDevice().name());
            d.writeInt(shards);
            d.writeInt(windows.size());
            for (int[] w : windows) {
                d.writeInt(w.length);
                for (int t : w) {
                    d.writeInt(t);
                }
            }
        } catch (IOException e) {
            throw new LayerscopeException(ckpt.dir() + ": cannot read the model's files for the calibration cache's key ("
                    + io.layerscope.Failures.describe(e) + ")", e);
        }
        return Sha256.hex(sha);
    }

    /**
     * The entry of {@code key}, or empty when there is none or it cannot be used (then {@code err} says
     * why; the caller computes stage one, and storing it under this key replaces the file).
     */
    Optional<Entry> find(String key, PrintStream err) {
        Path f = file(key);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 16)) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                return unusable(f, "not a layerscope stage-one cache entry of this version", err);
            }
            ObjectInputStream objects = new ObjectInputStream(in);
            objects.setObjectInputFilter(CLASSES);
            if (!(objects.readObject() instanceof Entry e)) {
                return unusable(f, "it holds something else", err);
            }
            if (!key.equals(e.key())) {
                return unusable(f, "it was stored under another key", err);
            }
            CacheEntries.markUsed(f);   // its modification time is its last use, which trim goes by
            return Optional.of(e);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (InvalidClassException e) {
            return unusable(f, "it holds a class an entry does not (" + e.getMessage() + ")", err);
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            // whatever a damaged or crafted stream makes the allowed classes throw: never the run's failure
            return unusable(f, "unreadable: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), err);
        }
    }

    private static Optional<Entry> unusable(Path f, String why, PrintStream err) {
        err.printf("calibration cache: %s cannot be used (%s); stage one runs instead%n", f, why);
        return Optional.empty();
    }

    /**
     * Stores {@code r} under {@code key}, and beside it {@code about} as JSON
     * ({@code stage1-<key>.json}: what the entry was computed from, for a person choosing which
     * entries to delete; never read back). Each file is written to a temporary name, forced to disk,
     * then renamed over any older one. A failure is reported on {@code err} and leaves no temporary
     * file; the run goes on without the cache.
     *
     * @return the entry's file, or empty when it could not be stored
     */
    Optional<Path> store(String key, String runId, CalibrationStage.Result r, Map<String, Object> about, PrintStream err) {
        if (readOnly) {
            return Optional.empty();   // said where the run looked the entry up
        }
        Path f = file(key);
        try {
            Files.createDirectories(dir);   // made by the first entry (see open)
            String created = Instant.now().toString();
            WholeFiles.write(f, out -> {
                out.write(MAGIC);
                ObjectOutputStream objects = new ObjectOutputStream(out);
                objects.writeObject(new Entry(key, created, runId, r));
                objects.flush();
            }, WholeFiles.Durability.FORCED);
            Map<String, Object> described = new LinkedHashMap<>();
            described.put("entry", f.getFileName().toString());
            described.put("runId", runId);
            described.put("createdAt", created);
            described.putAll(about);
            try {
                WholeFiles.write(description(key), out -> out.write(new ObjectMapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsBytes(described)), WholeFiles.Durability.FORCED);
            } catch (IOException | RuntimeException e) {
                // the entry is whole and in place: later runs read it, and only a person misses the description
                err.printf("calibration cache: stored stage one's result in %s, but not its description %s (%s)%n", f,
                        description(key).getFileName(), reason(e));
            }
            return Optional.of(f);
        } catch (IOException | RuntimeException e) {
            err.printf("calibration cache: cannot store stage one's result in %s (%s); the run goes on without it%n", dir,
                    reason(e));
            return Optional.empty();
        }
    }

    private static String reason(Exception e) {
        return e instanceof IOException failure ? io.layerscope.Failures.describe(failure) : e.toString();
    }

    /** The JSON beside the entry of {@code key} that says what it was computed from. */
    Path description(String key) {
        return dir.resolve("stage1-" + key + ".json");
    }

    /**
     * Keeps the cache within its size: removes the least recently used entries, each with its JSON,
     * until the rest take at most the cache's bytes, but never the entry of {@code keep} (the run's
     * own, which may alone exceed them); also descriptions whose entry is gone and temporary files
     * older than {@link WholeFiles#ABANDONED}. Files it does not recognise are left alone and not counted. What
     * was removed is said on {@code err}; what cannot be read or removed is left for a later run.
     */
    CacheEntries.Removed trim(String keep, PrintStream err) {
        if (readOnly || !Files.isDirectory(dir)) {
            return new CacheEntries.Removed(0, 0);   // no entry was ever stored (or it could not be): nothing to keep small
        }
        List<CacheEntries.Entry> entries;
        try {
            entries = CacheEntries.scan(dir, this::entryOf);
        } catch (IOException e) {
            err.printf("calibration cache: cannot list %s to keep it within %s (%s)%n", dir, ConsoleProgress.bytes(maxBytes),
                    io.layerscope.Failures.describe(e));
            return new CacheEntries.Removed(0, 0);
        }
        CacheEntries.Removed gone = CacheEntries.trim(entries, keep, maxBytes);
        if (gone.entries() > 0) {
            err.printf("calibration cache: removed %d least recently used %s (%s) to keep %s within %s"
                    + " (--calibration-cache-size)%n", gone.entries(), gone.entries() == 1 ? "entry" : "entries",
                    ConsoleProgress.bytes(gone.bytes()), dir, ConsoleProgress.bytes(maxBytes));
        }
        return gone;
    }

    /** An entry file with its description; a description whose entry is gone is removed. */
    private CacheEntries.Entry entryOf(Path f) throws IOException {
        String name = f.getFileName().toString();
        Matcher m = ENTRY.matcher(name);
        if (m.matches()) {
            Path description = description(m.group(1));
            long described = Files.exists(description) ? Files.size(description) : 0;
            return new CacheEntries.Entry(m.group(1), List.of(f, description), Files.size(f) + described,
                    Files.getLastModifiedTime(f));
        }
        if ((m = DESCRIPTION.matcher(name)).matches() && !Files.exists(file(m.group(1)))) {
            Files.deleteIfExists(f);
        }
        return null;
    }
}
