package org.attn4j.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.attn4j.models.testing.LlamaCppSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    /** A file with one key of every scalar type, arrays (nested too) and a tensor of each dequantisable type. */
    private static byte[] handBuilt(int alignment) {
        GgufBytes g = new GgufBytes().header(3, 5, 17);
        g.key("general.alignment", 4).u32(alignment);
        g.key("u8", 0).u8(250);
        g.key("i8", 1).u8(0x80);
        g.key("u16", 2).u16(65535);
        g.key("i16", 3).u16(0x8000);
        g.key("u32", 4).u32(0xFFFFFFFFL);
        g.key("i32", 5).u32(-7);
        g.key("f32", 6).f32(0.375f);
        g.key("bool", 7).u8(1);
        g.key("str", 8).str("Grüße ✓");
        g.key("u64", 10).u64(-1L);
        g.key("i64", 11).u64(-123456789012L);
        g.key("f64", 12).f64(Math.PI);
        g.key("arr.i16", 9).u32(3).u64(3).u16(1).u16(-2).u16(3);
        g.key("arr.str", 9).u32(8).u64(2).str("a b").str("");
        g.key("arr.f32", 9).u32(6).u64(2).f32(1.5f).f32(-0.25f);
        g.key("arr.nested", 9).u32(9).u64(2).u32(4).u64(1).u32(9).u32(0).u64(0);

        g.tensor("f32", new long[] {3, 2}, 0, GgufBytes.f32s(1, 2, 3, 4, 5, -6), alignment);
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF (largest half), 2^-24 = 0x0001 (smallest subnormal).
        g.tensor("f16", new long[] {4}, 1, GgufBytes.u16s(0x3C00, 0xC000, 0x7BFF, 0x0001), alignment);
        // BF16: the top half of an f32: 1.0 = 0x3F80, -3.0 = 0xC040, 0.15625 = 0x3E20.
        g.tensor("bf16", new long[] {3}, 30, GgufBytes.u16s(0x3F80, 0xC040, 0x3E20), alignment);
        // Q8_0: scale 0.5 (f16 0x3800), quants -16..15.
        byte[] q8 = new byte[34];
        q8[0] = 0x00; q8[1] = 0x38;
        for (int j = 0; j < 32; j++) q8[2 + j] = (byte) (j - 16);
        g.tensor("q8_0", new long[] {32}, 8, q8, alignment);
        // Q4_0: scale 0.25 (f16 0x3400); byte j = (high nibble 15-j, low nibble j) for j < 16.
        byte[] q4 = new byte[18];
        q4[0] = 0x00; q4[1] = 0x34;
        for (int j = 0; j < 16; j++) q4[2 + j] = (byte) (((15 - j) << 4) | j);
        g.tensor("q4_0", new long[] {32}, 2, q4, alignment);
        return g.build(alignment);
    }

    @Test
    void readsEveryMetadataTypeAndDequantisesHandBuiltBlocks(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("hand.gguf");
        Files.write(f, handBuilt(64));
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(3, g.version());
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataStart() % 64);
            var md = g.metadata();
            assertEquals(250, md.get("u8"));
            assertEquals(-128, md.get("i8"));
            assertEquals(65535, md.get("u16"));
            assertEquals(-32768, md.get("i16"));
            assertEquals(4294967295L, md.get("u32"));
            assertEquals(-7, md.get("i32"));
            assertEquals(0.375f, md.get("f32"));
            assertEquals(true, md.get("bool"));
            assertEquals("Grüße ✓", md.get("str"));
            assertEquals(-1L, md.get("u64"));
            assertEquals(-123456789012L, md.get("i64"));
            assertEquals(Math.PI, md.get("f64"));
            assertArrayEquals(new int[] {1, -2, 3}, g.array("arr.i16", int[].class));
            assertArrayEquals(new String[] {"a b", ""}, g.array("arr.str", String[].class));
            assertArrayEquals(new float[] {1.5f, -0.25f}, g.array("arr.f32", float[].class));
            GgufFile.GgufArray[] nested = g.array("arr.nested", GgufFile.GgufArray[].class);
            assertArrayEquals(new long[] {9}, (long[]) nested[0].values());
            assertEquals(0, nested[1].length());
            assertEquals(GgufFile.ValueType.INT16, ((GgufFile.GgufArray) md.get("arr.i16")).elementType());
            var e = assertThrows(GgufFormatException.class, () -> g.array("arr.str", int[].class));
            assertTrue(e.getMessage().contains("arr.str") && e.getMessage().contains("STRING"), e.getMessage());

            assertEquals(List.of("f32", "f16", "bf16", "q8_0", "q4_0"), List.copyOf(g.tensors().keySet()));
            GgufTensor t = g.tensor("f32");
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6}, t.toFloats());
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, g.tensor("f16").toFloats());
            assertArrayEquals(new float[] {1f, -3f, 0.15625f}, g.tensor("bf16").toFloats());
            float[] q8 = g.tensor("q8_0").toFloats();
            assertEquals(-8f, q8[0]);
            assertEquals(0f, q8[16]);
            assertEquals(7.5f, q8[31]);
            float[] q4 = g.tensor("q4_0").toFloats();
            assertEquals(-2f, q4[0]);      // low nibble 0: (0 - 8) * 0.25
            assertEquals(1.75f, q4[15]);   // low nibble 15
            assertEquals(1.75f, q4[16]);   // high nibble of byte 0: 15
            assertEquals(-2f, q4[31]);     // high nibble of byte 15: 0
            for (GgufTensor x : g.tensors().values()) assertEquals(0, (g.dataStart() + x.offset()) % 64, x.name());
            var missing = assertThrows(GgufFormatException.class, () -> g.tensor("nope"));
            assertTrue(missing.getMessage().contains("hand.gguf") && missing.getMessage().contains("nope"), missing.getMessage());
        }
    }

    private static String error(Path dir, String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        var e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badFilesAreRefusedNamingTheFileAndTheFault(@TempDir Path dir) throws IOException {
        byte[] good = handBuilt(32);
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertTrue(error(dir, "magic.gguf", magic).contains("expected the magic 'GGUF'"));
        assertTrue(error(dir, "empty.gguf", new byte[0]).contains("not a GGUF file"));

        byte[] version = good.clone();
        version[4] = 9;
        assertTrue(error(dir, "version.gguf", version).contains("version: expected 2 or 3, got 9"));

        String trunc = error(dir, "truncated.gguf", Arrays.copyOf(good, good.length - 5));
        assertTrue(trunc.contains("tensor 'q4_0'") && trunc.contains("truncated"), trunc);

        String header = error(dir, "header.gguf", Arrays.copyOf(good, 60));
        assertTrue(header.contains("truncated"), header);
        String middle = error(dir, "middle.gguf", Arrays.copyOf(good, 200));
        assertTrue(middle.contains("needs") && middle.contains("truncated"), middle);

        // The type field of the last tensor info sits right before its u64 offset.
        byte[] dtype = new GgufBytes().header(3, 1, 0).tensor("w", new long[] {4}, 99, new byte[16], 32).build(32);
        String unknown = error(dir, "dtype.gguf", dtype);
        assertTrue(unknown.contains("tensor 'w': unknown ggml type 99"), unknown);

        byte[] block = new GgufBytes().header(3, 1, 0).tensor("w", new long[] {20}, 8, new byte[34], 32).build(32);
        assertTrue(error(dir, "block.gguf", block).contains("not a multiple of Q8_0's block size 32"));

        byte[] kvType = new GgufBytes().header(3, 0, 1).key("k", 13).u32(0).build(32);
        assertTrue(error(dir, "kvtype.gguf", kvType).contains("metadata 'k': unknown value type 13"));

        byte[] hugeArray = new GgufBytes().header(3, 0, 1).key("k", 9).u32(8).u64(1L << 40).build(32);
        assertTrue(error(dir, "array.gguf", hugeArray).contains("cannot fit"));
    }

    @Test
    void unsupportedButKnownTypeOpensAndRefusesToDequantise(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("q4k.gguf");
        Files.write(f, new GgufBytes().header(3, 1, 0).tensor("w", new long[] {256}, 12, new byte[144], 32).build(32));
        try (GgufFile g = GgufFile.open(f)) {
            GgufTensor t = g.tensor("w");
            assertEquals(GgmlType.Q4_K, t.type());
            var e = assertThrows(UnsupportedOperationException.class, t::toFloats);
            assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
        }
    }

    /** gguf-py (llama.cpp's own Python reader/writer) writes and quantises; its dequantised values must equal ours bit for bit. */
    @Test
    void agreesWithLlamaCppsGgufPy(@TempDir Path dir) throws Exception {
        Optional<Path> src = LlamaCppSource.get();
        assumeTrue(src.isPresent(), LlamaCppSource.SKIP);
        Path script = Path.of("src/test/resources/gguf/write_with_gguf_py.py").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("python3", script.toString(), dir.toString()).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", src.get().resolve("gguf-py").toString());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            assumeTrue(false, "python3 is missing; skipping the gguf-py comparison");
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor() == 0 && !log.contains("No module named 'numpy'"), "gguf-py could not run (numpy missing?): " + log);

        try (GgufFile g = GgufFile.open(dir.resolve("py.gguf"))) {
            assertEquals("llama", g.string("general.architecture", null));
            assertEquals(200, g.metadata().get("t.u8"));
            assertEquals(-100, g.metadata().get("t.i8"));
            assertEquals(60000, g.metadata().get("t.u16"));
            assertEquals(-30000, g.metadata().get("t.i16"));
            assertEquals(4000000000L, g.metadata().get("t.u32"));
            assertEquals(-2000000000, g.metadata().get("t.i32"));
            assertEquals(1.25f, g.metadata().get("t.f32"));
            assertEquals((1L << 40) + 3, g.metadata().get("t.u64"));
            assertEquals(-(1L << 40), g.metadata().get("t.i64"));
            assertEquals(-0.1, g.metadata().get("t.f64"));
            assertEquals(true, g.metadata().get("t.bool"));
            assertEquals("héllo ✓", g.metadata().get("t.str"));
            assertArrayEquals(new String[] {"a", "", "ž"}, g.array("t.arr_str", String[].class));
            assertArrayEquals(new int[] {1, -2, 3}, g.array("t.arr_i32", int[].class));
            assertArrayEquals(new float[] {0.5f, -1.5f}, g.array("t.arr_f32", float[].class));
            assertEquals(5, g.tensors().size());
            for (GgufTensor t : g.tensors().values()) {
                String[] shape = Files.readString(dir.resolve(t.name() + ".shape")).trim().split(" ");
                assertArrayEquals(Arrays.stream(shape).mapToLong(Long::parseLong).toArray(), t.ne(), t.name());
                ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(t.name() + ".f32"))).order(ByteOrder.LITTLE_ENDIAN);
                float[] expected = new float[b.remaining() / 4];
                b.asFloatBuffer().get(expected);
                float[] got = t.toFloats();
                assertEquals(expected.length, got.length, t.name());
                for (int i = 0; i < got.length; i++) {
                    int k = i;
                    assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), () -> t.name() + "[" + k + "]: " + expected[k] + " vs " + got[k]);
                }
            }
            assertEquals(GgmlType.Q4_0, g.tensor("q4_0").type());
            assertEquals(GgmlType.Q8_0, g.tensor("q8_0").type());
            assertEquals(GgmlType.BF16, g.tensor("bf16").type());
        }
    }
}
