package org.attn4j.variants;

/** The catalogue's families of attention mechanisms (see the project's paper catalogue). */
public enum Family {
    /** Exact attention engine extensions (bias forms, position encodings, score functions). */
    E("exact engine"),
    /** Sparse and local attention: each query sees a structured or content-selected subset of keys. */
    S("sparse / local"),
    /** Linear, low-rank and recurrent forms. */
    L("linear / low-rank / recurrent"),
    /** Head design, head mixing and alternative score functions. */
    H("head design / mixing");

    private final String title;

    Family(String title) { this.title = title; }

    public String title() { return title; }
}
