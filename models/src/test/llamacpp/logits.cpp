// Prints llama.cpp's logits for a token sequence: the oracle of attn4j's decoder tests.
//
//   attn4j-logits MODEL THREADS OUT.bin ID... [+ ID...]
//
// Runs the ids before '+' as one batch (prefill) and writes the last position's logits, then runs
// each id after '+' as its own decode step and appends that step's logits. OUT.bin holds
// little-endian float32 rows of n_vocab values. stderr gets the time of the prefill and the decode
// tokens/s (the same llama_decode calls llama-bench times for text generation). The KV cache is float32 and flash attention is off,
// so nothing is rounded to f16 on the way.
#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static void quiet(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char ** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL THREADS OUT.bin ID... [+ ID...]\n", argv[0]);
        return 2;
    }
    std::vector<llama_token> prompt, steps;
    bool after = false;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "+") == 0) { after = true; continue; }
        (after ? steps : prompt).push_back((llama_token) atoi(argv[i]));
    }
    if (prompt.empty()) { fprintf(stderr, "no prompt ids\n"); return 2; }
    llama_log_set(quiet, nullptr);
    ggml_backend_load_all();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.progress_callback = [](float, void *) { return true; };
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    int threads = atoi(argv[2]);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) (prompt.size() + steps.size() + 16);
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = cp.n_ctx;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE * out = fopen(argv[3], "wb");
    if (!out) { fprintf(stderr, "cannot write %s\n", argv[3]); return 1; }
    auto t0 = std::chrono::steady_clock::now();
    if (llama_decode(ctx, llama_batch_get_one(prompt.data(), (int32_t) prompt.size()))) { fprintf(stderr, "decode failed\n"); return 1; }
    auto t1 = std::chrono::steady_clock::now();
    fwrite(llama_get_logits_ith(ctx, -1), sizeof(float), n_vocab, out);
    double decode_s = 0;
    for (llama_token t : steps) {
        auto s0 = std::chrono::steady_clock::now();
        if (llama_decode(ctx, llama_batch_get_one(&t, 1))) { fprintf(stderr, "decode step failed\n"); return 1; }
        const float * l = llama_get_logits_ith(ctx, -1);
        decode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        fwrite(l, sizeof(float), n_vocab, out);
    }
    double prefill_s = std::chrono::duration<double>(t1 - t0).count();
    fprintf(stderr, "llama.cpp: prompt %zu tokens in %.3f s (%.1f tokens/s); %zu decode steps in %.3f s (%.2f tokens/s); %d threads\n",
            prompt.size(), prefill_s, prompt.size() / prefill_s, steps.size(), decode_s, steps.empty() ? 0.0 : steps.size() / decode_s, threads);
    fclose(out);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
