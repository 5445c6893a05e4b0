package org.attn4j.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.Map;
import org.attn4j.bench.peer.EmbedPeer;

/** ONNX Runtime (CPU provider) running the same ONNX file as attn4j, with a fixed intra-op thread count. */
public final class OnnxRuntimeEmbedPeer implements EmbedPeer {
    @Override
    public String name() { return "onnxruntime"; }

    @Override
    public String version() { return OrtEnvironment.getEnvironment().getVersion(); }

    @Override
    public Prepared prepare(byte[] onnxModel, int[][] ids, int threads) {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = env.createSession(onnxModel, opts);
            int b = ids.length, n = ids[0].length;
            long[][] id = new long[b][n], mask = new long[b][n], type = new long[b][n];
            for (int i = 0; i < b; i++) for (int t = 0; t < n; t++) { id[i][t] = ids[i][t]; mask[i][t] = 1; }
            OnnxTensor tId = OnnxTensor.createTensor(env, id), tMask = OnnxTensor.createTensor(env, mask), tType = OnnxTensor.createTensor(env, type);
            return new Prepared() {
                private float[][][] last;

                @Override
                public void run() {
                    try (OrtSession.Result r = session.run(Map.of("input_ids", tId, "attention_mask", tMask, "token_type_ids", tType))) {
                        last = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                    } catch (OrtException e) {
                        throw new IllegalStateException("onnxruntime run failed", e);
                    }
                }

                @Override
                public float[][][] lastHiddenState() {
                    if (last == null) run();
                    return last;
                }

                @Override
                public void close() {
                    tId.close();
                    tMask.close();
                    tType.close();
                    try {
                        session.close();
                        opts.close();
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
        } catch (OrtException e) {
            throw new IllegalStateException("onnxruntime could not load the model", e);
        }
    }
}
