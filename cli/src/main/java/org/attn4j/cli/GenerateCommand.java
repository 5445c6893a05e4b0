package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.decoder.DecoderFiles;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.KvBlockPool;
import org.attn4j.models.decoder.KvCache;
import org.attn4j.models.decoder.KvPolicy;
import org.attn4j.models.decoder.Sampler;
import org.attn4j.models.gguf.GgufFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j generate}: text continuation with a decoder model from a GGUF file. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continues PROMPT with a decoder model (Llama 2/3, Mistral, SmolLM2, Qwen2, Qwen3, GPT-2) from a .gguf file.",
                "Prints the generated text on stdout and a tokens/s summary on stderr."})
final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "a .gguf file (F32, F16, BF16, Q8_0, Q4_0 weights) or a Hugging Face directory (config.json, model.safetensors, tokenizer.json)") Path model;
    @Parameters(index = "0", paramLabel = "PROMPT", description = "the text to continue") String prompt;
    @Option(names = "--max-tokens", paramLabel = "N", description = "tokens to generate (default 64; 0 with --logits when not given)") Integer maxTokens;
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "sampling temperature; 0 = greedy (default ${DEFAULT-VALUE})") float temperature;
    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "sample among the K most likely tokens; 0 = all (default ${DEFAULT-VALUE})") int topK;
    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "then among the smallest set with probability >= P (default ${DEFAULT-VALUE})") float topP;
    @Option(names = "--seed", paramLabel = "S", description = "random seed (default: from the clock)") Long seed;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "worker threads; 0 = all processors (default)") int threads;
    @Option(names = "--kv-policy", paramLabel = "NAME", defaultValue = "full",
            description = "KV cache policy: full, window (the last TOKENS keys), sinks (4 attention sinks + recent keys, StreamingLLM), h2o (heavy hitters + TOKENS/2 recent keys), shared-attention[:G] (layers in groups of G, default 2, reuse the first layer's attention weights; no budget), mla (the latent cache of a model with Multi-head Latent Attention, DeepSeek-V2; such a model caches latents under every policy) (default ${DEFAULT-VALUE})") String kvPolicy;
    @Option(names = "--kv-budget", paramLabel = "TOKENS", description = "keys a query attends to under window/sinks (required with them)") Integer kvBudget;
    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1",
            description = "generate N continuations at once (seeds S..S+N-1), decoded together in one batch per step; prints one line per continuation (default ${DEFAULT-VALUE})") int parallel;
    @Option(names = "--stream", description = "print each token as it is generated") boolean stream;
    @Option(names = "--logits", paramLabel = "OUT.npy", description = "write the prompt's last-position logits [vocab] as float32 .npy") Path logitsOut;

    @Override
    public Integer call() throws IOException {
        int max = maxTokens != null ? maxTokens : logitsOut != null ? 0 : 64;
        if (max < 0) throw new IllegalArgumentException("--max-tokens: expected >= 0, got " + max);
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 0 (0 = all processors), got " + threads);
        Sampler sampler;
        try {
            sampler = new Sampler(temperature, topK, topP, seed != null ? seed : System.nanoTime());
        } catch (IllegalArgumentException e) {
            // The sampler names its parameters; the command line spells them as options.
            throw new IllegalArgumentException("--" + e.getMessage().replace("topK:", "top-k:").replace("topP:", "top-p:"), e);
        }
        KvPolicy policy;
        try {
            policy = KvPolicy.of(kvPolicy, kvBudget == null ? Integer.MAX_VALUE : kvBudget);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage().replace("kv policy:", "kv-policy:").replace("kv budget:", "kv-budget:")
                    .replace("group:", "kv-policy: shared-attention group:"), e);
        }
        if (kvBudget == null && !(policy instanceof KvPolicy.Full || policy instanceof KvPolicy.SharedAttention || policy instanceof KvPolicy.Latent)) {
            throw new IllegalArgumentException("--kv-budget: required with --kv-policy " + kvPolicy);
        }
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        DecoderFiles.Loaded loaded;
        try {
            loaded = DecoderFiles.load(model);
        } catch (GgufFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e); // a bad file is a usage error: exit 2, one line naming it
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--model: " + model + " does not exist", e);
        }
        DecoderModel m = loaded.model().threads(threads);
        try {
            new KvCache(m.config(), 1, policy); // the model's answer to the policy (mla without latent layers), before any work
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("kv-policy") ? "--" + e.getMessage() : e.getMessage(), e);
        }
        int[] ids = loaded.tokenizer().encode(prompt, true);
        if (loaded.addBos()) {
            int[] b = new int[ids.length + 1];
            b[0] = loaded.bos();
            System.arraycopy(ids, 0, b, 1, ids.length);
            ids = b;
        }
        if (ids.length == 0) throw new IllegalArgumentException("PROMPT: expected text that gives at least one token, got an empty prompt");
        int capacity = ids.length + Math.max(max, 1);
        if (policy.budget() == Integer.MAX_VALUE && capacity > m.config().contextLength()) {
            throw new IllegalArgumentException("--max-tokens: the prompt's " + ids.length + " tokens plus " + max + " exceed the model's context of "
                    + m.config().contextLength() + " tokens");
        }
        if (parallel < 1) throw new IllegalArgumentException("--parallel: expected >= 1, got " + parallel);
        if (parallel > 1) {
            if (stream) throw new IllegalArgumentException("--stream: not available with --parallel " + parallel);
            return parallel(loaded, m, ids, max, capacity, policy, seed != null ? seed : System.nanoTime(), out, err, t0, System.nanoTime());
        }
        KvCache cache = new KvCache(m.config(), capacity, policy);
        long t1 = System.nanoTime();
        float[] logits = m.forward(cache, ids, false);
        long t2 = System.nanoTime();
        if (logitsOut != null) {
            float[] copy = logits.clone();
            AtomicFiles.write(logitsOut, os -> Npy.write(os, Tensor.of(copy, copy.length)));
        }
        int[] generated = new int[max];
        int n = 0, printed = 0;
        String text = "";
        while (n < max) {
            int next = sampler.sample(logits);
            if (next == loaded.eos()) break;
            generated[n++] = next;
            if (stream) {
                text = loaded.tokenizer().decode(Arrays.copyOf(generated, n));
                // Hold back a partial UTF-8 character (decoded as U+FFFD) until its last byte arrives.
                int upTo = text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
                if (upTo > printed) {
                    out.print(text.substring(printed, upTo));
                    out.flush();
                    printed = upTo;
                }
            }
            if (n < max) logits = m.forward(cache, new int[] {next}, false);
        }
        long t3 = System.nanoTime();
        text = loaded.tokenizer().decode(Arrays.copyOf(generated, n));
        if (!stream) out.print(text);
        else if (text.length() > printed) out.print(text.substring(printed));
        if (max > 0) out.println();
        out.flush();
        double prefill = (t2 - t1) / 1e9, decode = (t3 - t2) / 1e9;
        int steps = Math.max(0, n - 1);
        double perSecond = steps == 0 ? 0.0 : steps / decode;
        long bytes = m.weights().bytes();
        // A decode step reads every weight once: bytes x steps/s is the memory bandwidth it achieved.
        err.println(String.format(Locale.ROOT, "load %.2f s; prompt %d tokens in %.3f s (%.1f tokens/s); generated %d tokens, %d decode steps in %.3f s "
                        + "(%.2f tokens/s, weights %.0f MB -> %.2f GB/s); %d threads",
                (t1 - t0) / 1e9, ids.length, prefill, ids.length / prefill, n, steps, decode, perSecond, bytes / 1e6, bytes * perSecond / 1e9, m.threads()));
        err.flush();
        return 0;
    }

    /** Positions per block of the paged KV cache that {@code --parallel} uses. */
    static final int KV_BLOCK = 16;

    /** {@code --parallel N}: N sequences prefilled one by one, then decoded together, one batched step per token. */
    private int parallel(DecoderFiles.Loaded loaded, DecoderModel m, int[] ids, int max, int capacity, KvPolicy policy, long seed,
                         PrintWriter out, PrintWriter err, long t0, long t1) {
        int n = parallel;
        KvCache[] caches = new KvCache[n];
        Sampler[] samplers = new Sampler[n];
        float[][] logits = new float[n][];
        // A paged cache: one pool of 16-position blocks shared by all sequences, sized for every
        // sequence at its largest; a finished sequence gives its blocks back at once.
        int perSequence = Math.min(capacity, policy.budget());
        KvBlockPool pool = new KvBlockPool(m.config(), n * ((perSequence + KV_BLOCK - 1) / KV_BLOCK), KV_BLOCK);
        for (int i = 0; i < n; i++) {
            caches[i] = m.newCache(capacity, policy, pool);
            samplers[i] = new Sampler(temperature, topK, topP, seed + i);
            logits[i] = m.forward(caches[i], ids, false);
        }
        long t2 = System.nanoTime();
        int[][] generated = new int[n][max];
        int[] count = new int[n];
        boolean[] done = new boolean[n];
        int batchedTokens = 0, steps = 0;
        while (true) {
            java.util.List<Integer> live = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (done[i]) continue;
                int next = samplers[i].sample(logits[i]);
                if (next == loaded.eos() || count[i] == max) { done[i] = true; caches[i].release(); continue; }
                generated[i][count[i]++] = next;
                if (count[i] == max) { done[i] = true; caches[i].release(); }
                else live.add(i);
            }
            if (live.isEmpty()) break;
            KvCache[] cs = new KvCache[live.size()];
            int[] toks = new int[live.size()];
            for (int j = 0; j < cs.length; j++) {
                cs[j] = caches[live.get(j)];
                toks[j] = generated[live.get(j)][count[live.get(j)] - 1];
            }
            float[] all = m.step(cs, toks);
            int v = m.config().vocab();
            for (int j = 0; j < cs.length; j++) logits[live.get(j)] = Arrays.copyOfRange(all, j * v, (j + 1) * v);
            batchedTokens += cs.length;
            steps++;
        }
        long t3 = System.nanoTime();
        for (int i = 0; i < n; i++) out.println(loaded.tokenizer().decode(Arrays.copyOf(generated[i], count[i])).replace("\n", "\\n"));
        out.flush();
        double decode = (t3 - t2) / 1e9;
        err.println(String.format(Locale.ROOT, "load %.2f s; %d sequences: prompts of %d tokens in %.3f s; %d batched steps, %d tokens in %.3f s (%.2f tokens/s in all); %d threads; paged KV cache of %d blocks of %d positions, %d free at the end",
                (t1 - t0) / 1e9, n, ids.length, (t2 - t1) / 1e9, steps, batchedTokens, decode, decode == 0 ? 0.0 : batchedTokens / decode, m.threads(),
                pool.blocks(), KV_BLOCK, pool.freeBlocks()));
        err.flush();
        return 0;
    }
}
