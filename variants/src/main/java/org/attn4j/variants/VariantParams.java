package org.attn4j.variants;

/** A variant's validated hyper-parameters (a record) that include the causal switch. */
public interface VariantParams {
    /** Whether output i may depend only on keys j ≤ i. */
    boolean causal();
}
