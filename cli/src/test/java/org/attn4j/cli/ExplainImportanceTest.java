package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code attn4j explain --importance --quick}: the top heads and a pruning table. */
class ExplainImportanceTest {
    @Test
    void printsTopHeadsAndPruningCurve() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new String[] {"explain", "--importance", "--quick"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        String text = out.toString();
        assertTrue(text.contains("Head importance"), text);
        assertTrue(text.contains("    0.0%      0     1.000      1.0000  -"), text);
        assertTrue(text.contains("  100.0%     72"), text);
        assertEquals(5, text.lines().filter(l -> l.matches("  L\\dH\\d+ .*")).count(), text);
    }
}
