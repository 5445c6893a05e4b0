package org.attn4j.train.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart with hand-drawn axes: series of (x, y) points, optionally with ±error bars, on a
 * linear or base-2 logarithmic x axis. The same layout is drawn by {@link Figure} into a PNG (java.awt,
 * headless) and into inline SVG, so the picture and the web page show the same thing.
 *
 * <p>Points whose y is NaN are skipped and break the line there. Immutable; build with
 * {@link #builder()}.
 */
public final class Chart {

    /**
     * One line of the chart.
     *
     * @param name    legend label
     * @param x       x values (for a log axis: positive)
     * @param y       y values, NaN for "no value"
     * @param err     half-widths of error bars (same length as y), or null for none
     * @param markers draw a dot at every point (else a plain line)
     */
    public record Series(String name, double[] x, double[] y, double[] err, boolean markers) {
        public Series {
            if (name == null) throw new IllegalArgumentException("name: expected a label, got null");
            if (x.length != y.length) throw new IllegalArgumentException("y: expected " + x.length + " values (as many as x), got " + y.length);
            if (err != null && err.length != y.length) throw new IllegalArgumentException("err: expected " + y.length + " values, got " + err.length);
            x = x.clone();
            y = y.clone();
            err = err == null ? null : err.clone();
        }
    }

    final String title, xLabel, yLabel;
    final boolean logX;
    final double yMin, yMax;         // NaN: from the data
    final double[] xTicks;           // null: chosen from the data
    final List<Series> series;

    private Chart(Builder b) {
        this.title = b.title;
        this.xLabel = b.xLabel;
        this.yLabel = b.yLabel;
        this.logX = b.logX;
        this.yMin = b.yMin;
        this.yMax = b.yMax;
        this.xTicks = b.xTicks;
        this.series = List.copyOf(b.series);
        for (Series s : series) {
            for (double x : s.x()) {
                if (!Double.isFinite(x) || (logX && x <= 0)) {
                    throw new IllegalArgumentException("x: expected finite" + (logX ? " positive" : "") + " values on this axis, got " + x + " in series " + s.name());
                }
            }
        }
    }

    public static Builder builder() { return new Builder(); }

    public String title() { return title; }

    public List<Series> series() { return series; }

    /** Builder of a {@link Chart}. */
    public static final class Builder {
        private String title = "", xLabel = "", yLabel = "";
        private boolean logX;
        private double yMin = Double.NaN, yMax = Double.NaN;
        private double[] xTicks;
        private final List<Series> series = new ArrayList<>();

        public Builder title(String t) { title = t; return this; }

        public Builder xLabel(String l) { xLabel = l; return this; }

        public Builder yLabel(String l) { yLabel = l; return this; }

        /** A base-2 logarithmic x axis (widths 64, 128, 256 evenly spaced). */
        public Builder logX(boolean on) { logX = on; return this; }

        /** A fixed y range (e.g. 0..1 for accuracy); otherwise the data's range, padded. */
        public Builder yRange(double min, double max) {
            if (!(min < max)) throw new IllegalArgumentException("yRange: expected min < max, got " + min + ", " + max);
            yMin = min;
            yMax = max;
            return this;
        }

        /** Ticks at exactly these x values (e.g. the widths measured). */
        public Builder xTicks(double... ticks) { xTicks = ticks.clone(); return this; }

        public Builder add(Series s) { series.add(s); return this; }

        public Builder line(String name, double[] x, double[] y) { return add(new Series(name, x, y, null, false)); }

        public Builder points(String name, double[] x, double[] y, double[] err) { return add(new Series(name, x, y, err, true)); }

        public Chart build() { return new Chart(this); }
    }

    // ---- layout, shared by both renderers ------------------------------------------------------

    /** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
    static final int[] PALETTE = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0xF0E442, 0x000000};

    /** Draws the chart into the box {@code [x0, x0+w] × [y0, y0+h]} of {@code c}. */
    void draw(Canvas c, double x0, double y0, double w, double h) {
        double legendW = 0;
        if (series.size() > 1) {
            int longest = 0;
            for (Series s : series) longest = Math.max(longest, s.name().length());
            legendW = 34 + 6.5 * longest;
        }
        double left = x0 + 64, right = x0 + w - 16 - legendW, top = y0 + 28, bottom = y0 + h - 44;
        if (right - left < 40 || bottom - top < 40) throw new IllegalArgumentException("size: " + w + "×" + h + " is too small for the chart");

        double[] xr = xRange(), yr = yRange();
        Axis xa = new Axis(xr[0], xr[1], left, right, logX);
        Axis ya = new Axis(yr[0], yr[1], bottom, top, false);

        c.text(x0 + w / 2, y0 + 17, title, Canvas.Anchor.MIDDLE, 13, 0x000000, false);
        // grid and ticks
        for (double t : xTicks != null ? xTicks : xa.ticks()) {
            if (t < xr[0] - 1e-12 * Math.abs(xr[0]) || t > xr[1] + 1e-12 * Math.abs(xr[1])) continue;
            double px = xa.map(t);
            c.line(px, top, px, bottom, 0xE0E0E0, 1);
            c.line(px, bottom, px, bottom + 4, 0x000000, 1);
            c.text(px, bottom + 16, format(t), Canvas.Anchor.MIDDLE, 11, 0x000000, false);
        }
        for (double t : ya.ticks()) {
            double py = ya.map(t);
            c.line(left, py, right, py, 0xE0E0E0, 1);
            c.line(left - 4, py, left, py, 0x000000, 1);
            c.text(left - 7, py + 4, format(t), Canvas.Anchor.END, 11, 0x000000, false);
        }
        c.line(left, bottom, right, bottom, 0x000000, 1);
        c.line(left, top, left, bottom, 0x000000, 1);
        c.text((left + right) / 2, bottom + 34, xLabel, Canvas.Anchor.MIDDLE, 12, 0x000000, false);
        c.text(x0 + 15, (top + bottom) / 2, yLabel, Canvas.Anchor.MIDDLE, 12, 0x000000, true);

        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            int colour = PALETTE[i % PALETTE.length];
            List<double[]> run = new ArrayList<>();
            for (int p = 0; p <= s.x().length; p++) {
                boolean ok = p < s.x().length && Double.isFinite(s.y()[p]);
                if (ok) run.add(new double[] {xa.map(s.x()[p]), ya.map(clamp(s.y()[p], yr))});
                if (!ok && !run.isEmpty()) {
                    if (run.size() > 1) c.polyline(run.toArray(double[][]::new), colour, s.markers() ? 1.5 : 1.2);
                    run.clear();
                }
            }
            for (int p = 0; p < s.x().length; p++) {
                if (!Double.isFinite(s.y()[p])) continue;
                double px = xa.map(s.x()[p]), py = ya.map(clamp(s.y()[p], yr));
                if (s.err() != null && s.err()[p] > 0) {
                    double lo = ya.map(clamp(s.y()[p] - s.err()[p], yr)), hi = ya.map(clamp(s.y()[p] + s.err()[p], yr));
                    c.line(px, lo, px, hi, colour, 1);
                    c.line(px - 3, lo, px + 3, lo, colour, 1);
                    c.line(px - 3, hi, px + 3, hi, colour, 1);
                }
                if (s.markers()) c.dot(px, py, 3, colour);
            }
            if (legendW > 0) {
                double ly = top + 8 + 16 * i, lx = right + 12;
                c.line(lx, ly, lx + 18, ly, colour, 2);
                if (s.markers()) c.dot(lx + 9, ly, 3, colour);
                c.text(lx + 24, ly + 4, s.name(), Canvas.Anchor.START, 11, 0x000000, false);
            }
        }
    }

    private static double clamp(double v, double[] r) { return Math.max(r[0], Math.min(r[1], v)); }

    private double[] xRange() {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) for (double x : s.x()) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
        if (xTicks != null) for (double t : xTicks) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
        if (lo > hi) return logX ? new double[] {1, 2} : new double[] {0, 1};
        if (lo == hi) return logX ? new double[] {lo / 2, hi * 2} : new double[] {lo - 1, hi + 1};
        if (logX) { // a little air on both sides so end points are not on the frame
            double pad = Math.pow(hi / lo, 0.06);
            return new double[] {lo / pad, hi * pad};
        }
        return new double[] {lo, hi};
    }

    private double[] yRange() {
        if (!Double.isNaN(yMin)) return new double[] {yMin, yMax};
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int p = 0; p < s.y().length; p++) {
                double y = s.y()[p], e = s.err() == null ? 0 : s.err()[p];
                if (!Double.isFinite(y)) continue;
                lo = Math.min(lo, y - e);
                hi = Math.max(hi, y + e);
            }
        }
        if (lo > hi) return new double[] {0, 1};
        if (lo == hi) return new double[] {lo - 0.5, hi + 0.5};
        double pad = 0.05 * (hi - lo);
        return new double[] {lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad};
    }

    /** Short tick labels: integers as integers, otherwise up to 3 significant digits. */
    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7) return Long.toString((long) v);
        String s = String.format(Locale.ROOT, "%.3g", v);
        if (s.contains("e")) return s;
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    /** A linear or log2 mapping from data to pixels, with "nice" ticks. */
    record Axis(double lo, double hi, double pxLo, double pxHi, boolean log) {
        double map(double v) {
            double f = log ? (log2(v) - log2(lo)) / (log2(hi) - log2(lo)) : (v - lo) / (hi - lo);
            return pxLo + f * (pxHi - pxLo);
        }

        double[] ticks() {
            if (log) {
                List<Double> t = new ArrayList<>();
                for (double p = Math.pow(2, Math.ceil(log2(lo))); p <= hi; p *= 2) t.add(p);
                return t.stream().mapToDouble(Double::doubleValue).toArray();
            }
            // step = mantissa · 10^exponent; ticks k·step computed as k·mantissa scaled by a power of ten,
            // dividing for negative exponents, so 3 × 0.2 prints as 0.6 and not 0.6000000000000001
            double raw = (hi - lo) / 5;
            int exponent = (int) Math.floor(Math.log10(raw));
            double f = raw / Math.pow(10, exponent);
            int mantissa = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
            double scale = Math.pow(10, Math.abs(exponent)), step = exponent < 0 ? mantissa / scale : mantissa * scale;
            long first = (long) Math.ceil(lo / step - 1e-9), last = (long) Math.floor(hi / step + 1e-9);
            double[] t = new double[(int) Math.max(0, last - first + 1)];
            for (int i = 0; i < t.length; i++) {
                long k = (first + i) * mantissa;
                t[i] = k == 0 ? 0 : exponent < 0 ? k / scale : k * scale;
            }
            return t;
        }

        private static double log2(double v) { return Math.log(v) / Math.log(2); }
    }
}
