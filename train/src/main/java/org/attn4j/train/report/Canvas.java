package org.attn4j.train.report;

/** The few drawing operations a {@link Chart} needs; coordinates in pixels, y down; colours 0xRRGGBB. */
interface Canvas {
    enum Anchor { START, MIDDLE, END }

    void line(double x1, double y1, double x2, double y2, int colour, double width);

    void polyline(double[][] points, int colour, double width);

    void dot(double x, double y, double radius, int colour);

    /** Text whose baseline starts, centres or ends at (x, y); {@code vertical} turns it 90° anticlockwise about (x, y). */
    void text(double x, double y, String s, Anchor anchor, double size, int colour, boolean vertical);
}
