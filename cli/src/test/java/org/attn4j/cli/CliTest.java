package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.io.Npy;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Tensor gaussian(Random r, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return Tensor.of(a, shape);
    }

    Path save(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, t);
        return p;
    }

    @Test
    void sdpaWritesOutputLseAndProbsMatchingTheEngine() throws IOException {
        Random r = new Random(1);
        Tensor q = gaussian(r, 2, 4, 9, 20), k = gaussian(r, 2, 2, 13, 20), v = gaussian(r, 2, 2, 13, 7);
        Path qp = save("q.npy", q), kp = save("k.npy", k), vp = save("v.npy", v);
        Path out = dir.resolve("o.npy"), lse = dir.resolve("lse.npy"), probs = dir.resolve("p.npy");
        Run res = run("sdpa", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(), "--causal", "bottom-right",
                "--kv-lengths", "13,10", "--window", "inf,0", "--alibi", "--out", out.toString(), "--lse", lse.toString(),
                "--probs", probs.toString(), "--explain-dispatch");
        assertEquals(0, res.code(), res.err());
        assertTrue(res.err().contains("kernel: reference"), res.err());
        AttentionResult expected = Attention.sdpa(q, k, v, AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT)
                .kvLengths(13, 10).alibi(true).kernel(KernelChoice.REFERENCE).returnLse(true).returnProbs(true).build());
        assertEquals(0, java.util.Arrays.compare(expected.output().data(), Npy.readFloat(out).toArray()));
        assertEquals(0, java.util.Arrays.compare(expected.lse().data(), Npy.readFloat(lse).toArray()));
        Tensor p = Npy.readFloat(probs);
        assertEquals(java.util.List.of(2, 4, 9, 13), java.util.Arrays.stream(p.shape()).boxed().toList());

        // the fast kernel through the CLI agrees with the reference within fp32 tolerance
        Path fast = dir.resolve("fast.npy");
        assertEquals(0, run("sdpa", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(), "--causal", "bottom-right",
                "--kv-lengths", "13,10", "--alibi", "--kernel", "flash", "--threads", "2", "--out", fast.toString()).code());
        float[] f = Npy.readFloat(fast).toArray(), e = expected.output().data();
        for (int i = 0; i < f.length; i++) assertEquals(e[i], f[i], 1e-5 + 1e-5 * Math.abs(e[i]));
    }

    @Test
    void badInputIsOneLineExitTwoAndWritesNothing() throws IOException {
        Random r = new Random(2);
        Path qp = save("q.npy", gaussian(r, 1, 2, 3, 8)), kp = save("k.npy", gaussian(r, 1, 2, 5, 7)), vp = save("v.npy", gaussian(r, 1, 2, 5, 4));
        Path out = dir.resolve("o.npy");
        Run res = run("sdpa", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(), "--out", out.toString());
        assertEquals(2, res.code());
        assertTrue(res.err().startsWith("attn4j: error: k: dimension 3 (D)"), res.err());
        assertEquals(1, res.err().strip().lines().count(), res.err());
        assertFalse(Files.exists(out));

        Run missing = run("sdpa", "--q", dir.resolve("nope.npy").toString(), "--k", kp.toString(), "--v", vp.toString(), "--out", out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("attn4j: error: --q: file"), missing.err());

        Path junk = dir.resolve("junk.npy");
        Files.writeString(junk, "not numpy");
        Run malformed = run("sdpa", "--q", junk.toString(), "--k", kp.toString(), "--v", vp.toString(), "--out", out.toString());
        assertEquals(2, malformed.code());
        assertTrue(malformed.err().contains("--q:") && malformed.err().contains("junk.npy"), malformed.err());

        Path k8 = save("k8.npy", gaussian(r, 1, 2, 5, 8));
        Path lse = dir.resolve("lse.npy"), probs = dir.resolve("p.npy");
        Run flashProbs = run("sdpa", "--q", qp.toString(), "--k", k8.toString(), "--v", vp.toString(), "--kernel", "flash",
                "--out", out.toString(), "--lse", lse.toString(), "--probs", probs.toString());
        assertEquals(2, flashProbs.code());
        assertTrue(flashProbs.err().contains("probabilities"), flashProbs.err());
        assertFalse(Files.exists(out) || Files.exists(lse) || Files.exists(probs));

        assertEquals(2, run("sdpa", "--q", qp.toString(), "--k", k8.toString(), "--v", vp.toString(), "--window", "3",
                "--out", out.toString()).code());
        assertEquals(2, run("sdpa", "--q", qp.toString(), "--k", k8.toString(), "--v", vp.toString(), "--causal", "diagonal",
                "--out", out.toString()).code());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left behind");
        }
    }

    @Test
    void benchPrintsTableAndJson() throws IOException {
        Path json = dir.resolve("bench.json");
        Run res = run("bench", "sdpa", "--shape", "1,2,70,16", "--kv-heads", "1", "--causal", "--threads", "1,2", "--quick",
                "--min-seconds", "0.05", "--json", json.toString());
        assertEquals(0, res.code(), res.err());
        assertTrue(res.out().contains("GFLOP/s") && res.out().contains("% peak"), res.out());
        JsonNode rows = new ObjectMapper().readTree(json.toFile());
        assertTrue(rows.size() >= 2);
        JsonNode row = rows.get(0);
        for (String f : new String[] {"B", "Hq", "Hkv", "Nq", "Nk", "D", "causal", "kernel", "threads", "median_ms", "gflops", "peak_fraction"}) {
            assertTrue(row.has(f), "missing field " + f + " in " + row);
        }
        assertEquals(1, row.get("Hkv").asInt());
        assertTrue(row.get("causal").asBoolean());
        assertTrue(row.get("median_ms").asDouble() > 0 && row.get("peak_fraction").asDouble() > 0);
        assertTrue(row.get("max_abs_error").asDouble() < 1e-5, row.toString());
        assertEquals(2, run("bench", "sdpa", "--shape", "1,2,x,16").code());
    }

    @Test
    void benchBackwardPrintsBothPassesChecksAndJson() throws IOException {
        Path json = dir.resolve("bwd.json");
        Run res = run("bench", "sdpa", "--backward", "--shape", "1,2,70,16", "--kv-heads", "1", "--causal", "--threads", "1,2",
                "--quick", "--warmup", "0.01", "--json", json.toString());
        assertEquals(0, res.code(), res.err());
        assertTrue(res.out().contains("fwd+bwd") && res.out().contains("% peak") && res.out().contains("backward = 2.5 × forward"), res.out());
        assertTrue(res.out().contains("vs float64 reference") && res.out().contains("correctness: "), res.out());
        assertTrue(res.out().contains("JVM heap: max"), res.out());
        JsonNode rows = new ObjectMapper().readTree(json.toFile());
        assertTrue(rows.size() >= 4, rows.toString());
        JsonNode row = rows.get(0);
        for (String f : new String[] {"B", "Hq", "Hkv", "Nq", "Nk", "D", "causal", "pass", "impl", "kernel", "threads", "flops", "median_ms",
                "p25_ms", "p75_ms", "samples", "gflops", "peak_fraction", "peak_gflops", "checks"}) {
            assertTrue(row.has(f), "missing field " + f + " in " + row);
        }
        assertEquals("forward+backward", row.get("pass").asText());
        assertEquals(3.5 * 4 * 16 * 2 * (70 * 71 / 2), row.get("flops").asDouble(), 1e-6);
        assertTrue(row.get("checks").get(0).get("ok").asBoolean(), row.toString());
        assertTrue(rows.findValuesAsText("pass").contains("backward"));
    }

    @Test
    void benchTrainPrintsItsTableAndRejectsBadSizes() {
        Run res = run("bench", "train", "--threads", "1", "--d-model", "16", "--heads", "2", "--seq-len", "16", "--batch", "2",
                "--vocab", "32", "--kv-pairs", "2", "--warmup", "0", "--steps", "1");
        assertEquals(0, res.code(), res.err());
        assertTrue(res.out().contains("tokens/s") && res.out().contains("MFU") && res.out().contains("alloc/step"), res.out());
        Run heads = run("bench", "train", "--d-model", "64", "--heads", "3");
        assertEquals(2, heads.code());
        assertTrue(heads.err().contains("--heads"), heads.err());
        Run kv = run("bench", "train", "--seq-len", "16", "--kv-pairs", "5");
        assertEquals(2, kv.code());
        assertTrue(kv.err().contains("--kv-pairs"), kv.err());
        Run steps = run("bench", "train", "--steps", "0");
        assertEquals(2, steps.code());
        assertTrue(steps.err().contains("--steps"), steps.err());
    }

    @Test
    void benchBadOptionsExitTwoNamingTheOption() {
        Run negativeWarmup = run("bench", "sdpa", "--backward", "--warmup", "-1");
        assertEquals(2, negativeWarmup.code());
        assertTrue(negativeWarmup.err().contains("--warmup"), negativeWarmup.err());
        Run warmupAlone = run("bench", "sdpa", "--warmup", "1");
        assertEquals(2, warmupAlone.code());
        assertTrue(warmupAlone.err().contains("--warmup") && warmupAlone.err().contains("--backward"), warmupAlone.err());
        Run threads = run("bench", "sdpa", "--backward", "--threads", "0");
        assertEquals(2, threads.code());
        assertTrue(threads.err().contains("--threads"), threads.err());
        Run seconds = run("bench", "sdpa", "--backward", "--min-seconds", "-1");
        assertEquals(2, seconds.code());
        assertTrue(seconds.err().contains("--min-seconds"), seconds.err());
        Run shape = run("bench", "sdpa", "--backward", "--shape", "1,2,0,16");
        assertEquals(2, shape.code());
        assertTrue(shape.err().contains("--shape"), shape.err());
        Run causalDefault = run("bench", "sdpa", "--backward", "--causal");
        assertEquals(2, causalDefault.code());
        assertTrue(causalDefault.err().contains("--causal"), causalDefault.err());
        Run kernel = run("bench", "sdpa", "--backward", "--kernel", "fastest");
        assertEquals(2, kernel.code());
        assertTrue(kernel.err().contains("kernel"), kernel.err());
    }
}
