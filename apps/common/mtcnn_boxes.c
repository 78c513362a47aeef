/* MTCNN box maths (see mtcnn_boxes.h). Arithmetic is float where MATLAB's
 * is single, double where it is double, so that the truncations (fix) and
 * comparisons land on the same side as the MATLAB detector's. */
#include "mtcnn_boxes.h"

#include <math.h>
#include <stdlib.h>

size_t sc_mtcnn_pnet_boxes(const float *prob, const float *reg, int map_w, int map_h,
                           double scale, float threshold, sc_mtcnn_box *out)
{
    const size_t plane = (size_t)map_w * map_h;
    size_t n = 0;
    for (int y = 0; y < map_h; y++)     /* MATLAB's find() runs down the columns of */
        for (int x = 0; x < map_w; x++) { /* the transposed map: x fastest */
            size_t at = (size_t)x * map_h + y;
            if (!(prob[at] >= threshold))
                continue;
            sc_mtcnn_box *b = &out[n++];
            /* stride 2, cell 12, in 1-based pixels: fix((2 (i - 1) + 1) / scale)
             * and fix((2 (i - 1) + 12) / scale) for the 1-based cell index i */
            b->x1 = (float)trunc((2.0 * x + 1) / scale);
            b->y1 = (float)trunc((2.0 * y + 1) / scale);
            b->x2 = (float)trunc((2.0 * x + 12) / scale);
            b->y2 = (float)trunc((2.0 * y + 12) / scale);
            b->score = prob[at];
            for (int k = 0; k < 4; k++)
                b->reg[k] = reg[k * plane + at];
        }
    return n;
}

typedef struct ranked {
    float score;
    size_t index;
} ranked;

/* Descending score, then descending index: the order in which MATLAB's
 * nms visits boxes (it takes the last of an ascending stable sort). */
static int by_rank(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return a->index < b->index ? 1 : (a->index > b->index ? -1 : 0);
}

static float box_area(const sc_mtcnn_box *b)
{
    return (b->x2 - b->x1 + 1) * (b->y2 - b->y1 + 1);
}

static float overlap(const sc_mtcnn_box *a, const sc_mtcnn_box *b, sc_nms_mode mode)
{
    float xx1 = fmaxf(a->x1, b->x1), yy1 = fmaxf(a->y1, b->y1);
    float xx2 = fminf(a->x2, b->x2), yy2 = fminf(a->y2, b->y2);
    float inter = fmaxf(0.0f, xx2 - xx1 + 1) * fmaxf(0.0f, yy2 - yy1 + 1);
    float aa = box_area(a), ab = box_area(b);
    if (mode == SC_NMS_MIN)
        return inter / fminf(aa, ab);
    return inter / (aa + ab - inter);
}

sc_status sc_mtcnn_nms(const sc_mtcnn_box *boxes, size_t n, float threshold, sc_nms_mode mode,
                       size_t *pick, size_t *n_pick, sc_error *err)
{
    *n_pick = 0;
    if (n == 0)
        return SC_OK;
    ranked *order = malloc(n * sizeof *order);
    unsigned char *gone = calloc(n, 1);
    if (!order || !gone) {
        free(order);
        free(gone);
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory (NMS over %zu boxes)", n);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (ranked){boxes[i].score, i};
    qsort(order, n, sizeof *order, by_rank);
    for (size_t r = 0; r < n; r++) {
        if (gone[r])
            continue;
        const sc_mtcnn_box *kept = &boxes[order[r].index];
        pick[(*n_pick)++] = order[r].index;
        for (size_t q = r + 1; q < n; q++)
            if (!gone[q] && !(overlap(kept, &boxes[order[q].index], mode) <= threshold))
                gone[q] = 1;
    }
    free(order);
    free(gone);
    return SC_OK;
}

void sc_mtcnn_regress_pnet(sc_mtcnn_box *boxes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sc_mtcnn_box *b = &boxes[i];
        float w = b->x2 - b->x1, h = b->y2 - b->y1;
        b->x1 += b->reg[0] * w;
        b->y1 += b->reg[1] * h;
        b->x2 += b->reg[2] * w;
        b->y2 += b->reg[3] * h;
    }
}

void sc_mtcnn_bbreg(sc_mtcnn_box *boxes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sc_mtcnn_box *b = &boxes[i];
        float w = b->x2 - b->x1 + 1, h = b->y2 - b->y1 + 1;
        b->x1 += b->reg[0] * w;
        b->y1 += b->reg[1] * h;
        b->x2 += b->reg[2] * w;
        b->y2 += b->reg[3] * h;
    }
}

void sc_mtcnn_rerec(sc_mtcnn_box *boxes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sc_mtcnn_box *b = &boxes[i];
        float h = b->y2 - b->y1, w = b->x2 - b->x1;
        float l = fmaxf(w, h);
        b->x1 = b->x1 + w * 0.5f - l * 0.5f;
        b->y1 = b->y1 + h * 0.5f - l * 0.5f;
        b->x2 = b->x1 + l;
        b->y2 = b->y1 + l;
    }
}

void sc_mtcnn_fix(sc_mtcnn_box *boxes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sc_mtcnn_box *b = &boxes[i];
        b->x1 = truncf(b->x1);
        b->y1 = truncf(b->y1);
        b->x2 = truncf(b->x2);
        b->y2 = truncf(b->y2);
    }
}

sc_mtcnn_pad sc_mtcnn_pad_box(const sc_mtcnn_box *box, int w, int h)
{
    sc_mtcnn_pad p;
    p.x = (int)box->x1;
    p.y = (int)box->y1;
    p.ex = (int)box->x2;
    p.ey = (int)box->y2;
    p.tmpw = p.ex - p.x + 1;
    p.tmph = p.ey - p.y + 1;
    p.dx = p.dy = 1;
    p.edx = p.tmpw;
    p.edy = p.tmph;
    if (p.ex > w) {
        p.edx = -p.ex + w + p.tmpw;
        p.ex = w;
    }
    if (p.ey > h) {
        p.edy = -p.ey + h + p.tmph;
        p.ey = h;
    }
    if (p.x < 1) {
        p.dx = 2 - p.x;
        p.x = 1;
    }
    if (p.y < 1) {
        p.dy = 2 - p.y;
        p.y = 1;
    }
    return p;
}
