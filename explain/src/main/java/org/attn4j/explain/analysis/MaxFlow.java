package org.attn4j.explain.analysis;

import java.util.Arrays;

/**
 * Maximum s–t flow on a directed graph with {@code double} capacities, by Dinic's algorithm
 * (BFS level graph, then a blocking flow by DFS with current-arc pointers, repeated until the sink is
 * unreachable). Residual capacities at or below {@link #EPSILON} count as saturated.
 *
 * <p>Build once with {@link Builder}; each {@link #maxFlow(int, int)} starts from zero flow, so one
 * instance answers many (source, sink) queries. An instance is not thread-safe; {@link #copy()} gives
 * an independent one sharing the (immutable) graph structure.
 */
public final class MaxFlow {

    /** Residual capacities at or below this count as zero. */
    public static final double EPSILON = 1e-12;

    private final int nodes;
    // Edge 2k is the k-th added edge, 2k+1 its reverse (capacity 0).
    private final int[] to;
    private final double[] capacity;
    // CSR adjacency: edge ids leaving node v are adj[start[v] .. start[v+1]).
    private final int[] start;
    private final int[] adj;

    private final double[] residual;
    private final int[] level;
    private final int[] current;
    private final int[] queue;

    private MaxFlow(int nodes, int[] to, double[] capacity, int[] start, int[] adj) {
        this.nodes = nodes;
        this.to = to;
        this.capacity = capacity;
        this.start = start;
        this.adj = adj;
        this.residual = new double[capacity.length];
        this.level = new int[nodes];
        this.current = new int[nodes];
        this.queue = new int[nodes];
    }

    /** An independent solver over the same graph. */
    public MaxFlow copy() {
        return new MaxFlow(nodes, to, capacity, start, adj);
    }

    /** Number of nodes. */
    public int nodes() {
        return nodes;
    }

    /**
     * The maximum flow value from {@code source} to {@code sink} (0 when they are equal or the sink is
     * unreachable).
     */
    public double maxFlow(int source, int sink) {
        checkNode("source", source);
        checkNode("sink", sink);
        if (source == sink) {
            return 0;
        }
        System.arraycopy(capacity, 0, residual, 0, capacity.length);
        double total = 0;
        while (buildLevels(source, sink)) {
            for (int v = 0; v < nodes; v++) {
                current[v] = start[v];
            }
            double pushed;
            while ((pushed = push(source, sink, Double.POSITIVE_INFINITY)) > EPSILON) {
                total += pushed;
            }
        }
        return total;
    }

    /** BFS over edges with residual capacity; stops once the sink's level is settled. */
    private boolean buildLevels(int source, int sink) {
        Arrays.fill(level, -1);
        level[source] = 0;
        int head = 0;
        int tail = 0;
        queue[tail++] = source;
        while (head < tail) {
            int v = queue[head++];
            if (level[sink] >= 0 && level[v] >= level[sink]) {
                break;
            }
            for (int k = start[v], end = start[v + 1]; k < end; k++) {
                int e = adj[k];
                int w = to[e];
                if (level[w] < 0 && residual[e] > EPSILON) {
                    level[w] = level[v] + 1;
                    queue[tail++] = w;
                }
            }
        }
        return level[sink] >= 0;
    }

    /** Pushes up to {@code limit} from {@code v} towards the sink along the level graph; returns the amount. */
    private double push(int v, int sink, double limit) {
        if (v == sink) {
            return limit;
        }
        double pushed = 0;
        int end = start[v + 1];
        for (; current[v] < end; current[v]++) {
            int e = adj[current[v]];
            int w = to[e];
            if (level[w] != level[v] + 1 || residual[e] <= EPSILON) {
                continue;
            }
            double d = push(w, sink, Math.min(limit - pushed, residual[e]));
            if (d > 0) {
                residual[e] -= d;
                residual[e ^ 1] += d;
                pushed += d;
                if (limit - pushed <= EPSILON) {
                    return pushed;
                }
            }
        }
        level[v] = -1; // dead end for the rest of this phase
        return pushed;
    }

    private void checkNode(String name, int v) {
        if (v < 0 || v >= nodes) {
            throw new IllegalArgumentException(name + ": " + v + " (expected 0 <= " + name + " < " + nodes + ")");
        }
    }

    /** Collects edges, then {@link #build()}s a {@link MaxFlow}. */
    public static final class Builder {
        private final int nodes;
        private int[] from = new int[16];
        private int[] to = new int[16];
        private double[] capacity = new double[16];
        private int edges;

        /** A graph with nodes {@code 0 .. nodes-1}. */
        public Builder(int nodes) {
            if (nodes < 1) {
                throw new IllegalArgumentException("nodes: " + nodes + " (expected >= 1)");
            }
            this.nodes = nodes;
        }

        /** Adds a directed edge {@code u → v} with a finite capacity {@code >= 0}; parallel edges add up. */
        public Builder addEdge(int u, int v, double cap) {
            if (u < 0 || u >= nodes) {
                throw new IllegalArgumentException("u: " + u + " (expected 0 <= u < " + nodes + ")");
            }
            if (v < 0 || v >= nodes) {
                throw new IllegalArgumentException("v: " + v + " (expected 0 <= v < " + nodes + ")");
            }
            if (!Double.isFinite(cap) || cap < 0) {
                throw new IllegalArgumentException("cap: " + cap + " (expected a finite capacity >= 0)");
            }
            if (edges == from.length) {
                from = Arrays.copyOf(from, edges * 2);
                to = Arrays.copyOf(to, edges * 2);
                capacity = Arrays.copyOf(capacity, edges * 2);
            }
            from[edges] = u;
            to[edges] = v;
            capacity[edges] = cap;
            edges++;
            return this;
        }

        /** The solver for the edges added so far. */
        public MaxFlow build() {
            int m = 2 * edges;
            int[] eTo = new int[m];
            double[] eCap = new double[m];
            int[] degree = new int[nodes + 1];
            for (int k = 0; k < edges; k++) {
                eTo[2 * k] = to[k];
                eCap[2 * k] = capacity[k];
                eTo[2 * k + 1] = from[k];
                degree[from[k] + 1]++;
                degree[to[k] + 1]++;
            }
            for (int v = 0; v < nodes; v++) {
                degree[v + 1] += degree[v];
            }
            int[] fill = Arrays.copyOf(degree, nodes);
            int[] adj = new int[m];
            for (int k = 0; k < edges; k++) {
                adj[fill[from[k]]++] = 2 * k;
                adj[fill[to[k]]++] = 2 * k + 1;
            }
            return new MaxFlow(nodes, eTo, eCap, degree, adj);
        }
    }
}
