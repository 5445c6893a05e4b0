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

    @Test
    void embedTextsChecksItsOptionsAndRunsWithoutPeers() {
        CliTest.Run bad = CliTest.run("bench", "embed-texts", "--texts", "0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--texts: expected 1..218, got 0"), bad.err());
        bad = CliTest.run("bench", "embed-texts", "--batch", "0", "--texts", "2");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--batch: expected >= 1, got 0"), bad.err());
        CliTest.Run ok = CliTest.run("bench", "embed-texts", "--texts", "3", "--threads", "1", "--no-peers", "--warmup", "0", "--min-seconds", "0.05");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("attn4j all-minilm-l6-v2") && ok.out().contains("      3 "), ok.out());
    }
}
