package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.io.Npy;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attn4j sdpa --dout ... --dq ... --dk ... --dv ... [--dbias ...]}: the backward pass over .npy files. */
class SdpaGradientsTest {
    @TempDir Path dir;

    Path save(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, t);
        return p;
    }

    String path(String name) {
        return dir.resolve(name).toString();
    }

    /** The gradients the Java API gives for the forward's own output and lse (what the CLI must write). */
    static AttentionGradients expected(Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec) {
        AttentionSpec s = spec.toBuilder().returnLse(true).build();
        AttentionResult fwd = Attention.sdpa(q, k, v, s);
        return Attention.backward(q, k, v, fwd.output(), fwd.lse(), dOut, s);
    }

    void assertFileEquals(Tensor expected, String file) throws IOException {
        Tensor got = Npy.readFloat(dir.resolve(file));
        assertArrayEquals(expected.shape(), got.shape(), file);
        assertEquals(0, Arrays.compare(expected.toArray(), got.toArray()), file + " differs from the Java API's result");
    }

    @Test
    void gqaCausalWindowLengthsAlibiOnTheFlashBackwardMatchTheApi() throws IOException {
        Random r = new Random(11);
        Tensor q = CliTest.gaussian(r, 2, 4, 9, 16), k = CliTest.gaussian(r, 2, 2, 13, 16), v = CliTest.gaussian(r, 2, 2, 13, 6);
        Tensor dOut = CliTest.gaussian(r, 2, 4, 9, 6);
        CliTest.Run res = CliTest.run("sdpa", "--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString(),
                "--v", save("v.npy", v).toString(), "--causal", "bottom-right", "--window", "5,0", "--kv-lengths", "13,10",
                "--q-lengths", "9,7", "--alibi", "--kernel", "flash", "--threads", "2", "--out", path("o.npy"), "--lse", path("lse.npy"),
                "--dout", save("do.npy", dOut).toString(), "--dq", path("dq.npy"), "--dk", path("dk.npy"), "--dv", path("dv.npy"),
                "--explain-dispatch");
        assertEquals(0, res.code(), res.err());
        assertTrue(res.err().contains("backward kernel: flash") && res.err().contains("(forward and backward)"), res.err());

        AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).window(5, 0).kvLengths(13, 10).qLengths(9, 7)
                .alibi(true).kernel(KernelChoice.FLASH).threads(2).returnLse(true).build();
        AttentionResult fwd = Attention.sdpa(q, k, v, spec);
        AttentionGradients g = Attention.backward(q, k, v, fwd.output(), fwd.lse(), dOut, spec);
        assertFileEquals(fwd.output(), "o.npy");
        assertFileEquals(fwd.lse(), "lse.npy");
        assertFileEquals(g.dq(), "dq.npy");
        assertFileEquals(g.dk(), "dk.npy");   // [2, 2, 13, 16]: summed over the two query heads of each kv head
        assertFileEquals(g.dv(), "dv.npy");
        // padded queries (batch 1, rows 7 and 8) get zero gradients
        float[] dq = Npy.readFloat(dir.resolve("dq.npy")).toArray();
        for (int h = 0; h < 4; h++) {
            for (int i = 7; i < 9; i++) {
                for (int c = 0; c < 16; c++) assertEquals(0f, dq[((4 + h) * 9 + i) * 16 + c]);
            }
        }
    }

    @Test
    void broadcastBiasWithMaskSoftcapAndScaleWritesDbiasInTheBiasShape() throws IOException {
        Random r = new Random(12);
        Tensor q = CliTest.gaussian(r, 2, 2, 5, 8), k = CliTest.gaussian(r, 2, 1, 7, 8), v = CliTest.gaussian(r, 2, 1, 7, 8);
        Tensor dOut = CliTest.gaussian(r, 2, 2, 5, 8);
        Tensor bias = CliTest.gaussian(r, 2, 1, 7);   // [Hq, 1, Nk]: broadcast over B and Nq
        boolean[] m = new boolean[5 * 7];
        for (int i = 0; i < m.length; i++) m[i] = r.nextInt(4) != 0;
        for (int j = 0; j < 7; j++) m[2 * 7 + j] = false;   // query row 2 sees no key: zero gradients
        BoolTensor mask = BoolTensor.of(m, 5, 7);
        Path maskFile = dir.resolve("m.npy");
        Npy.write(maskFile, mask);
        for (String kernel : new String[] {"reference", "auto"}) {
            CliTest.Run res = CliTest.run("sdpa", "--q", save("q.npy", q).toString(), "--k", save("k.npy", k).toString(),
                    "--v", save("v.npy", v).toString(), "--mask", maskFile.toString(), "--bias", save("b.npy", bias).toString(),
                    "--softcap", "3", "--scale", "0.4", "--kernel", kernel, "--out", path("o.npy"),
                    "--dout", save("do.npy", dOut).toString(), "--dq", path("dq.npy"), "--dk", path("dk.npy"), "--dv", path("dv.npy"),
                    "--dbias", path("db.npy"));
            assertEquals(0, res.code(), res.err());
            AttentionSpec spec = AttentionSpec.builder().mask(mask).bias(bias, true).softcap(3).scale(0.4f)
                    .kernel(kernel.equals("reference") ? KernelChoice.REFERENCE : KernelChoice.AUTO).build();
            AttentionGradients g = expected(q, k, v, dOut, spec);
            assertFileEquals(g.dq(), "dq.npy");
            assertFileEquals(g.dk(), "dk.npy");
            assertFileEquals(g.dv(), "dv.npy");
            assertFileEquals(g.dbias(), "db.npy");
            assertArrayEquals(new int[] {2, 1, 7}, Npy.readFloat(dir.resolve("db.npy")).shape());
            float[] dq = Npy.readFloat(dir.resolve("dq.npy")).toArray();
            for (int c = 0; c < 8; c++) assertEquals(0f, dq[2 * 8 + c], "fully masked row");
        }
    }

    @Test
    void float64InputsAreConvertedLikeTheForward() throws IOException {
        Random r = new Random(13);
        int[] qs = {1, 3, 6, 4}, ks = {1, 3, 8, 4}, vs = {1, 3, 8, 5}, os = {1, 3, 6, 5};
        Path qp = dir.resolve("q64.npy"), kp = dir.resolve("k64.npy"), vp = dir.resolve("v64.npy"), dp = dir.resolve("do64.npy");
        Tensor q = writeF8(qp, r, qs), k = writeF8(kp, r, ks), v = writeF8(vp, r, vs), dOut = writeF8(dp, r, os);
        CliTest.Run res = CliTest.run("sdpa", "--q", qp.toString(), "--k", kp.toString(), "--v", vp.toString(), "--causal", "top-left",
                "--out", path("o.npy"), "--dout", dp.toString(), "--dq", path("dq.npy"), "--dk", path("dk.npy"), "--dv", path("dv.npy"));
        assertEquals(0, res.code(), res.err());
        AttentionGradients g = expected(q, k, v, dOut, AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).build());
        assertFileEquals(g.dq(), "dq.npy");
        assertFileEquals(g.dk(), "dk.npy");
        assertFileEquals(g.dv(), "dv.npy");
    }

    /** Writes Gaussian float64 values as a '<f8' .npy and returns them rounded to float32 (what the reader gives). */
    static Tensor writeF8(Path file, Random r, int... shape) throws IOException {
        int n = 1;
        for (int s : shape) n *= s;
        double[] x = new double[n];
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextGaussian();
            f[i] = (float) x[i];
        }
        StringBuilder dims = new StringBuilder();
        for (int s : shape) dims.append(s).append(", ");
        String header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims.toString().strip() + "), }";
        int len = 10 + header.length() + 1;
        header += " ".repeat((64 - len % 64) % 64) + "\n";
        ByteBuffer buf = ByteBuffer.allocate(10 + header.length() + 8 * n).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        buf.put(header.getBytes(StandardCharsets.US_ASCII));
        for (double d : x) buf.putDouble(d);
        Files.write(file, buf.array());
        return Tensor.of(f, shape);
    }

    @Test
    void badGradientOptionsAreOneLineExitTwoAndLeaveEveryOutputAlone() throws IOException {
        Random r = new Random(14);
        String qp = save("q.npy", CliTest.gaussian(r, 1, 2, 5, 8)).toString(), kp = save("k.npy", CliTest.gaussian(r, 1, 2, 6, 8)).toString(),
                vp = save("v.npy", CliTest.gaussian(r, 1, 2, 6, 8)).toString(), bp = save("b.npy", CliTest.gaussian(r, 5, 6)).toString();
        String good = save("do.npy", CliTest.gaussian(r, 1, 2, 5, 8)).toString(), narrow = save("do4.npy", CliTest.gaussian(r, 1, 2, 5, 4)).toString();
        float[] nan = CliTest.gaussian(r, 1, 2, 5, 8).toArray();
        nan[17] = Float.NaN;
        String nanDo = save("donan.npy", Tensor.of(nan, 1, 2, 5, 8)).toString();
        // a pre-existing --out and --dq that a failed run must not touch
        Path out = dir.resolve("o.npy"), dq = dir.resolve("dq.npy");
        Files.writeString(out, "old out");
        Files.writeString(dq, "old dq");
        String[] inputs = {"sdpa", "--q", qp, "--k", kp, "--v", vp, "--out", out.toString()};

        record Case(String expectedStart, int code, String... args) {}
        List<Case> cases = List.of(
                new Case("--dq: needs --dout", 2, "--dq", dq.toString()),
                new Case("--dv: needs --dout", 2, "--dv", path("dv.npy")),
                new Case("--dbias: needs --dout", 2, "--bias", bp, "--dbias", path("db.npy")),
                new Case("--dout: needs --dq, --dk and --dv", 2, "--dout", good, "--dq", dq.toString(), "--dv", path("dv.npy")),
                new Case("--dout: needs --dq, --dk and --dv", 2, "--dout", good),
                new Case("--dbias: needs --bias", 2, "--dout", good, "--dq", dq.toString(), "--dk", path("dk.npy"), "--dv", path("dv.npy"),
                        "--dbias", path("db.npy")),
                new Case("--dout: expected shape [B, Hq, Nq, Dv] = [1, 2, 5, 8], got [1, 2, 5, 4]", 2, "--dout", narrow,
                        "--dq", dq.toString(), "--dk", path("dk.npy"), "--dv", path("dv.npy")),
                new Case("--dout: expected finite values", 2, "--dout", nanDo, "--dq", dq.toString(), "--dk", path("dk.npy"), "--dv", path("dv.npy")),
                new Case("--dout: file", 2, "--dout", path("missing.npy"), "--dq", dq.toString(), "--dk", path("dk.npy"), "--dv", path("dv.npy")),
                new Case("--dk: ", 2, "--dout", good, "--dq", dq.toString(), "--dk", dq.toString(), "--dv", path("dv.npy")),
                new Case("--dq: ", 2, "--dout", good, "--dq", out.toString(), "--dk", path("dk.npy"), "--dv", path("dv.npy")),
                // an I/O failure while writing the last output (its directory is missing): nothing appears either
                new Case("attn4j: I/O error: ", 1, "--bias", bp, "--lse", path("lse.npy"), "--dout", good, "--dq", dq.toString(),
                        "--dk", path("dk.npy"), "--dv", path("dv.npy"), "--dbias", dir.resolve("no-such-dir").resolve("db.npy").toString()));
        for (Case c : cases) {
            List<String> args = new ArrayList<>(List.of(inputs));
            args.addAll(List.of(c.args()));
            CliTest.Run res = CliTest.run(args.toArray(String[]::new));
            String what = String.join(" ", c.args()) + " -> " + res.err();
            assertEquals(c.code(), res.code(), what);
            String line = res.err().strip();
            assertEquals(1, line.lines().count(), what);
            assertTrue(line.startsWith(c.code() == 2 ? "attn4j: error: " + c.expectedStart() : c.expectedStart()), what);
            assertEquals("old out", Files.readString(out), what);
            assertEquals("old dq", Files.readString(dq), what);
            for (String f : new String[] {"lse.npy", "dk.npy", "dv.npy", "db.npy"}) assertFalse(Files.exists(dir.resolve(f)), f + ": " + what);
            try (var files = Files.list(dir)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left behind: " + what);
            }
        }
    }

    @Test
    void helpListsTheGradientOptions() {
        CliTest.Run res = CliTest.run("sdpa", "--help");
        assertEquals(0, res.code(), res.err());
        for (String o : new String[] {"--dout=DO.npy", "--dq=DQ.npy", "--dk=DK.npy", "--dv=DV.npy", "--dbias=DB.npy", "--dout needs --dq --dk --dv"}) {
            assertTrue(res.out().contains(o), o + " missing from:\n" + res.out());
        }
    }
}
