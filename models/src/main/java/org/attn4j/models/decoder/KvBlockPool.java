package org.attn4j.models.decoder;

/**
 * A shared pool of fixed-size KV blocks for paged caches (vLLM-style paging): every block holds
 * {@code blockSize} token positions of keys and values for all layers and key/value heads. A
 * {@link KvCache} built on the pool keeps a block table (slot {@code s} lives in block
 * {@code table[s / blockSize]} at row {@code s % blockSize}), takes blocks as it grows and gives them
 * back when it shrinks (eviction, {@link KvCache#truncate}, {@link KvCache#clear}) or leaves
 * ({@link KvCache#release}), so other sequences reuse them.
 *
 * <p>Layout per layer: {@code [kvHeads, blocks, blockSize, headDim]}, so blocks with consecutive
 * indices form one strided run per head, which the decoder attends over as one partial.
 *
 * <p>Exhaustion does not wait: taking a block when none is free throws {@link IllegalStateException}
 * naming the pool size and the blocks in use; the caller decides whether to retire a sequence.
 */
public final class KvBlockPool {
    private final int layers, kvHeads, headDim, blocks, blockSize;
    final float[][] k, v;
    /** Free block indices, a stack (lowest index on top at the start). */
    private final int[] free;
    private int freeCount;

    /** A pool of {@code blocks} blocks of {@code blockSize} positions for a model of {@code c}'s shape. */
    public KvBlockPool(DecoderConfig c, int blocks, int blockSize) {
        if (c == null) throw new IllegalArgumentException("config: expected a DecoderConfig, got null");
        if (blocks < 1) throw new IllegalArgumentException("blocks: expected >= 1, got " + blocks);
        if (blockSize < 1) throw new IllegalArgumentException("blockSize: expected >= 1 positions, got " + blockSize);
        long perLayer = (long) c.kvHeads() * blocks * blockSize * c.headDim();
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("blocks: " + blocks + " blocks of " + blockSize + " positions need " + perLayer + " floats per layer, more than one array holds");
        }
        this.layers = c.layers();
        this.kvHeads = c.kvHeads();
        this.headDim = c.headDim();
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.k = new float[layers][(int) perLayer];
        this.v = new float[layers][(int) perLayer];
        this.free = new int[blocks];
        for (int i = 0; i < blocks; i++) free[i] = blocks - 1 - i;
        this.freeCount = blocks;
    }

    /** Positions per block. */
    public int blockSize() { return blockSize; }

    /** Blocks in the pool. */
    public int blocks() { return blocks; }

    /** Blocks not held by any cache. */
    public synchronized int freeBlocks() { return freeCount; }

    int kvHeads() { return kvHeads; }
    int headDim() { return headDim; }
    int layers() { return layers; }

    /** Takes a free block; throws IllegalStateException when the pool is exhausted. */
    synchronized int take() {
        if (freeCount == 0) {
            throw new IllegalStateException("KV block pool exhausted: all " + blocks + " blocks of " + blockSize
                    + " positions are in use; release a sequence's cache or build a larger pool");
        }
        return free[--freeCount];
    }

    /** Returns {@code block} to the pool. */
    synchronized void give(int block) {
        if (block < 0 || block >= blocks) throw new IllegalStateException("block: expected 0.." + (blocks - 1) + ", got " + block);
        if (freeCount == blocks) throw new IllegalStateException("block " + block + ": returned to a pool whose blocks are all free");
        free[freeCount++] = block;
    }

    /** Offset in a layer array of row {@code row} of {@code block} for key/value head {@code h}. */
    int offset(int h, int block, int row) { return ((h * blocks + block) * blockSize + row) * headDim; }
}
