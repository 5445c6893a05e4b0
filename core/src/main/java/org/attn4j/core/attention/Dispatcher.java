package org.attn4j.core.attention;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.core.kernel.FlashBackward;
import org.attn4j.core.kernel.FlashKernel;

/**
 * Picks the kernel for a call and records why, like PyTorch's SDPA backend selection: the
 * decision names the kernel chosen and the reason each other kernel was ruled out.
 *
 * <ul>
 *   <li>REFERENCE when probabilities are requested (only it materialises Nq × Nk) or on request.</li>
 *   <li>DECODE (split-KV) when the query blocks alone would leave threads idle
 *       ({@code blocks < 2 × threads}) and there are enough keys to split.</li>
 *   <li>FLASH otherwise.</li>
 * </ul>
 *
 * <p>The backward pass ({@link #chooseBackward}) has two kernels: REFERENCE (float64, the oracle)
 * on request, the tiled FLASH backward otherwise. The tiled backward already splits the keys
 * across threads (key blocks are its outer loop), so a request for DECODE runs it too.
 */
public final class Dispatcher {
    private Dispatcher() {}

    /**
     * @param kernel  the kernel that runs
     * @param splits  key chunks per query block (1 = no split-KV)
     * @param reason  why this kernel
     * @param ruledOut why not the others
     */
    public record Decision(KernelChoice kernel, int splits, String reason, List<String> ruledOut) {
        /** Multi-line explanation for {@code --explain-dispatch}. */
        public String explain() {
            StringBuilder sb = new StringBuilder("kernel: ").append(kernel.name().toLowerCase());
            if (splits > 1) sb.append(" (").append(splits).append(" key splits)");
            sb.append("\n  why: ").append(reason);
            for (String r : ruledOut) sb.append("\n  not ").append(r);
            return sb.toString();
        }
    }

    /** The backward kernel for {@link Attention#backward}, with reasons. */
    public static Decision chooseBackward(AttentionProblem p, int threads) {
        KernelChoice asked = p.spec.kernel();
        List<String> out = new ArrayList<>();
        if (asked == KernelChoice.REFERENCE) {
            out.add("flash: the reference backward was requested");
            return new Decision(KernelChoice.REFERENCE, 1, "requested (float64 oracle: P materialised per row)", out);
        }
        out.add("reference: the float64 oracle, several times slower; used for tests");
        String why = asked == KernelChoice.AUTO ? "" : asked == KernelChoice.FLASH ? "requested; "
                : "decode was requested, and the tiled backward splits the keys across threads already; ";
        int units = FlashBackward.keyBlocks(p) * p.batch * p.kvHeads;
        return new Decision(KernelChoice.FLASH, 1, why + units + " key blocks of " + FlashBackward.BLOCK_KEYS + " keys (dK, dV per block) over "
                + Math.min(threads, Math.max(1, units)) + " thread(s), query tiles of " + FlashBackward.TILE_ROWS
                + " rows recomputing P from the saved lse; dQ summed from per-thread partials", out);
    }

    /**
     * The forward kernel for {@code p} on {@code threads} threads (already resolved: &gt;= 1, not 0).
     * Pure: it looks only at the shapes and the spec, runs nothing and may be called to explain a
     * call before making it ({@link Attention#explain}). The spec's {@code kernel} is honoured when it
     * is not AUTO; AUTO never picks REFERENCE unless probabilities are requested.
     *
     * @throws IllegalArgumentException if FLASH or DECODE is requested together with probabilities
     */
    public static Decision choose(AttentionProblem p, int threads) {
        KernelChoice asked = p.spec.kernel();
        int blocks = FlashKernel.blocksPerHead(p) * p.batch * p.kvHeads;
        int tiles = (p.localKeys + FlashKernel.TILE_KEYS - 1) / FlashKernel.TILE_KEYS;
        int splits = Math.max(2, Math.min(tiles, (2 * threads + blocks - 1) / Math.max(1, blocks)));
        List<String> out = new ArrayList<>();
        if (p.spec.returnProbs()) {
            if (asked == KernelChoice.FLASH || asked == KernelChoice.DECODE) {
                throw new IllegalArgumentException("kernel: " + asked + " cannot return probabilities; only REFERENCE materialises the "
                        + "Nq x Nk matrix (use kernel AUTO or REFERENCE with returnProbs)");
            }
            out.add("flash: it never materialises the probabilities that were requested");
            out.add("decode: it never materialises the probabilities that were requested");
            return new Decision(KernelChoice.REFERENCE, 1, "probabilities requested: only the reference kernel materialises Nq x Nk", out);
        }
        switch (asked) {
            case REFERENCE -> {
                out.add("flash/decode: the reference kernel was requested");
                return new Decision(KernelChoice.REFERENCE, 1, "requested (float64 oracle)", out);
            }
            case FLASH -> {
                out.add("reference/decode: the flash kernel was requested");
                return new Decision(KernelChoice.FLASH, 1, "requested", out);
            }
            case DECODE -> {
                out.add("reference/flash: the decode kernel was requested");
                return new Decision(KernelChoice.DECODE, Math.max(1, Math.min(splits, tiles)), "requested", out);
            }
            default -> { }
        }
        out.add("reference: the float64 oracle, several times slower; used for tests or when probabilities are requested");
        if (blocks < 2 * threads && tiles >= 2) {
            out.add("flash: only " + blocks + " query block(s) for " + threads + " thread(s): threads would idle");
            return new Decision(KernelChoice.DECODE, splits, blocks + " query block(s) < 2 x " + threads + " threads and "
                    + p.localKeys + " keys: split each block's keys " + splits + " ways and merge the partials", out);
        }
        if (blocks < 2 * threads) {
            out.add("decode: only " + tiles + " key tile(s), nothing to split");
        } else {
            out.add("decode: " + blocks + " query blocks already keep " + threads + " thread(s) busy");
        }
        return new Decision(KernelChoice.FLASH, 1, blocks + " query blocks of " + FlashKernel.BLOCK_ROWS + " rows over "
                + threads + " thread(s), key tiles of " + FlashKernel.TILE_KEYS, out);
    }
}
