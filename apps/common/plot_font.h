/* The built-in bitmap font of the plotting module (plot.h). */
#ifndef SC_PLOT_FONT_H
#define SC_PLOT_FONT_H

#define SC_FONT_W 5       /* glyph pixels */
#define SC_FONT_H 7
#define SC_FONT_ADVANCE 6 /* glyph + one pixel of spacing */
#define SC_FONT_DESCENT 2 /* rows below the cell that g, p, q, y reach */
#define SC_FONT_LINE 9    /* line height: glyph + descent */

/* 1 where glyph c (printable ASCII; anything else is '?') has ink at column
 * col (0 left) and row row (0 top of the cell; rows SC_FONT_H and up are the
 * descent), 0 elsewhere. */
int sc_font_pixel(char c, int col, int row);

#endif
