package org.attn4j.variants;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a registered variant is: its kebab-case registry name, the paper it comes from, its family,
 * and whether it is <em>exact</em>.
 *
 * <p>{@code exact} means the variant computes exactly the function its paper defines, which is
 * softmax attention restricted or biased in a known way (a structured mask, a factored bias, a
 * learned relative position); such a variant is tested against the reference kernel given the
 * equivalent dense mask or bias. {@code exact == false} means it approximates full softmax
 * attention or replaces it by another operator (linear kernels, latent routing, head mixing); the
 * benchmark reports its relative error against exact attention on the same inputs.
 *
 * @param name    registry name, kebab-case, e.g. {@code neighborhood-2d}
 * @param paper   catalogue id, e.g. {@code P102}
 * @param title   the paper's title (short form)
 * @param family  catalogue family
 * @param exact   see above
 * @param summary one line: what the mechanism does
 */
public record VariantInfo(String name, String paper, String title, Family family, boolean exact, String summary) {
    private static final Pattern KEBAB = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    private static final Pattern PAPER = Pattern.compile("P[0-9]{1,3}(,P[0-9]{1,3})*|-");

    public VariantInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(paper, "paper");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(summary, "summary");
        if (!KEBAB.matcher(name).matches()) throw new IllegalArgumentException("name: expected kebab-case, got '" + name + "'");
        if (!PAPER.matcher(paper).matches()) throw new IllegalArgumentException("paper: expected a catalogue id such as P102 (or P7,P14), got '" + paper + "'");
    }
}
