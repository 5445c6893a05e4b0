package org.attn4j.peers;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.attn4j.bench.peer.SdpaPeer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * PyTorch's {@code torch.nn.functional.scaled_dot_product_attention} (libtorch CPU, fp32) through the
 * bytedeco JavaCPP presets.
 *
 * <p>The first use loads libtorch: JavaCPP unpacks the natives to {@code ~/.javacpp/cache} (about 450 MB,
 * some seconds). The JVM needs {@code --enable-native-access=ALL-UNNAMED}.
 *
 * <p>Threads: OpenBLAS is pinned to one thread in {@link #prepare} (PyTorch parallelises the attention
 * kernel itself and calls {@code sgemm_} from inside it), and {@code at::set_num_threads(threads)} is
 * applied on the calling thread at the start of every {@link Prepared#run()} (only when it differs),
 * because with libtorch's OpenMP backend the thread count is a setting of the thread that opens the
 * parallel region.
 *
 * <p>GQA ({@code hq != hkv}) uses SDPA's own {@code enable_gqa=true}; K and V are not repeated.
 */
public final class PyTorchSdpaPeer implements SdpaPeer {

    private static volatile String version;

    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public String version() {
        return torchVersion();
    }

    /** The torch version (cached), shared with {@link PyTorchSdpaGradPeer}. */
    static String torchVersion() {
        String v = version;
        if (v == null) {
            v = findVersion();
            version = v;
        }
        return v;
    }

    /** The torch version from {@code at::show_config()} (its {@code TORCH_VERSION=} entry), else the preset version. */
    private static String findVersion() {
        try {
            loadNatives();
            BytePointer config = torch.show_config();
            try {
                Matcher m = Pattern.compile("TORCH_VERSION=([^,\\s]+)").matcher(config.getString());
                if (m.find()) {
                    return m.group(1);
                }
            } finally {
                config.close();
            }
        } catch (RuntimeException | LinkageError e) {
            // fall through to the preset version
        }
        String preset = Tensor.class.getPackage().getImplementationVersion(); // e.g. 2.10.0-1.5.13
        return preset != null ? preset : "unknown";
    }

    private static volatile boolean loaded;

    static void loadNatives() {
        if (!loaded) {
            synchronized (PyTorchSdpaPeer.class) {
                if (!loaded) {
                    Loader.load(torch.class);
                    Loader.load(openblas_nolapack.class);
                    loaded = true;
                }
            }
        }
    }

    /**
     * OpenBLAS single-threaded (a process-wide setting). libtorch's {@code sgemm_} binds to the
     * {@code libopenblas_nolapack} instance JavaCPP loads globally, the one this call pins.
     */
    static void pinBlasThreads() {
        openblas_nolapack.blas_set_num_threads(1);
    }

    /** libtorch intra-op threads; with the OpenMP backend a setting of the calling thread, so set it there. */
    static void pinTorchThreads(int threads) {
        if (torch.get_num_threads() != threads) {
            torch.set_num_threads(threads);
        }
    }

    @Override
    public Prepared prepare(float[] q, float[] k, float[] v, int b, int hq, int hkv, int nq, int nk, int d, int dv,
                            boolean causal, int threads) {
        if (b <= 0 || hq <= 0 || hkv <= 0 || nq <= 0 || nk <= 0 || d <= 0 || dv <= 0 || threads <= 0) {
            throw new IllegalArgumentException("dimensions and threads must be positive");
        }
        if (hq % hkv != 0) {
            throw new IllegalArgumentException("hq (" + hq + ") must be a multiple of hkv (" + hkv + ")");
        }
        checkLength("q", q, (long) b * hq * nq * d);
        checkLength("k", k, (long) b * hkv * nk * d);
        checkLength("v", v, (long) b * hkv * nk * dv);
        loadNatives();
        pinBlasThreads();
        pinTorchThreads(threads);
        return new PreparedSdpa(q, k, v, new long[] {b, hq, nq, d}, new long[] {b, hkv, nk, d},
                new long[] {b, hkv, nk, dv}, (long) b * hq * nq * dv, hq != hkv, causal, 1.0 / Math.sqrt(d), threads);
    }

    static void checkLength(String name, float[] a, long expected) {
        if (a.length != expected) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, expected " + expected);
        }
    }

    /** Copies a Java array into a fresh libtorch-owned, contiguous fp32 tensor of the given shape. */
    static Tensor toTensor(float[] data, long[] shape) {
        try (FloatPointer p = new FloatPointer(data);
             TensorOptions options = new TensorOptions(torch.ScalarType.Float);
             Tensor view = torch.from_blob(p, shape, options)) {
            return view.clone();
        }
    }

    private static final class PreparedSdpa implements Prepared {
        private final Tensor q;
        private final Tensor k;
        private final Tensor v;
        private final TensorOptional noMask = new TensorOptional();
        private final DoubleOptional scale;
        private final boolean gqa;
        private final boolean causal;
        private final int threads;
        private final long outElements;
        private Tensor out;
        private boolean closed;

        PreparedSdpa(float[] q, float[] k, float[] v, long[] qShape, long[] kShape, long[] vShape, long outElements,
                     boolean gqa, boolean causal, double scale, int threads) {
            this.q = toTensor(q, qShape);
            this.k = toTensor(k, kShape);
            this.v = toTensor(v, vShape);
            this.scale = new DoubleOptional(scale);
            this.gqa = gqa;
            this.causal = causal;
            this.threads = threads;
            this.outElements = outElements;
        }

        @Override
        @SuppressWarnings("try") // noGrad is a scope guard, used only for its constructor and destructor
        public void run() {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            pinTorchThreads(threads);
            Tensor result;
            try (NoGradGuard noGrad = new NoGradGuard()) {
                // CPU ops are synchronous: the call returns with the output computed.
                result = torch.scaled_dot_product_attention(q, k, v, noMask, 0.0, causal, scale, gqa);
            }
            if (out != null) {
                out.close();
            }
            out = result;
        }

        @Override
        public float[] output() {
            if (out == null) {
                throw new IllegalStateException("run() has not been called");
            }
            // The CPU kernels may return a strided view (e.g. [B,N,H,D] storage); copy out as [B,H,N,Dv] row-major.
            try (Tensor c = out.contiguous()) {
                if (c.numel() != outElements) {
                    throw new IllegalStateException("output has " + c.numel() + " elements, expected " + outElements);
                }
                float[] r = new float[Math.toIntExact(outElements)];
                try (FloatPointer p = c.data_ptr_float()) {
                    p.get(r);
                }
                return r;
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (out != null) {
                out.close();
                out = null;
            }
            q.close();
            k.close();
            v.close();
            noMask.close();
            scale.close();
        }
    }
}
