package org.attn4j.peers;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.attn4j.bench.peer.SdpaGradPeer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Edge;
import org.bytedeco.pytorch.EdgeVector;
import org.bytedeco.pytorch.Node;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * PyTorch's {@code scaled_dot_product_attention} with its autograd backward (libtorch CPU, fp32)
 * through the bytedeco JavaCPP presets: q, k and v are leaves with {@code requires_grad}, the
 * forward records the graph, and {@code torch::autograd::grad(out, {q, k, v}, {dO})} runs the
 * backward and returns the three gradients (nothing accumulates into {@code .grad}, so no zeroing
 * between iterations). Every backward consumes its graph ({@code retain_graph = false}), exactly as
 * a training step does; "backward alone" records a fresh graph with {@link Prepared#forward()}
 * (untimed) before each timed {@link Prepared#backward()}.
 *
 * <p>On the CPU the autograd engine runs the graph on the calling thread, so the thread settings
 * of {@link PyTorchSdpaPeer} apply: OpenBLAS pinned to one thread, {@code at::set_num_threads}
 * on the calling thread before every call.
 *
 * <p>{@link Prepared#backwardKernel()} walks the recorded graph from the output and names the
 * autograd node of the attention op (for the fused CPU kernel
 * {@code ScaledDotProductFlashAttentionForCpuBackward0}; the unfused math fallback would show up as
 * softmax and matmul nodes instead).
 */
public final class PyTorchSdpaGradPeer implements SdpaGradPeer {

    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public String version() {
        return PyTorchSdpaPeer.torchVersion();
    }

    @Override
    public Prepared prepare(float[] q, float[] k, float[] v, float[] dOut, int b, int hq, int hkv, int nq, int nk, int d,
                            int dv, boolean causal, int threads) {
        if (b <= 0 || hq <= 0 || hkv <= 0 || nq <= 0 || nk <= 0 || d <= 0 || dv <= 0 || threads <= 0) {
            throw new IllegalArgumentException("dimensions and threads must be positive");
        }
        if (hq % hkv != 0) {
            throw new IllegalArgumentException("hq (" + hq + ") must be a multiple of hkv (" + hkv + ")");
        }
        PyTorchSdpaPeer.checkLength("q", q, (long) b * hq * nq * d);
        PyTorchSdpaPeer.checkLength("k", k, (long) b * hkv * nk * d);
        PyTorchSdpaPeer.checkLength("v", v, (long) b * hkv * nk * dv);
        PyTorchSdpaPeer.checkLength("dOut", dOut, (long) b * hq * nq * dv);
        PyTorchSdpaPeer.loadNatives();
        PyTorchSdpaPeer.pinBlasThreads();
        PyTorchSdpaPeer.pinTorchThreads(threads);
        return new PreparedGrad(q, k, v, dOut, new long[] {b, hq, nq, d}, new long[] {b, hkv, nk, d},
                new long[] {b, hkv, nk, dv}, new long[] {b, hq, nq, dv}, hq != hkv, causal, 1.0 / Math.sqrt(d), threads);
    }

    private static final class PreparedGrad implements Prepared {
        private final Tensor q;
        private final Tensor k;
        private final Tensor v;
        private final Tensor dOut;
        private final long[] qShape;
        private final long[] kShape;
        private final long[] vShape;
        private final TensorVector inputs;
        private final TensorOptional noMask = new TensorOptional();
        private final DoubleOptional scale;
        private final BoolOptional consumeGraph = new BoolOptional(false);
        private final boolean gqa;
        private final boolean causal;
        private final int threads;
        private Tensor out;
        private TensorVector grads;
        private String kernel;
        private boolean closed;

        PreparedGrad(float[] q, float[] k, float[] v, float[] dOut, long[] qShape, long[] kShape, long[] vShape,
                     long[] oShape, boolean gqa, boolean causal, double scale, int threads) {
            this.q = leaf(q, qShape);
            this.k = leaf(k, kShape);
            this.v = leaf(v, vShape);
            this.dOut = PyTorchSdpaPeer.toTensor(dOut, oShape);
            this.qShape = qShape;
            this.kShape = kShape;
            this.vShape = vShape;
            this.inputs = new TensorVector(this.q, this.k, this.v);
            this.scale = new DoubleOptional(scale);
            this.gqa = gqa;
            this.causal = causal;
            this.threads = threads;
        }

        private static Tensor leaf(float[] data, long[] shape) {
            Tensor t = PyTorchSdpaPeer.toTensor(data, shape);
            t.set_requires_grad(true); // returns t itself (JavaCPP hands back the same object for a returned *this): not closed here
            return t;
        }

        private void open() {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            PyTorchSdpaPeer.pinTorchThreads(threads);
        }

        @Override
        public void forwardBackward() {
            forward();
            backward();
        }

        @Override
        @SuppressWarnings("try") // the mode is a scope guard, used only for its constructor and destructor
        public void forward() {
            open();
            Tensor result;
            try (AutoGradMode gradOn = new AutoGradMode(true)) {
                result = torch.scaled_dot_product_attention(q, k, v, noMask, 0.0, causal, scale, gqa);
            }
            if (out != null) {
                out.close(); // an unused graph: freed with its output
            }
            out = result;
            if (kernel == null) {
                kernel = attentionNode(out);
            }
        }

        @Override
        public void backward() {
            open();
            if (out == null) {
                throw new IllegalStateException("backward() needs a forward() first (each backward consumes its graph)");
            }
            TensorVector result;
            try (TensorVector outputs = new TensorVector(out); TensorVector gradOutputs = new TensorVector(dOut)) {
                // CPU autograd runs on this thread and returns with the gradients computed.
                result = torch.grad(outputs, inputs, gradOutputs, consumeGraph, false, false);
            }
            out.close();
            out = null;
            if (grads != null) {
                grads.close();
            }
            grads = result;
        }

        @Override
        public float[] dq() {
            return gradient(0, qShape);
        }

        @Override
        public float[] dk() {
            return gradient(1, kShape);
        }

        @Override
        public float[] dv() {
            return gradient(2, vShape);
        }

        private float[] gradient(int index, long[] shape) {
            if (grads == null) {
                throw new IllegalStateException("no backward has run");
            }
            long n = shape[0] * shape[1] * shape[2] * shape[3];
            try (Tensor g = grads.get(index); Tensor c = g.contiguous()) {
                if (c.numel() != n) {
                    throw new IllegalStateException("gradient " + index + " has " + c.numel() + " elements, expected " + n);
                }
                float[] r = new float[Math.toIntExact(n)];
                try (FloatPointer p = c.data_ptr_float()) {
                    p.get(r);
                }
                return r;
            }
        }

        @Override
        public String backwardKernel() {
            if (kernel == null) {
                throw new IllegalStateException("no forward has run");
            }
            return kernel;
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
            if (grads != null) {
                grads.close();
                grads = null;
            }
            inputs.close();
            q.close();
            k.close();
            v.close();
            dOut.close();
            noMask.close();
            scale.close();
            consumeGraph.close();
        }
    }

    /**
     * The autograd node of the attention op in the graph that produced {@code out}: a breadth-first
     * walk from {@code out.grad_fn()} to the first node whose name mentions attention, reported
     * with the nodes passed on the way ({@code "A <- B"}); the output's own node when none does.
     */
    static String attentionNode(Tensor out) {
        Node root = out.grad_fn();
        if (root == null || root.isNull()) {
            return "none (the output has no autograd node)";
        }
        record Visit(Node node, String path, int depth) {}
        ArrayDeque<Visit> queue = new ArrayDeque<>();
        List<Node> owned = new ArrayList<>();
        owned.add(root);
        String rootName = name(root);
        queue.add(new Visit(root, rootName, 0));
        String found = null;
        try {
            while (!queue.isEmpty() && found == null) {
                Visit at = queue.poll();
                String name = name(at.node());
                if (name.contains("Attention")) {
                    found = at.path();
                    break;
                }
                if (at.depth() >= 6) {
                    continue;
                }
                try (EdgeVector edges = at.node().next_edges()) {
                    for (long i = 0; i < edges.size(); i++) {
                        try (Edge e = edges.get(i)) {
                            if (!e.is_valid()) {
                                continue;
                            }
                            Node next = e.function();
                            if (next == null || next.isNull()) {
                                continue;
                            }
                            owned.add(next);
                            queue.add(new Visit(next, at.path() + " <- " + name(next), at.depth() + 1));
                        }
                    }
                }
            }
        } finally {
            for (Node n : owned) {
                n.close();
            }
        }
        return found != null ? found : rootName + " (no attention node found: the unfused math path?)";
    }

    private static String name(Node n) {
        try (BytePointer p = n.name()) {
            return p.getString();
        }
    }
}
