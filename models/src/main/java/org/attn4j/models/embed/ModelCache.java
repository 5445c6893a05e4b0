package org.attn4j.models.embed;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.tokenizer.WordPieceTokenizer;

/**
 * A cache of prepared models on disk, so that a second start skips reading the model file, parsing
 * it, packing the weights and parsing {@code tokenizer.json}: one file per model holding the
 * encoder's {@linkplain BertEncoder#preparedParts prepared parts}, its config and the tokenizer's
 * {@linkplain WordPieceTokenizer#writeCompact compact form}. A load memory-maps the file, copies
 * the packed weights onto the heap and leaves the word embeddings mapped.
 *
 * <p><b>Where:</b> {@code -Dattn4j.cache.dir=DIR}, else {@code $ATTN4J_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/attn4j}, else {@code ~/.cache/attn4j}; files go to {@code models/} below it.
 * <b>Off:</b> {@code -Dattn4j.cache=off} or {@code ATTN4J_CACHE=off}.
 *
 * <p><b>Invalidation:</b> an entry is used only when its key matches exactly. The key holds the
 * format version, the byte order, a fingerprint of the classes that define the prepared layout (so
 * a rebuilt attn4j never reads an older layout), and the model's identity: for a model inside a jar
 * the entry's CRC-32 and size as the jar records them, for files their path, size, time and CRC-32C
 * of their content. Writing a new entry for a model removes that model's older entries.
 *
 * <p><b>Failure is never fatal:</b> an unreadable, truncated or foreign file is ignored (and
 * replaced), and a directory that cannot be written (read-only, full) just means the model is
 * prepared again on the next start. Entries are written to a temporary file and renamed into place,
 * so concurrent starts never see half a file.
 */
public final class ModelCache {
    /** Version of the file layout below; bump it when the layout changes. */
    static final int FORMAT = 1;
    private static final byte[] MAGIC = "A4JMODEL".getBytes(StandardCharsets.US_ASCII);
    private static final int ALIGN = 64;
    private static final String SUFFIX = ".a4jm";

    private ModelCache() {}

    /** Builds the embedder when the cache has no entry for it. */
    @FunctionalInterface
    interface Preparer {
        Embedder prepare() throws IOException;
    }

