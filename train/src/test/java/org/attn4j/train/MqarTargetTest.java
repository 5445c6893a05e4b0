package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.attn4j.train.recipes.MqarTarget;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 11's MQAR target: exact attention, 2 layers, d_model 64, sequence 64, held-out accuracy
 * ≥ 99 % with 4 and with 16 key–value pairs on each of 3 seeds, with {@link MqarTarget}'s recipe.
 * Tagged {@code slow} (each run is thousands of steps; see docs/training-stack.md for timings), so
 * it is not part of the default suite. Run it with
 * {@code ./mvnw -o -pl train -am test -Dtest=MqarTargetTest -Dsurefire.failIfNoSpecifiedTests=false -Dtrain.excludedGroups=none}.
 */
@Tag("slow")
class MqarTargetTest {

    @ParameterizedTest(name = "kv={0} seed={1}")
    @CsvSource({"4,1", "4,2", "4,3", "16,1", "16,2", "16,3"})
    void reaches99Percent(int kv, long seed) {
        MqarTarget.Recipe r = MqarTarget.Recipe.defaults().with(Map.of("kvPairs", "" + kv, "seed", "" + seed, "threads", "2"));
        MqarTarget.Outcome o = MqarTarget.run(r, line -> System.out.println("[mqar-target] " + line));
        System.out.printf("[mqar-target] kv=%d seed=%d: accuracy %.4f after %d steps, %.0f s%n", kv, seed, o.accuracy(), o.steps(), o.seconds());
        assertTrue(o.accuracy() >= 0.99, "held-out accuracy " + o.accuracy() + " after " + o.steps() + " steps");
    }
}
