package org.attn4j.variants;

import java.util.Objects;

/**
 * The part every parameterised variant shares: its {@link VariantInfo}, its hyper-parameters
 * (checked non-null), and {@link #causal()} read from them. A subclass adds its learned parameters
 * (a seed or explicit weights) and {@link #run}.
 *
 * @param <P> the hyper-parameter record
 */
public abstract class AbstractVariant<P extends VariantParams> implements Variant {
    private final VariantInfo info;
    /** The hyper-parameters, never null. */
    protected final P params;

    protected AbstractVariant(VariantInfo info, P params) {
        this.info = Objects.requireNonNull(info, "info");
        this.params = Objects.requireNonNull(params, "params");
    }

    @Override
    public final VariantInfo info() { return info; }

    @Override
    public final boolean causal() { return params.causal(); }

    /** The hyper-parameters this instance was built with. */
    public final P params() { return params; }
}
