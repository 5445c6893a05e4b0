package org.attn4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Output files that appear whole or not at all: written beside the target, then moved over it. */
final class AtomicFiles {
    private AtomicFiles() {}

    /** What writes the file's content. */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code content} to a temporary file beside {@code file} and moves it into place; on failure nothing is left behind. */
    static void write(Path file, Content content) throws IOException {
        writeAll(Map.of(file, content));
    }

    /**
     * Writes several files that appear together or not at all: every one is first written in full
     * to a temporary file beside its target, and only when all of them are written are they moved
     * into place (in iteration order). A failure while writing leaves the targets untouched and no
     * temporary file behind.
     */
    static void writeAll(Map<Path, Content> files) throws IOException {
        List<Path[]> staged = new ArrayList<>();   // {temporary, target}
        try {
            for (Map.Entry<Path, Content> f : files.entrySet()) {
                Path abs = f.getKey().toAbsolutePath();
                Path dir = abs.getParent();
                if (dir != null && !Files.isDirectory(dir)) throw new IOException(f.getKey() + ": directory " + dir + " does not exist");
                Path tmp = abs.resolveSibling("." + abs.getFileName() + ".attn4j-" + ProcessHandle.current().pid() + ".tmp");
                staged.add(new Path[] {tmp, abs});
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                    f.getValue().writeTo(out);
                }
            }
            for (Path[] s : staged) Files.move(s[0], s[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            for (Path[] s : staged) Files.deleteIfExists(s[0]);
        }
    }
}
