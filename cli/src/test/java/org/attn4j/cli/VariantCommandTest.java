package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.io.Npy;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantFactory;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attn4j variants}, {@code attn4j variant} and {@code attn4j bench variants}. */
class VariantCommandTest {
    @TempDir Path dir;

    Path save(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, t);
        return p;
    }

    @Test
    void listShowsEveryRegisteredVariantWithPaperAndKind() throws IOException {
        CliTest.Run res = CliTest.run("variants", "list");
        assertEquals(0, res.code(), res.err());
        for (VariantFactory f : VariantRegistry.all()) {
            assertTrue(res.out().contains(f.info().name()) && res.out().contains(f.info().paper()), f.info().name() + " missing:\n" + res.out());
        }
        CliTest.Run json = CliTest.run("variants", "list", "--json");
        JsonNode arr = new ObjectMapper().readTree(json.out());
        assertEquals(VariantRegistry.all().size(), arr.size());
        // The trainable column: yes exactly for the mechanisms with a backward.
        assertTrue(res.out().lines().findFirst().orElse("").contains("trainable"), res.out());
        for (JsonNode n : arr) {
            assertEquals(org.attn4j.variants.trainable.TrainableRegistry.isTrainable(n.get("name").asText()), n.get("trainable").asBoolean(), n.toString());
        }
        assertTrue(res.out().lines().anyMatch(l -> l.startsWith("moba ") && l.contains(" yes ")), res.out());
        assertTrue(res.out().lines().anyMatch(l -> l.startsWith("flowformer ") && l.contains(" no ")), res.out());
        CliTest.Run desc = CliTest.run("variants", "describe", "full");
        assertEquals(0, desc.code(), desc.err());
        assertTrue(desc.out().contains("causal=bool"), desc.out());
        CliTest.Run bad = CliTest.run("variants", "describe", "nope");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("no variant named 'nope'"), bad.err());
    }

    @Test
    void variantRunsOnNpyAndMatchesTheEngine() throws IOException {
        Random r = new Random(4);
        Tensor q = CliTest.gaussian(r, 2, 3, 17, 12), k = CliTest.gaussian(r, 2, 3, 17, 12), v = CliTest.gaussian(r, 2, 3, 17, 5);
        Path out = dir.resolve("o.npy");
        CliTest.Run res = CliTest.run("variant", "full", "--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString(),
                "--v", save("v.npy", v).toString(), "--set", "causal=true", "--out", out.toString(), "--verbose");
        assertEquals(0, res.code(), res.err());
        assertTrue(res.err().contains("GFLOP executed"), res.err());
        float[] got = Npy.readFloat(out).toArray();
        float[] want = Attention.sdpa(q, k, v, AttentionSpec.builder().kernel(KernelChoice.REFERENCE).causal(CausalAlignment.TOP_LEFT).build())
                .output().toArray();
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5, "element " + i);
    }

    @Test
    void badSettingsAndShapesFailWithExitTwoAndWriteNothing() throws IOException {
        Random r = new Random(5);
        Path qp = save("q.npy", CliTest.gaussian(r, 1, 2, 8, 4)), kp = save("k.npy", CliTest.gaussian(r, 1, 2, 8, 4));
        Path vp = save("v.npy", CliTest.gaussian(r, 1, 2, 8, 4)), bad = save("bad.npy", CliTest.gaussian(r, 1, 2, 8, 6));
        Path out = dir.resolve("o.npy");
        CliTest.Run typo = CliTest.run("variant", "full", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(),
                "--set", "casual=true", "--out", out.toString());
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("casual"), typo.err());
        CliTest.Run value = CliTest.run("variant", "full", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(),
                "--set", "causal=maybe", "--out", out.toString());
        assertEquals(2, value.code());
        assertTrue(value.err().contains("causal: expected true or false"), value.err());
        CliTest.Run shape = CliTest.run("variant", "full", "--q", qp.toString(), "--k", bad.toString(), "--v", vp.toString(), "--out", out.toString());
        assertEquals(2, shape.code());
        assertTrue(shape.err().contains("k:"), shape.err());
        CliTest.Run missing = CliTest.run("variant", "full", "--q", dir.resolve("none.npy").toString(), "--k", kp.toString(), "--v", vp.toString(),
                "--out", out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--q"), missing.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void benchVariantsReportsSpeedupFlopsAndErrorAsTableAndJson() throws IOException {
        Path json = dir.resolve("bench.json");
        CliTest.Run res = CliTest.run("bench", "variants", "--names", "full", "--n", "64,128", "--d", "16", "--heads", "2",
                "--threads", "1", "--min-seconds", "0.01", "--reps", "1", "--warmup", "0", "--json", json.toString(), "--set", "full:causal=true");
        assertEquals(0, res.code(), res.err());
        assertTrue(res.out().contains("speed-up") && res.out().contains("GFLOP"), res.out());
        JsonNode arr = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, arr.size());
        for (JsonNode n : arr) {
            assertEquals("full", n.get("variant").asText());
            assertTrue(n.get("causal").asBoolean());
            // The variant is exact causal attention itself: identical output and FLOPs.
            assertEquals(0.0, n.get("relative_error").asDouble(), 1e-6);
            assertEquals(n.get("exact_flops").asLong(), n.get("flops").asLong());
        }
        // A linear form over two lengths: a crossover line (its value depends on timing, its presence does not).
        CliTest.Run cross = CliTest.run("bench", "variants", "--names", "linear,neighborhood-1d", "--n", "64,128", "--d", "16", "--heads", "2",
                "--threads", "1", "--min-seconds", "0.01", "--reps", "1", "--warmup", "0", "--set", "neighborhood-1d:kernel=7");
        assertEquals(0, cross.code(), cross.err());
        assertTrue(cross.out().contains("crossover vs exact attention") && cross.out().contains("linear "), cross.out());
        CliTest.Run badSet = CliTest.run("bench", "variants", "--names", "full", "--n", "64", "--set", "causal=true");
        assertEquals(2, badSet.code());
        assertTrue(badSet.err().contains("NAME:KEY=VALUE"), badSet.err());
        CliTest.Run badName = CliTest.run("bench", "variants", "--names", "nope", "--n", "64");
        assertEquals(2, badName.code());
    }
}
