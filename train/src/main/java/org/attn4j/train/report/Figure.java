package org.attn4j.train.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Charts stacked vertically in one picture of {@code width × (panelHeight · charts)} pixels, drawn
 * either into a PNG (java.awt in headless mode, encoded by ImageIO) or as an SVG element to inline in
 * a web page. Both come from the same {@link Chart} layout code.
 */
public final class Figure {
    private final List<Chart> charts;
    private final int width, panelHeight;

    public Figure(List<Chart> charts, int width, int panelHeight) {
        if (charts.isEmpty()) throw new IllegalArgumentException("charts: expected at least one, got none");
        if (width < 200) throw new IllegalArgumentException("width: expected ≥ 200 pixels, got " + width);
        if (panelHeight < 150) throw new IllegalArgumentException("panelHeight: expected ≥ 150 pixels, got " + panelHeight);
        this.charts = List.copyOf(charts);
        this.width = width;
        this.panelHeight = panelHeight;
    }

    public int width() { return width; }

    public int height() { return panelHeight * charts.size(); }

    /** The picture as a PNG (RGB, white background). */
    public void writePng(OutputStream out) throws IOException {
        System.setProperty("java.awt.headless", "true"); // no display needed, and none opened
        BufferedImage img = new BufferedImage(width, height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height());
            Canvas c = new AwtCanvas(g);
            for (int i = 0; i < charts.size(); i++) charts.get(i).draw(c, 0, i * panelHeight, width, panelHeight);
        } finally {
            g.dispose();
        }
        // An in-memory stream, not ImageIO.write's default file cache, which registers a shutdown hook
        // and so fails while the JVM is exiting (when an interrupted run saves its curves).
        java.util.Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) throw new IOException("png: no ImageIO writer for PNG in this JDK");
        ImageWriter w = writers.next();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            w.write(img);
        } finally {
            w.dispose();
        }
    }

    /** The picture as one {@code <svg>} element (no XML prolog), ready to inline in HTML. */
    public String svg() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n", width, height(), width, height()));
        Canvas c = new SvgCanvas(sb);
        for (int i = 0; i < charts.size(); i++) charts.get(i).draw(c, 0, i * panelHeight, width, panelHeight);
        return sb.append("</svg>").toString();
    }

    /** Escapes text for HTML/XML content and attribute values. */
    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static final class AwtCanvas implements Canvas {
        private final Graphics2D g;

        AwtCanvas(Graphics2D g) { this.g = g; }

        @Override
        public void line(double x1, double y1, double x2, double y2, int colour, double w) {
            g.setColor(new Color(colour));
            g.setStroke(new BasicStroke((float) w));
            g.draw(new Line2D.Double(x1, y1, x2, y2));
        }

        @Override
        public void polyline(double[][] pts, int colour, double w) {
            Path2D.Double p = new Path2D.Double();
            p.moveTo(pts[0][0], pts[0][1]);
            for (int i = 1; i < pts.length; i++) p.lineTo(pts[i][0], pts[i][1]);
            g.setColor(new Color(colour));
            g.setStroke(new BasicStroke((float) w, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            g.draw(p);
        }

        @Override
        public void dot(double x, double y, double r, int colour) {
            g.setColor(new Color(colour));
            g.fill(new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
        }

        @Override
        public void text(double x, double y, String s, Anchor anchor, double size, int colour, boolean vertical) {
            if (s.isEmpty()) return;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, (int) Math.round(size)));
            g.setColor(new Color(colour));
            double w = g.getFontMetrics().stringWidth(s);
            double shift = anchor == Anchor.START ? 0 : anchor == Anchor.MIDDLE ? -w / 2 : -w;
            AffineTransform saved = g.getTransform();
            g.translate(x, y);
            if (vertical) g.rotate(-Math.PI / 2);
            g.drawString(s, (float) shift, 0f);
            g.setTransform(saved);
        }
    }

    private static final class SvgCanvas implements Canvas {
        private final StringBuilder sb;

        SvgCanvas(StringBuilder sb) { this.sb = sb; }

        private static String rgb(int c) { return String.format(Locale.ROOT, "#%06x", c & 0xFFFFFF); }

        private static String n(double v) { return String.format(Locale.ROOT, "%.1f", v); }

        @Override
        public void line(double x1, double y1, double x2, double y2, int colour, double w) {
            sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2)).append("\" y2=\"").append(n(y2))
                    .append("\" stroke=\"").append(rgb(colour)).append("\" stroke-width=\"").append(n(w)).append("\"/>\n");
        }

        @Override
        public void polyline(double[][] pts, int colour, double w) {
            sb.append("<polyline fill=\"none\" stroke=\"").append(rgb(colour)).append("\" stroke-width=\"").append(n(w))
                    .append("\" stroke-linejoin=\"round\" points=\"");
            for (double[] p : pts) sb.append(n(p[0])).append(',').append(n(p[1])).append(' ');
            sb.append("\"/>\n");
        }

        @Override
        public void dot(double x, double y, double r, int colour) {
            sb.append("<circle cx=\"").append(n(x)).append("\" cy=\"").append(n(y)).append("\" r=\"").append(n(r))
                    .append("\" fill=\"").append(rgb(colour)).append("\"/>\n");
        }

        @Override
        public void text(double x, double y, String s, Anchor anchor, double size, int colour, boolean vertical) {
            if (s.isEmpty()) return;
            String a = switch (anchor) { case START -> "start"; case MIDDLE -> "middle"; case END -> "end"; };
            sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"").append(n(size))
                    .append("\" text-anchor=\"").append(a).append("\" fill=\"").append(rgb(colour)).append('"');
            if (vertical) sb.append(" transform=\"rotate(-90 ").append(n(x)).append(' ').append(n(y)).append(")\"");
            sb.append('>').append(escape(s)).append("</text>\n");
        }
    }
}
