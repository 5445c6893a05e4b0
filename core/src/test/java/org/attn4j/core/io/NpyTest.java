package org.attn4j.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- helpers

    private static Path fixture(String name) {
        URL url = NpyTest.class.getResource("/npy/" + name);
        if (url == null) throw new AssertionError("missing fixture " + name + "; run make_fixtures.py");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static float[] specials() {
        return new float[] {Float.NaN, Float.intBitsToFloat(0x7fa00001), -0.0f, 0.0f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL / 3, Float.MAX_VALUE, 1.0f / 3};
    }

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] s = specials();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i < s.length ? s[i] : (float) r.nextGaussian() * 10;
        return v;
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError("element " + i + ": expected " + expected[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected[i]))
                        + ") but got " + actual[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + ")");
            }
        }
    }

    private static boolean[] toArray(BoolTensor t) {
        int[] shape = t.shape();
        boolean[] out = new boolean[(int) t.size()];
        int[] idx = new int[shape.length];
        for (int o = 0; o < out.length; o++) {
            out[o] = t.get(idx);
            for (int a = idx.length - 1; a >= 0; a--) {
                if (++idx[a] < shape[a]) break;
                idx[a] = 0;
            }
        }
        return out;
    }

    /** A .npy file with an arbitrary header text (padded like numpy) and data bytes. */
    private Path craft(String name, int major, String dict, byte[] data) throws IOException {
        byte[] h = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int pre = major == 1 ? 10 : 12;
        int pad = 64 - (pre + h.length + 1) % 64;
        int hlen = h.length + pad + 1;
        ByteBuffer b = ByteBuffer.allocate(pre + hlen + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) hlen);
        else b.putInt(hlen);
        b.put(h).put(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII)).put((byte) '\n').put(data);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static byte[] f4Bytes(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private static NpyFormatException assertBad(Path file, String... fragments) {
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readFloat(file));
        assertMessage(e, file.getFileName().toString());
        assertMessage(e, fragments);
        return e;
    }

    private static void assertMessage(Exception e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain '" + f + "': " + e.getMessage());
        }
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    // ---------------------------------------------------------------- round trips

    @Test
    void roundTripRanks1To4ExactBits() throws IOException {
        int[][] shapes = {{11}, {1}, {3, 5}, {2, 3, 4}, {2, 1, 3, 7}, {1, 1, 1, 1}};
        for (int[] shape : shapes) {
            int n = (int) Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
            float[] v = values(n, n);
            Path p = tmp.resolve("rt" + shape.length + "_" + n + ".npy");
            Npy.write(p, Tensor.of(v.clone(), shape));
            Tensor back = Npy.readFloat(p);
            assertArrayEquals(shape, back.shape(), "shape of " + Arrays.toString(shape));
            assertTrue(back.isContiguous());
            assertBitsEqual(v, back.toArray());
        }
        assertEquals(List.of(), leftovers());
    }

    @Test
    void roundTripScalarAndEmpty() throws IOException {
        Path s = tmp.resolve("scalar.npy");
        Npy.write(s, Tensor.of(new float[] {-0.0f}));
        Tensor back = Npy.readFloat(s);
        assertEquals(0, back.rank());
        assertBitsEqual(new float[] {-0.0f}, back.toArray());

        for (int[] shape : new int[][] {{0}, {0, 3}, {2, 0, 5}, {4, 3, 0}}) {
            Path p = tmp.resolve("empty.npy");
            Npy.write(p, Tensor.zeros(shape));
            Tensor e = Npy.readFloat(p);
            assertArrayEquals(shape, e.shape());
            assertEquals(0, e.size());
            assertEquals(0, Files.size(p) % 64, "an empty array is just the header");
        }
    }

    @Test
    void writesLogicalOrderOfStridedViews() throws IOException {
        float[] data = values(2 * 3 * 4 * 5, 7);
        Tensor permuted = Tensor.of(data, 2, 3, 4, 5).permute(0, 2, 1, 3); // [B,N,H,D] -> [B,H,N,D]
        assertFalse(permuted.isContiguous());
        Path p = tmp.resolve("perm.npy");
        Npy.write(p, permuted);
        Tensor back = Npy.readFloat(p);
        assertArrayEquals(new int[] {2, 4, 3, 5}, back.shape());
        assertBitsEqual(permuted.toArray(), back.toArray());
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 4; h++)
                for (int n = 0; n < 3; n++)
                    for (int d = 0; d < 5; d++)
                        assertEquals(Float.floatToRawIntBits(data[((b * 3 + n) * 4 + h) * 5 + d]),
                                Float.floatToRawIntBits(back.get(b, h, n, d)));

        // Offset + step-2 view and a broadcast (stride 0) view.
        float[] base = values(40, 3);
        Tensor stepped = Tensor.view(base, 3, new int[] {3, 4}, new int[] {10, 2});
        Npy.write(p, stepped);
        assertBitsEqual(stepped.toArray(), Npy.readFloat(p).toArray());
        Tensor broadcast = Tensor.view(base, 1, new int[] {3, 4}, new int[] {0, 1});
        Npy.write(p, broadcast);
        assertBitsEqual(broadcast.toArray(), Npy.readFloat(p).toArray());
        // Contiguous view with an offset.
        Tensor offset = Tensor.view(base, 5, new int[] {2, 3}, new int[] {3, 1});
        assertTrue(offset.isContiguous());
        Npy.write(p, offset);
        assertBitsEqual(offset.toArray(), Npy.readFloat(p).toArray());
    }

    @Test
    void roundTripBool() throws IOException {
        boolean[] m = new boolean[2 * 3 * 4];
        for (int i = 0; i < m.length; i++) m[i] = (i * 5) % 3 == 1;
        Path p = tmp.resolve("mask.npy");
        BoolTensor t = BoolTensor.of(m, 2, 3, 4);
        Npy.write(p, t);
        BoolTensor back = Npy.readBool(p);
        assertArrayEquals(new int[] {2, 3, 4}, back.shape());
        assertArrayEquals(m, back.data());

        BoolTensor perm = t.permute(2, 0, 1);
        Npy.write(p, perm);
        back = Npy.readBool(p);
        assertArrayEquals(new int[] {4, 2, 3}, back.shape());
        assertArrayEquals(toArray(perm), back.data());
    }

    @Test
    void roundTripLargeFileAcrossChunks() throws IOException {
        int n = 4 * 1024 * 1024 + 3; // just over 16 MiB of float32, several 1 MiB chunks
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Float.intBitsToFloat(i * 0x9E3779B1);
        Path p = tmp.resolve("big.npy");
        Npy.write(p, Tensor.of(v, n));
        assertBitsEqual(v, Npy.readFloat(p).toArray());

        // A strided (transposed) view large enough to span several chunks.
        Tensor t = Tensor.of(Arrays.copyOf(v, 1024 * 1536), 1024, 1536).permute(1, 0);
        Npy.write(p, t);
        Tensor back = Npy.readFloat(p);
        assertArrayEquals(new int[] {1536, 1024}, back.shape());
        assertBitsEqual(t.toArray(), back.toArray());
    }

    @Test
    void readsFloat64AcrossChunksAsFloat32() throws IOException {
        int n = 300_000; // 2.4 MB of f8
        ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putDouble(Math.sin(i) * 1e3 + 1e-9 * i);
        Path p = craft("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (" + n + ",), }", b.array());
        float[] got = Npy.readFloat(p).toArray();
        for (int i = 0; i < n; i++) assertEquals((float) (Math.sin(i) * 1e3 + 1e-9 * i), got[i], 0.0f, "element " + i);
    }

    @Test
    void streamRoundTripReadsExactlyOneArray() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        float[] a = values(6, 1);
        Npy.write(out, Tensor.of(a.clone(), 2, 3));
        Npy.write(out, BoolTensor.of(new boolean[] {true, false, true}, 3));
        out.write(new byte[] {42});
        InputStream in = new ByteArrayInputStream(out.toByteArray());
        assertBitsEqual(a, Npy.readFloat(in, "two arrays").toArray());
        assertArrayEquals(new boolean[] {true, false, true}, Npy.readBool(in).data());
        assertEquals(42, in.read(), "the stream reader must stop right after the data");

        byte[] cut = Arrays.copyOf(out.toByteArray(), 128 + 20);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readFloat(new ByteArrayInputStream(cut), "cut-stream"));
        assertMessage(e, "cut-stream", "truncated data", "24 bytes", "after 20");
    }

    // ---------------------------------------------------------------- numpy fixtures

    @Test
    void readsNumpyFloat32() throws IOException {
        Tensor t = Npy.readFloat(fixture("f4_2x3.npy"));
        assertArrayEquals(new int[] {2, 3}, t.shape());
        float[] expected = new float[6];
        for (int i = 0; i < 6; i++) expected[i] = i * 0.5f - 1f;
        assertBitsEqual(expected, t.toArray());
        assertEquals(0.5f, t.get(1, 0)); // i = 3
    }

    @Test
    void readsNumpyFloat64AsFloat32() throws IOException {
        Tensor t = Npy.readFloat(fixture("f8_2x2x3.npy"));
        assertArrayEquals(new int[] {2, 2, 3}, t.shape());
        float[] expected = new float[12];
        for (int i = 0; i < 12; i++) expected[i] = (float) (i / 3.0 - 1.0);
        assertBitsEqual(expected, t.toArray());
    }

    @Test
    void readsNumpySpecialValuesScalarAndEmpty() throws IOException {
        assertBitsEqual(new float[] {Float.NaN, -0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE},
                Npy.readFloat(fixture("f4_special.npy")).toArray());
        Tensor s = Npy.readFloat(fixture("f4_scalar.npy"));
        assertEquals(0, s.rank());
        assertEquals(2.5f, s.get());
        Tensor e = Npy.readFloat(fixture("f4_empty.npy"));
        assertArrayEquals(new int[] {0, 3}, e.shape());
    }

    @Test
    void readsNumpyMasks() throws IOException {
        BoolTensor b = Npy.readBool(fixture("bool_3x4.npy"));
        assertArrayEquals(new int[] {3, 4}, b.shape());
        boolean[] eb = new boolean[12];
        for (int i = 0; i < 12; i++) eb[i] = i % 3 == 0;
        assertArrayEquals(eb, b.data());

        BoolTensor u = Npy.readBool(fixture("u1_2x5.npy"));
        assertArrayEquals(new int[] {2, 5}, u.shape());
        boolean[] eu = new boolean[10];
        for (int i = 0; i < 10; i++) eu[i] = (i * 7) % 4 != 0;
        assertArrayEquals(eu, u.data());
    }

    @Test
    void readsNumpyVersions2And3() throws IOException {
        Npy.Header h2 = Npy.readHeader(fixture("v2_f4.npy"));
        assertEquals(2, h2.majorVersion());
        Tensor v2 = Npy.readFloat(fixture("v2_f4.npy"));
        assertArrayEquals(new int[] {4}, v2.shape());
        assertBitsEqual(new float[] {0.25f, 1.25f, 2.25f, 3.25f}, v2.toArray());

        assertEquals(3, Npy.readHeader(fixture("v3_f4.npy")).majorVersion());
        Tensor v3 = Npy.readFloat(fixture("v3_f4.npy"));
        assertArrayEquals(new int[] {2, 2}, v3.shape());
        float[] e3 = new float[4];
        for (int i = 0; i < 4; i++) e3[i] = -(float) i;
        assertBitsEqual(e3, v3.toArray());
    }

    @Test
    void readsNumpyInts() throws IOException {
        int[] e8 = new int[5];
        for (int i = 0; i < 5; i++) e8[i] = 3 * i + 1;
        assertArrayEquals(e8, Npy.readInts(fixture("i8_5.npy")));
        int[] e4 = new int[4];
        for (int i = 0; i < 4; i++) e4[i] = 100 - i;
        assertArrayEquals(e4, Npy.readInts(fixture("i4_4.npy")));
    }

    @Test
    void rejectsNumpyFortranAndBigEndian() {
        Path f = fixture("fortran_f4.npy");
        assertBad(f, "fortran_order", "C-order");
        Path be = fixture("be_f4.npy");
        assertBad(be, "big-endian", "'>f4'");
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readFloat(fixture("i2_3.npy")));
        assertMessage(e, "i2_3.npy", "unsupported dtype '<i2'", "'<f4'", "'<f8'");
        e = assertThrows(NpyFormatException.class, () -> Npy.readBool(fixture("f4_2x3.npy")));
        assertMessage(e, "f4_2x3.npy", "unsupported dtype '<f4'", "'|b1'", "'|u1'");
        e = assertThrows(NpyFormatException.class, () -> Npy.readInts(fixture("f4_2x3.npy")));
        assertMessage(e, "unsupported dtype '<f4'", "'<i4'", "'<i8'");
    }

    // ---------------------------------------------------------------- what numpy will read back

    @Test
    void writesTheSameBytesAsNumpy() throws IOException {
        float[] f = new float[6];
        for (int i = 0; i < 6; i++) f[i] = i * 0.5f - 1f;
        Path p = tmp.resolve("f.npy");
        Npy.write(p, Tensor.of(f, 2, 3));
        assertArrayEquals(Files.readAllBytes(fixture("f4_2x3.npy")), Files.readAllBytes(p));

        Npy.write(p, Tensor.of(new float[] {Float.NaN, -0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE}, 5));
        assertArrayEquals(Files.readAllBytes(fixture("f4_special.npy")), Files.readAllBytes(p));

        Npy.write(p, Tensor.of(new float[] {2.5f}));
        assertArrayEquals(Files.readAllBytes(fixture("f4_scalar.npy")), Files.readAllBytes(p));

        Npy.write(p, Tensor.zeros(0, 3));
        assertArrayEquals(Files.readAllBytes(fixture("f4_empty.npy")), Files.readAllBytes(p));

        boolean[] m = new boolean[12];
        for (int i = 0; i < 12; i++) m[i] = i % 3 == 0;
        Npy.write(p, BoolTensor.of(m, 3, 4));
        assertArrayEquals(Files.readAllBytes(fixture("bool_3x4.npy")), Files.readAllBytes(p));
    }

    @Test
    void headerBytesFollowTheFormat() throws IOException {
        Path p = tmp.resolve("h.npy");
        Npy.write(p, Tensor.zeros(2, 3, 4));
        byte[] b = Files.readAllBytes(p);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(b, 8));
        int hlen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + hlen) % 64, "data must start at a multiple of 64");
        assertEquals(10 + hlen + 24 * 4, b.length);
        String header = new String(b, 10, hlen, StandardCharsets.ISO_8859_1);
        assertTrue(header.endsWith("\n"));
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"), header);
        assertEquals("", header.substring(header.indexOf('}') + 1, header.length() - 1).strip());

        Npy.write(p, Tensor.zeros(7));
        b = Files.readAllBytes(p);
        hlen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertTrue(new String(b, 10, hlen, StandardCharsets.ISO_8859_1).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"));

        Npy.write(p, BoolTensor.of(new boolean[] {true}, 1, 1));
        b = Files.readAllBytes(p);
        hlen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertTrue(new String(b, 10, hlen, StandardCharsets.ISO_8859_1).startsWith("{'descr': '|b1', 'fortran_order': False, 'shape': (1, 1), }"));
        assertEquals(1, b[b.length - 1]);
    }

    @Test
    void hugeHeaderUsesVersion2() throws IOException {
        int[] shape = new int[23_000]; // "1, " per dim: the header exceeds 65535 bytes
        Arrays.fill(shape, 1);
        Path p = tmp.resolve("v2.npy");
        Npy.write(p, Tensor.of(new float[] {Float.MIN_VALUE}, shape));
        byte[] b = Files.readAllBytes(p);
        assertEquals(2, b[6]);
        assertEquals(0, b[7]);
        long hlen = ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        assertTrue(hlen > 65535);
        assertEquals(0, (12 + hlen) % 64);
        Tensor back = Npy.readFloat(p);
        assertArrayEquals(shape, back.shape());
        assertBitsEqual(new float[] {Float.MIN_VALUE}, back.toArray());
    }

    // ---------------------------------------------------------------- header parsing

    @Test
    void parsesHeaderVariants() {
        Npy.Header h = NpyHeader.parse("{ \"shape\" : ( 3 , ) ,'fortran_order':False,'descr':'<f4'}\n", "x", 1, 0, 64);
        assertArrayEquals(new int[] {3}, h.shape());
        assertEquals("<f4", h.descr());
        assertFalse(h.fortranOrder());
        assertArrayEquals(new int[] {}, NpyHeader.parse("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "x", 1, 0, 64).shape());
        assertArrayEquals(new int[] {2, 3}, NpyHeader.parse("{'descr':'<f4','fortran_order':True,'shape':(2L, 3L)}   ", "x", 1, 0, 64).shape());
        assertTrue(NpyHeader.parse("{'descr':'<f4','fortran_order':True,'shape':(1,2,),'extra':[1,(2,),None]}", "x", 1, 0, 64).fortranOrder());

        String[][] bad = {
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", "'shape' must be a tuple"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", "'shape' must hold ints"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", "only integers"},
            {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "'fortran_order' must be True or False"},
            {"{'descr': '<f4', 'fortran_order': False, }", "no 'shape' key"},
            {"{'fortran_order': False, 'shape': (2,), }", "no 'descr' key"},
            {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", "unparsable header dict"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", "unparsable header dict"},
            {"{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,), }", "unknown name 'Nope'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "unparsable header dict"},
            {"['descr', '<f4']", "not a dict"},
            {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured dtypes"},
        };
        for (String[] c : bad) {
            NpyFormatException e = assertThrows(NpyFormatException.class, () -> NpyHeader.parse(c[0], "hdr.npy", 1, 0, 64), c[0]);
            assertMessage(e, "hdr.npy", c[1]);
        }
    }

    // ---------------------------------------------------------------- malformed files

    @Test
    void rejectsTruncatedData() throws IOException {
        Path full = tmp.resolve("full.npy");
        Npy.write(full, Tensor.of(values(6, 2), 2, 3));
        byte[] b = Files.readAllBytes(full);
        Path cut = tmp.resolve("cut.npy");
        Files.write(cut, Arrays.copyOf(b, b.length - 5));
        assertBad(cut, "cut.npy", "truncated data", "needs 24 bytes", "only 19");
        Files.write(cut, Arrays.copyOf(b, 40));
        assertBad(cut, "truncated header");
        Files.write(cut, Arrays.copyOf(b, 9));
        assertBad(cut, "truncated header", "only 9 bytes");
        Files.write(cut, Arrays.copyOf(b, 4));
        assertBad(cut, "bad magic"); // too short to hold the magic string
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        Path p = craft("trail.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4Bytes(1, 2, 3));
        assertBad(p, "data size mismatch", "needs 8 bytes", "has 12", "trailing");
    }

    @Test
    void rejectsBadMagicAndVersion() throws IOException {
        Path p = tmp.resolve("magic.npy");
        Files.write(p, "PK\u0003\u0004 this is a zip".getBytes(StandardCharsets.ISO_8859_1));
        assertBad(p, "bad magic", "\\x93NUMPY");
        Files.write(tmp.resolve("empty.npy"), new byte[0]);
        assertBad(tmp.resolve("empty.npy"), "bad magic", "empty file");

        Path v = craft("v4.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4Bytes(1));
        byte[] b = Files.readAllBytes(v);
        b[6] = 4;
        Files.write(v, b);
        assertBad(v, "unsupported .npy format version 4.0", "1.0, 2.0, 3.0");
        b[6] = 1;
        b[7] = 1;
        Files.write(v, b);
        assertBad(v, "version 1.1");
    }

    @Test
    void rejectsUnknownDtypeFortranAndBigEndian() throws IOException {
        assertBad(craft("c8.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]),
                "unsupported dtype '<c8'", "supported: '<f4', '<f8'");
        assertBad(craft("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4Bytes(1, 2, 3, 4)),
                "fortran_order is True");
        assertBad(craft("be.npy", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", new byte[8]),
                "big-endian dtype '>f8'");
        assertBad(craft("nohdr.npy", 1, "{'descr': '<f4', 'shape': (1,), }", f4Bytes(1)), "no 'fortran_order' key");
        assertBad(craft("garbage.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", f4Bytes(1)), "unparsable header dict");
        // Version 3.0 headers are UTF-8; other keys are ignored.
        Path utf = craft("utf.npy", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'note': 'h\u00e9llo \u2713', }", f4Bytes(7));
        assertEquals(7f, Npy.readFloat(utf).get(0));
    }

    @Test
    void rejectsIntsOutOfRangeOrNot1D() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putLong(1L << 40);
        Path p = craft("big_i8.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", b.array());
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readInts(p));
        assertMessage(e, "big_i8.npy", "1099511627776", "index 1");
        Path two = craft("i4_2d.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", new byte[8]);
        e = assertThrows(NpyFormatException.class, () -> Npy.readInts(two));
        assertMessage(e, "i4_2d.npy", "1-D", "(1, 2)");
    }

    // ---------------------------------------------------------------- atomic writes

    @Test
    void writeIntoMissingDirectoryFailsCleanly() {
        Path missing = tmp.resolve("no").resolve("such").resolve("x.npy");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Npy.write(missing, Tensor.zeros(2)));
        assertMessage(e, "x.npy", "does not exist");
        assertFalse(Files.exists(tmp.resolve("no")));
    }

    @Test
    void writeOntoDirectoryFailsAndKeepsIt() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("target.npy"));
        Files.writeString(dir.resolve("keep.txt"), "keep");
        IOException e = assertThrows(IOException.class, () -> Npy.write(dir, Tensor.zeros(2)));
        assertMessage(e, "target.npy", "directory");
        assertTrue(Files.isDirectory(dir));
        assertEquals("keep", Files.readString(dir.resolve("keep.txt")));
        Path empty = Files.createDirectory(tmp.resolve("empty.npy"));
        assertMessage(assertThrows(IOException.class, () -> Npy.write(empty, BoolTensor.of(new boolean[] {true}, 1))), "empty.npy", "directory");
        assertTrue(Files.isDirectory(empty));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void failedWriteKeepsTheExistingFile() throws IOException {
        Path p = tmp.resolve("keep.npy");
        Npy.write(p, Tensor.of(new float[] {1, 2, 3}, 3));
        byte[] before = Files.readAllBytes(p);
        IOException boom = new IOException("disk full (simulated)");
        IOException e = assertThrows(IOException.class, () -> NpyWriter.writeAtomically(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[1000]));
            throw boom;
        }));
        assertEquals(boom, e);
        RuntimeException r = assertThrows(RuntimeException.class, () -> NpyWriter.writeAtomically(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[10]));
            throw new IllegalStateException("bug");
        }));
        assertEquals("bug", r.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of(), leftovers());
        assertBitsEqual(new float[] {1, 2, 3}, Npy.readFloat(p).toArray());

        Npy.write(p, Tensor.of(new float[] {4, 5}, 2)); // a successful write replaces it
        assertBitsEqual(new float[] {4, 5}, Npy.readFloat(p).toArray());
        assertEquals(List.of(), leftovers());
    }
}
