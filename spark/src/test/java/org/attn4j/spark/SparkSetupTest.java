package org.attn4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Parsing of master strings (no Spark session needed). */
class SparkSetupTest {
    @Test
    void localClusterExecutorsGetTheWorkersMemory() {
        assertEquals(2, SparkSetup.localClusterExecutors("local-cluster[2,1,2048]"));
        assertEquals(2048, SparkSetup.localClusterMemoryMb("local-cluster[2,1,2048]"));
        assertEquals("2048m", SparkSetup.localClusterExecutorMemory("local-cluster[2,1,2048]"));
        assertEquals("512m", SparkSetup.localClusterExecutorMemory(" local-cluster[ 3 , 2 , 512 ] "));
    }

    @Test
    void otherMastersHaveNoLocalClusterMemory() {
        for (String m : new String[] {"local[2]", "local[*]", "local[2,4]", "spark://127.0.0.1:7077", "local-cluster[2,1]"}) {
            assertEquals(0, SparkSetup.localClusterMemoryMb(m), m);
            assertNull(SparkSetup.localClusterExecutorMemory(m), m);
        }
    }
}
