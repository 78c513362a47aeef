/* Drawing boxes and landmarks (see face_draw.h). */
#include "face_draw.h"

#include <math.h>

typedef struct rgb {
    unsigned char r, g, b;
} rgb;

static void put(sc_image *img, long x, long y, rgb c)
{
    if (x < 0 || y < 0 || x >= img->w || y >= img->h)
        return;
    unsigned char *p = img->px + ((size_t)y * img->w + (size_t)x) * 3;
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
}

/* Coordinates far outside the photo are clamped first, so the loops below
 * stay short whatever a box holds. */
static long clamp_coord(float v, int limit)
{
    if (!(v > -2))
        return -2;
    if (v > limit + 2)
        return limit + 2;
    return lroundf(v);
}

static void draw_box(sc_image *img, const float box[4], rgb c)
{
    long x1 = clamp_coord(box[0], img->w), y1 = clamp_coord(box[1], img->h);
    long x2 = clamp_coord(box[2], img->w), y2 = clamp_coord(box[3], img->h);
    for (int t = 0; t < 2; t++) { /* two pixels thick, inwards */
        for (long x = x1; x <= x2; x++) {
            put(img, x, y1 + t, c);
            put(img, x, y2 - t, c);
        }
        for (long y = y1; y <= y2; y++) {
            put(img, x1 + t, y, c);
            put(img, x2 - t, y, c);
        }
    }
}

static void draw_cross(sc_image *img, float fx, float fy, rgb c)
{
    long x = clamp_coord(fx, img->w), y = clamp_coord(fy, img->h);
    for (long d = -2; d <= 2; d++) {
        put(img, x + d, y, c);
        put(img, x, y + d, c);
    }
}

void sc_face_draw(sc_image *img, const sc_face *faces, size_t n, size_t chosen)
{
    if (img->c != 3)
        return;
    const rgb green = {0, 220, 0}, yellow = {255, 210, 0}, red = {255, 0, 0};
    for (size_t i = 0; i < n; i++) {
        draw_box(img, faces[i].box, i == chosen ? green : yellow);
        for (int j = 0; j < 5; j++)
            draw_cross(img, faces[i].points[2 * j], faces[i].points[2 * j + 1], red);
    }
}
