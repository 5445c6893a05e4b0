package org.attn4j.core.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/** The vector shapes every Vector API kernel family uses. */
final class Lanes {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Int lanes matching the float lanes one to one (same lane count), for masks built from int bounds. */
    static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED.length() == L
            ? IntVector.SPECIES_PREFERRED : VectorSpecies.of(int.class, S.vectorShape());

    private Lanes() {}
}
