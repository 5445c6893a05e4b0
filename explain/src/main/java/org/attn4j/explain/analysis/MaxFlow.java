package org.attn4j.explain.analysis;

import java.util.Arrays;

/**
 * Maximum s–t flow on a directed graph with {@code double} capacities, by Dinic's algorithm
 * (BFS level graph, then a blocking flow by DFS with current-arc pointers, repeated until the sink is
 * unreachable). Residual capacities at or below {@link #EPSILON} count as saturated. A query also
 * stops as soon as the flow meets the capacity out of the source or into the sink, both upper bounds,
 * which on dense attention graphs usually ends it after the first phase. The DFS is recursive: its depth
 * is at most the number of nodes.
 *
 * <p>Build once with {@link Builder}; each {@link #maxFlow(int, int)} starts from zero flow, so one
 * instance answers many (source, sink) queries. An instance is not thread-safe; {@link #copy()} gives
 * an independent one sharing the (immutable) graph structure.
 */
public final class MaxFlow {

    /** Residual capacities at or below this count as zero. */
    public static final double EPSILON = 1e-12;

    private final int nodes;
    // Arcs in CSR order: the arcs leaving node v are slots start[v] .. start[v+1]-1. Every added edge
    // has a forward arc (its capacity) and a reverse arc (capacity 0); rev[k] is the partner of slot k.
    // Keeping everything per slot makes the scans in BFS and DFS sequential in memory.
    private final int[] start;
    private final int[] to;
    private final int[] rev;
    private final double[] capacity;
    private final boolean[] forward;

    private final double[] residual;
    private final int[] level;
    private final int[] current;
    private final int[] queue;
    // Edges whose residual capacity the last query changed (repeats allowed).
    private int[] touched = new int[64];
    private int touchedCount;

    private MaxFlow(int nodes, int[] start, int[] to, int[] rev, double[] capacity, boolean[] forward) {
        this.nodes = nodes;
        this.start = start;
        this.to = to;
        this.rev = rev;
        this.capacity = capacity;
        this.forward = forward;
        this.residual = capacity.clone();
        this.level = new int[nodes];
        this.current = new int[nodes];
        this.queue = new int[nodes];
    }

    /** An independent solver over the same graph. */
    public MaxFlow copy() {
        return new MaxFlow(nodes, start, to, rev, capacity, forward);
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
        return maxFlow(source, sink, null);
    }

    /**
     * {@link #maxFlow(int, int)}, with the first phase run on the given levels instead of a BFS: useful
     * when the graph is layered and the levels are known (for a layered DAG, the distance from the source
     * layer). Any levels give a correct answer, since a blocking flow on them is still a valid flow and
     * the BFS phases that follow run until no augmenting path is left; good ones save a BFS.
     *
     * <p>Whatever the levels, the search stops as soon as the flow reaches the capacity out of the source
     * or into the sink (both are cuts), within a relative {@code 1e-12}.
     *
     * @param firstLevels one level per node, or null for a plain BFS first phase; not modified
     */
    public double maxFlow(int source, int sink, int[] firstLevels) {
        checkNode("source", source);
        checkNode("sink", sink);
        if (firstLevels != null && firstLevels.length != nodes) {
            throw new IllegalArgumentException("firstLevels: " + firstLevels.length + " entries (expected " + nodes + ")");
        }
        if (source == sink) {
            return 0;
        }
        resetResiduals();
        double bound = Math.min(capacityAround(source, true), capacityAround(sink, false));
        double stopAt = bound * (1 - 1e-12);
        double total = 0;
        boolean first = true;
        while (true) {
            if (first && firstLevels != null) {
                System.arraycopy(firstLevels, 0, level, 0, nodes);
            } else if (!buildLevels(source, sink)) {
                break;
            }
            first = false;
            for (int v = 0; v < nodes; v++) {
                current[v] = start[v];
            }
            // No flow can exceed the bound, so ask for no more: the search ends once the bound is met.
            while (total < stopAt) {
                double pushed = push(source, sink, bound - total);
                if (pushed <= EPSILON) {
                    break;
                }
                total += pushed;
            }
            if (total >= stopAt) {
                break;
            }
        }
        return total;
    }

    /** Capacity of the original edges leaving (out = true) or entering v. */
    private double capacityAround(int v, boolean out) {
        double sum = 0;
        for (int k = start[v], end = start[v + 1]; k < end; k++) {
            if (forward[k] == out) {
                sum += capacity[out ? k : rev[k]];
            }
        }
        return sum;
    }

    /** Restores the residual capacities changed by the previous query. */
    private void resetResiduals() {
        for (int k = 0; k < touchedCount; k++) {
            int e = touched[k];
            residual[e] = capacity[e];
            residual[rev[e]] = capacity[rev[e]];
        }
        touchedCount = 0;
    }

    private void touch(int e) {
        if (touchedCount == touched.length) {
            touched = Arrays.copyOf(touched, touchedCount * 2);
        }
        touched[touchedCount++] = e;
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
                int w = to[k];
                if (residual[k] > EPSILON && level[w] < 0) {
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
            int e = current[v];
            if (residual[e] <= EPSILON) {
                continue;
            }
            int w = to[e];
            if (level[w] != level[v] + 1) {
                continue;
            }
            double d = push(w, sink, Math.min(limit - pushed, residual[e]));
            if (d > 0) {
                residual[e] -= d;
                residual[rev[e]] += d;
                touch(e);
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
            int[] start = new int[nodes + 1];
            for (int k = 0; k < edges; k++) {
                start[from[k] + 1]++;
                start[to[k] + 1]++;
            }
            for (int v = 0; v < nodes; v++) {
                start[v + 1] += start[v];
            }
            int[] fill = Arrays.copyOf(start, nodes);
            int[] sTo = new int[m];
            int[] sRev = new int[m];
            double[] sCap = new double[m];
            boolean[] sForward = new boolean[m];
            for (int k = 0; k < edges; k++) {
                int f = fill[from[k]]++;
                int r = fill[to[k]]++;
                sTo[f] = to[k];
                sCap[f] = capacity[k];
                sForward[f] = true;
                sRev[f] = r;
                sTo[r] = from[k];
                sRev[r] = f;
            }
            return new MaxFlow(nodes, start, sTo, sRev, sCap, sForward);
        }
    }
}