    /** The cache directory, or null when the cache is turned off. */
    public static Path directory() {
        String off = System.getProperty("attn4j.cache", System.getenv("ATTN4J_CACHE"));
        if (off != null && (off.equalsIgnoreCase("off") || off.equalsIgnoreCase("false") || off.equals("0"))) return null;
        String dir = System.getProperty("attn4j.cache.dir");
        if (dir == null || dir.isBlank()) dir = System.getenv("ATTN4J_CACHE_DIR");
        if (dir != null && !dir.isBlank()) return Path.of(dir);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "attn4j");
        String home = System.getProperty("user.home");
        return home == null || home.isBlank() ? null : Path.of(home, ".cache", "attn4j");
    }

    /**
     * The embedder for {@code name} from the cache in {@link #directory()} when an entry with
     * {@code sourceKey} is there, else from {@code preparer}, then stored for the next start. A null
     * {@code sourceKey} (the model cannot be identified) bypasses the cache.
     */
    static Embedder load(String name, String sourceKey, Preparer preparer) throws IOException {
        return load(directory(), name, sourceKey, preparer);
    }

    /** {@link #load(String, String, Preparer)} with the cache in {@code dir} (null: no cache). */
    static Embedder load(Path dir, String name, String sourceKey, Preparer preparer) throws IOException {
        if (dir == null || sourceKey == null) return preparer.prepare();
        String key = "format=" + FORMAT + ";order=" + ByteOrder.nativeOrder() + ";code=" + CodeFingerprint.VALUE + ";model=" + name + ";" + sourceKey;
        Path file = dir.resolve("models").resolve(fileStem(name) + "-" + sha256(key).substring(0, 20) + SUFFIX);
        if (Files.isRegularFile(file)) {
            Embedder cached = read(file, key);
            if (cached != null) return cached;
        }
        Embedder fresh = preparer.prepare();
        write(file, key, fresh);
        return fresh;
    }

    /** The cached embedder, or null when the file is not a complete entry for {@code key}. */
    static Embedder read(Path file, String key) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < MAGIC.length + 8) return null;
            // Arena.ofAuto: the mapping (the word embeddings stay in it) lives as long as the encoder.
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
            byte[] magic = map.asSlice(0, MAGIC.length).toArray(ValueLayout.JAVA_BYTE);
            if (!java.util.Arrays.equals(magic, MAGIC)) return null;
            int headerLength = map.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), MAGIC.length + 4);
            if (headerLength < 0 || MAGIC.length + 8L + headerLength > size) return null;
            byte[] header = map.asSlice(MAGIC.length + 8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(header));
            if (in.readInt() != FORMAT || !in.readUTF().equals(key)) return null;
            BertConfig cfg = new BertConfig(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                    in.readDouble(), BertConfig.Pooling.valueOf(in.readUTF()));
            String name = in.readUTF();
            byte[] tok = new byte[in.readInt()];
            in.readFully(tok);
            WordPieceTokenizer tokenizer = WordPieceTokenizer.readCompact(new DataInputStream(new ByteArrayInputStream(tok)));
            int count = in.readInt();
            List<MemorySegment> parts = new ArrayList<>(count);
            long offset = align(MAGIC.length + 8L + headerLength);
            for (int i = 0; i < count; i++) {
                long bytes = in.readLong();
                if (bytes < 0 || offset + bytes > size) return null;
                parts.add(map.asSlice(offset, bytes));
                offset = align(offset + bytes);
            }
            if (offset != align(size)) return null;
            return Embedder.of(name, BertEncoder.fromPrepared(cfg, parts), tokenizer);
        } catch (IOException | RuntimeException e) {
            return null; // not a usable entry: prepare the model again and replace it
        }
    }

    /** Stores the entry (temporary file, then renamed); false, and nothing left behind, when the directory cannot be written. */
    static boolean write(Path file, String key, Embedder e) {
        Path dir = file.getParent(), tmp = null;
        try {
            Files.createDirectories(dir);
            BertConfig c = e.encoder().config();
            List<MemorySegment> parts = e.encoder().preparedParts();
            ByteArrayOutputStream tok = new ByteArrayOutputStream();
            e.tokenizer().writeCompact(new DataOutputStream(tok));
            ByteArrayOutputStream hb = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(hb);
            h.writeInt(FORMAT);
            h.writeUTF(key);
            for (int v : new int[] {c.hidden(), c.layers(), c.heads(), c.intermediate(), c.maxPositions(), c.vocabSize(), c.typeVocabSize()}) h.writeInt(v);
            h.writeDouble(c.layerNormEps());
            h.writeUTF(c.pooling().name());
            h.writeUTF(e.name());
            h.writeInt(tok.size());
            tok.writeTo(h);
            h.writeInt(parts.size());
            for (MemorySegment p : parts) h.writeLong(p.byteSize());
            h.flush();
            byte[] header = hb.toByteArray();
            long size = align(MAGIC.length + 8L + header.length);
            for (MemorySegment p : parts) size = align(size + p.byteSize());

            tmp = Files.createTempFile(dir, ".tmp-", SUFFIX);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE); Arena arena = Arena.ofConfined()) {
                MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, out, 0, MAGIC.length);
                out.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), MAGIC.length, 0);
                out.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), MAGIC.length + 4, header.length);
                MemorySegment.copy(MemorySegment.ofArray(header), 0, out, MAGIC.length + 8, header.length);
                long offset = align(MAGIC.length + 8L + header.length);
                for (MemorySegment p : parts) {
                    MemorySegment.copy(p, 0, out, offset, p.byteSize());
                    offset = align(offset + p.byteSize());
                }
                out.force();
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException ex) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            removeOlder(dir, file);
            return true;
        } catch (IOException | RuntimeException ex) {
            return false; // a cache that cannot be written only costs the next start its preparation
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more to do: the temporary file has a name no reader uses
                }
            }
        }
    }

    /** Deletes the other entries of the same model (same file stem), which no current key can match. */
    private static void removeOlder(Path dir, Path keep) throws IOException {
        String name = keep.getFileName().toString();
        String stem = name.substring(0, name.lastIndexOf('-') + 1);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, stem + "*" + SUFFIX)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!p.equals(keep) && n.length() == name.length()) Files.deleteIfExists(p);
            }
        }
    }

    /** The key part for a classpath resource: the jar entry's CRC-32 and size, or a file's identity. */
    static String resourceKey(String resource) throws IOException {
        URL url = ModelCache.class.getClassLoader().getResource(resource);
        if (url == null) return "resource=" + resource + ";missing";
        return "resource=" + resource + ";" + urlIdentity(url, true);
    }

    /** The key part for model files: each one's absolute path, size, time and CRC-32C of its content; null if one is missing. */
    static String filesKey(List<Path> files) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Path f : files) {
            Path a = f.toAbsolutePath().normalize();
            if (!Files.isRegularFile(a)) return null; // the loader reports it with its own message
            sb.append("file=").append(a).append(",size=").append(Files.size(a)).append(",time=").append(Files.getLastModifiedTime(a).toMillis())
                    .append(",crc32c=").append(Long.toHexString(crc32c(a))).append(';');
        }
        return sb.toString();
    }

    private static String urlIdentity(URL url, boolean hashFile) throws IOException {
        URLConnection c = url.openConnection();
        if (c instanceof JarURLConnection j) {
            var entry = j.getJarEntry();
            return "jar=" + j.getJarFileURL() + ",entry=" + j.getEntryName() + ",size=" + entry.getSize() + ",crc=" + Long.toHexString(entry.getCrc());
        }
        if ("file".equals(url.getProtocol())) {
            try {
                Path p = Path.of(url.toURI());
                return "file=" + p + ",size=" + Files.size(p) + ",time=" + Files.getLastModifiedTime(p).toMillis()
                        + (hashFile ? ",crc32c=" + Long.toHexString(crc32c(p)) : "");
            } catch (URISyntaxException e) {
                throw new IOException("bad resource URL " + url, e);
            }
        }
        return "url=" + url + ",size=" + c.getContentLengthLong() + ",time=" + c.getLastModified();
    }

    private static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            for (long pos = 0; pos < size; pos += 1L << 30) {
                crc.update(ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.min(1L << 30, size - pos)));
            }
        }
        return crc.getValue();
    }

    /**
     * Identity of the code that defines the prepared layout: every class that reads, packs or stores
     * a model. A rebuilt class (even with an unchanged {@link #FORMAT}) gives new keys.
     */
    private static final class CodeFingerprint {
        static final String VALUE = compute();

        private static String compute() {
            StringBuilder sb = new StringBuilder();
            for (Class<?> c : new Class<?>[] {ModelCache.class, Embedder.class, BertEncoder.class, BertConfig.class, WordPieceTokenizer.class,
                    org.attn4j.models.weights.OnnxWeights.class, org.attn4j.models.weights.OnnxGraph.class,
                    org.attn4j.models.weights.SafetensorsWeights.class, org.attn4j.models.weights.BertWeights.class}) {
                sb.append(c.getName()).append('@');
                try {
                    URL u = c.getResource(c.getSimpleName() + ".class");
                    sb.append(u == null ? "?" : urlIdentity(u, true));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                sb.append(';');
            }
            // PackedLinear is package-private in bert: reach its class file by name.
            URL packed = BertEncoder.class.getResource("PackedLinear.class");
            try {
                sb.append("PackedLinear@").append(packed == null ? "?" : urlIdentity(packed, true));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return sha256(sb.toString());
        }
    }

    private static long align(long v) {
        return (v + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static String fileStem(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._]+", "_");
        return s.length() > 60 ? s.substring(0, 60) : s;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
