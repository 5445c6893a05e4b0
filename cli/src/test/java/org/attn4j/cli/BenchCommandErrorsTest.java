package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** A rejected argument keeps what was wrong with it: the cause, and its message on the error line. */
class BenchCommandErrorsTest {

    @Test
    void aMalformedEmbedShapeKeepsTheParseErrorAsItsCause() {
        AtomicReference<Exception> thrown = new AtomicReference<>();
        CommandLine cl = new CommandLine(new BenchCommand.Embed());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            thrown.set(ex);
            return 2;
        });
        assertEquals(2, cl.execute("--shape", "8,12x"));
        IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, thrown.get());
        assertTrue(e.getMessage().startsWith("--shape: expected BATCH,TOKENS, got '8,12x'"), e.getMessage());
        NumberFormatException cause = assertInstanceOf(NumberFormatException.class, e.getCause(), "the parse error is the cause");
        assertTrue(e.getMessage().contains(cause.getMessage()), "and the user sees it: " + e.getMessage());
    }
}
