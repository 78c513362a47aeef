/* Rendering of one synthetic face image (see synth.h for what varies).
 *
 * The face is a back-to-front list of primitives (ellipses, rings, thick
 * parabolic curves, Gaussian blobs) in a 96 x 112 reference frame. Every
 * output pixel is mapped back through the image's pose into that frame and
 * the primitives are composited over the background; edges get a coverage
 * from an approximate signed distance, which anti-aliases them without
 * supersampling. Lighting, blur and noise are applied to the float image,
 * which is then quantised. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sc_runtime.h"
#include "synth.h"

#define SR_W 96.0f  /* reference frame */
#define SR_H 112.0f
#define SR_CX 48.0f /* pose pivot: the middle of the face */
#define SR_CY 62.0f
#define SR_MAX_PRIMS 192
#define SR_MAX_MARKS 4
#define SR_PI 3.14159265358979323846

/* ------------------------------------------------------------ PRNG */

/* The project's xoshiro256** (runtime/rng.c), so the images do not depend
 * on the C library's rand(). One independent stream per (seed, identity,
 * image, purpose). */
typedef sc_rng sr_rng;

static void sr_seed(sr_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t tag)
{
    uint64_t x = seed;
    uint64_t h = sc_splitmix64(&x);
    x = h ^ (a * 0xD6E8FEB86659FD93ull);
    h = sc_splitmix64(&x);
    x = h ^ (b * 0xA0761D6478BD642Full);
    h = sc_splitmix64(&x);
    x = h ^ (tag * 0xE7037ED1A0B428DBull);
    sc_rng_seed(r, x);
}

static double sr_unit(sr_rng *r) /* [0, 1) */
{
    return sc_rng_unit(r);
}

static float sr_uni(sr_rng *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * sr_unit(r));
}

static float sr_normal(sr_rng *r, double sigma)
{
    double u1 = 1.0 - sr_unit(r), u2 = sr_unit(r);
    return (float)(sigma * sqrt(-2.0 * log(u1)) * cos(2.0 * SR_PI * u2));
}

/* Normal clamped to +-limit: poses stay plausible. */
static float sr_clamped_normal(sr_rng *r, double sigma, double limit)
{
    float v = sr_normal(r, sigma);
    return v > limit ? (float)limit : v < -limit ? (float)-limit : v;
}

static int sr_chance(sr_rng *r, double p)
{
    return sr_unit(r) < p;
}

static int sr_pick(sr_rng *r, int n)
{
    return (int)(sr_unit(r) * n);
}

/* ------------------------------------------------------------ colours */

typedef struct sr_rgb {
    float c[3];
} sr_rgb;

static sr_rgb sr_rgb8(int r, int g, int b)
{
    return (sr_rgb){{r / 255.0f, g / 255.0f, b / 255.0f}};
}

/* Channel k in lo[k] .. lo[k] + span[k] - 1 (of 255). The draws are
 * separate statements: the order of evaluation of function arguments is
 * unspecified in C, and the images must not depend on the compiler. */
static sr_rgb sr_random_rgb(sr_rng *r, const int lo[3], const int span[3])
{
    int v[3];
    for (int k = 0; k < 3; k++)
        v[k] = lo[k] + sr_pick(r, span[k]);
    return sr_rgb8(v[0], v[1], v[2]);
}

static sr_rgb sr_any_rgb(sr_rng *r)
{
    static const int lo[3] = {0, 0, 0}, span[3] = {256, 256, 256};
    return sr_random_rgb(r, lo, span);
}

static sr_rgb sr_mix(sr_rgb a, sr_rgb b, float t)
{
    sr_rgb o;
    for (int k = 0; k < 3; k++)
        o.c[k] = a.c[k] + (b.c[k] - a.c[k]) * t;
    return o;
}

static sr_rgb sr_scale(sr_rgb a, float s)
{
    for (int k = 0; k < 3; k++)
        a.c[k] *= s;
    return a;
}

/* Each channel scaled by 1 +- amount: no two identities share a colour. */
static sr_rgb sr_vary(sr_rng *r, sr_rgb a, double amount)
{
    for (int k = 0; k < 3; k++)
        a.c[k] *= 1.0f + sr_uni(r, -amount, amount);
    return a;
}

static sr_rgb sr_skin_tone(sr_rng *r)
{
    static const unsigned char tones[6][3] = {{255, 226, 200}, {240, 196, 160}, {222, 170, 128},
                                              {196, 136, 96},  {140, 88, 58},   {92, 58, 40}};
    float u = sr_uni(r, 0, 5);
    int i = (int)u;
    sr_rgb a = sr_rgb8(tones[i][0], tones[i][1], tones[i][2]);
    sr_rgb b = sr_rgb8(tones[i + 1][0], tones[i + 1][1], tones[i + 1][2]);
    return sr_vary(r, sr_mix(a, b, u - (float)i), 0.05);
}

static sr_rgb sr_hair_colour(sr_rng *r)
{
    static const unsigned char hair[8][3] = {{28, 24, 22},   {58, 40, 28},    {104, 70, 44},
                                             {150, 70, 35},  {205, 172, 112}, {150, 148, 145},
                                             {226, 222, 214}, {40, 32, 30}};
    static const int dyed_lo[3] = {40, 30, 40}, dyed_span[3] = {200, 120, 200};
    if (sr_chance(r, 0.05))
        return sr_random_rgb(r, dyed_lo, dyed_span);
    int i = sr_pick(r, 8);
    return sr_vary(r, sr_rgb8(hair[i][0], hair[i][1], hair[i][2]), 0.12);
}

static sr_rgb sr_iris_colour(sr_rng *r)
{
    static const unsigned char iris[6][3] = {{70, 45, 25},  {40, 28, 20},   {70, 110, 160},
                                             {75, 120, 80}, {115, 120, 125}, {120, 95, 50}};
    int i = sr_pick(r, 6);
    return sr_vary(r, sr_rgb8(iris[i][0], iris[i][1], iris[i][2]), 0.15);
}

/* ------------------------------------------------------------ traits */

enum { SR_BALD, SR_SHORT, SR_LONG, SR_FRINGE, SR_RECEDING, SR_STYLES };
enum { SR_MOLE, SR_FRECKLES, SR_BIRTHMARK, SR_SCAR, SR_MARK_KINDS };

typedef struct sr_mark {
    int kind;
    float x, y, size, angle;
    sr_rgb rgb;
    uint64_t dots; /* freckle layout seed */
} sr_mark;

/* Everything that makes one identity recognisable. Lengths are in the
 * 96 x 112 reference frame. */
typedef struct sr_face {
    sr_rgb skin, hair, brow, iris, lip, frame;
    float face_rx, face_ry_top, face_ry_bot, face_cy, chin_taper, neck_w;
    float eye_y, eye_dx, eye_rx, eye_ry, eye_tilt;
    float brow_gap, brow_len, brow_thick, brow_angle, brow_arch;
    float nose_top, nose_tip, nose_w, nostril;
    float mouth_y, mouth_w, lip_up, lip_lo, smile;
    float ear_y, ear_rx, ear_ry, blush;
    int style;
    float hairline, hairline_k, parting, volume, hair_len;
    int glasses, sunglasses, beard, moustache;
    float glass_rx, glass_ry, glass_thick, beard_alpha;
    int n_marks;
    sr_mark marks[SR_MAX_MARKS];
} sr_face;

static void sr_face_shape(sr_rng *r, sr_face *f)
{
    f->face_rx = sr_uni(r, 36, 46);
    f->face_ry_top = sr_uni(r, 50, 60);
    f->face_ry_bot = sr_uni(r, 40, 52);
    f->face_cy = sr_uni(r, 58, 64);
    f->chin_taper = sr_uni(r, 0.05, 0.45);
    f->neck_w = f->face_rx * sr_uni(r, 0.45, 0.65);
    f->ear_y = sr_uni(r, 54, 64);
    f->ear_rx = sr_uni(r, 3.5, 6.5);
    f->ear_ry = sr_uni(r, 7, 11);
}

static void sr_face_eyes(sr_rng *r, sr_face *f)
{
    f->eye_y = sr_uni(r, 48, 55);
    f->eye_dx = sr_uni(r, 15, 20.5);
    f->eye_rx = sr_uni(r, 5, 8);
    f->eye_ry = sr_uni(r, 2.2, 4.2);
    f->eye_tilt = sr_uni(r, -0.18, 0.22);
    f->brow_gap = sr_uni(r, 5.5, 10);
    f->brow_len = sr_uni(r, 6.5, 11);
    f->brow_thick = sr_uni(r, 0.9, 2.6);
    f->brow_angle = sr_uni(r, -0.3, 0.3);
    f->brow_arch = sr_uni(r, -0.5, 3);
}

static void sr_face_lower(sr_rng *r, sr_face *f)
{
    f->nose_top = f->eye_y + sr_uni(r, 0, 5);
    f->nose_tip = sr_uni(r, 67, 78);
    f->nose_w = sr_uni(r, 6, 13);
    f->nostril = sr_uni(r, 1.1, 2.2);
    f->mouth_y = f->nose_tip + sr_uni(r, 12, 20);
    f->mouth_w = sr_uni(r, 10, 17);
    f->lip_up = sr_uni(r, 1.2, 3.0);
    f->lip_lo = sr_uni(r, 1.6, 4.2);
    f->smile = sr_uni(r, -1.5, 2.5);
    f->blush = sr_chance(r, 0.4) ? sr_uni(r, 0.1, 0.35) : 0;
}

static void sr_face_hair(sr_rng *r, sr_face *f)
{
    static const float style_p[SR_STYLES] = {0.12f, 0.36f, 0.26f, 0.14f, 0.12f};
    float u = (float)sr_unit(r);
    f->style = 0;
    while (f->style < SR_STYLES - 1 && u >= style_p[f->style])
        u -= style_p[f->style++];
    static const float line_lo[SR_STYLES] = {0, 18, 16, 28, 6};
    static const float line_hi[SR_STYLES] = {0, 28, 27, 38, 16};
    f->hairline = sr_uni(r, line_lo[f->style], line_hi[f->style]);
    f->hairline_k = f->style == SR_RECEDING ? sr_uni(r, 0.012, 0.03) : sr_uni(r, 0.002, 0.016);
    f->parting = sr_uni(r, -14, 14);
    f->volume = sr_uni(r, 0, 7);
    f->hair_len = sr_uni(r, 25, 60);
}

static void sr_face_extras(sr_rng *r, sr_face *f)
{
    f->glasses = sr_chance(r, 0.25);
    f->sunglasses = f->glasses && sr_chance(r, 0.2);
    f->glass_rx = f->eye_rx + sr_uni(r, 2.5, 5);
    f->glass_ry = sr_chance(r, 0.5) ? f->glass_rx * sr_uni(r, 0.85, 1.0) : sr_uni(r, 5, 8);
    f->glass_thick = sr_uni(r, 0.5, 1.3);
    f->beard = sr_chance(r, 0.15);
    f->moustache = f->beard ? sr_chance(r, 0.7) : sr_chance(r, 0.12);
    f->beard_alpha = sr_uni(r, 0.45, 0.95);
}

static void sr_face_marks(sr_rng *r, sr_face *f)
{
    f->n_marks = sr_pick(r, SR_MAX_MARKS);
    for (int i = 0; i < f->n_marks; i++) {
        sr_mark *m = &f->marks[i];
        m->kind = sr_pick(r, SR_MARK_KINDS);
        /* cheeks, forehead or chin: away from the eyes and the mouth */
        m->x = SR_CX + sr_uni(r, -30, 30);
        m->y = sr_chance(r, 0.5) ? sr_uni(r, 60, 84) : sr_uni(r, 30, 42);
        m->size = m->kind == SR_MOLE ? sr_uni(r, 0.9, 1.8) : sr_uni(r, 3, 7);
        m->angle = sr_uni(r, 0, SR_PI);
        m->rgb = m->kind == SR_BIRTHMARK ? sr_vary(r, sr_rgb8(150, 70, 60), 0.2)
               : m->kind == SR_SCAR      ? sr_mix(f->skin, sr_rgb8(255, 235, 235), 0.5f)
                                         : sr_vary(r, sr_rgb8(80, 50, 35), 0.2);
        m->dots = sc_rng_next(r);
    }
}

static void sr_face_traits(uint64_t seed, int identity, sr_face *f)
{
    sr_rng r;
    sr_seed(&r, seed, (uint64_t)identity, 0, 1);
    memset(f, 0, sizeof *f);
    f->skin = sr_skin_tone(&r);
    f->hair = sr_hair_colour(&r);
    f->brow = sr_chance(&r, 0.8) ? sr_scale(f->hair, 0.75f) : sr_vary(&r, sr_rgb8(50, 38, 30), 0.2);
    f->iris = sr_iris_colour(&r);
    f->lip = sr_vary(&r, sr_mix(f->skin, sr_rgb8(170, 60, 65), sr_uni(&r, 0.25, 0.6)), 0.05);
    static const int frame_lo[3] = {60, 40, 30}, frame_span[3] = {180, 160, 160};
    f->frame = sr_chance(&r, 0.5) ? sr_vary(&r, sr_rgb8(30, 30, 35), 0.3)
                                  : sr_random_rgb(&r, frame_lo, frame_span);
    sr_face_shape(&r, f);
    sr_face_eyes(&r, f);
    sr_face_lower(&r, f);
    sr_face_hair(&r, f);
    sr_face_extras(&r, f);
    sr_face_marks(&r, f);
}

/* ------------------------------------------------------------ one shot */

typedef struct sr_blob_bg {
    float x, y, s;
    sr_rgb rgb;
} sr_blob_bg;

/* Everything that changes from one photo of a person to the next. */
typedef struct sr_shot {
    float angle, tx, ty, scale, yaw, pitch;
    float smile, mouth_open, eye_open, brow_raise, gaze, hair_dy;
    sr_rgb bg, bg2;
    float bg_dir;
    sr_blob_bg blobs[3];
    int occluder;
    float occ_x, occ_y, occ_rx, occ_ry;
    sr_rgb occ_rgb;
    float light_dir, light, brightness, contrast, blur, noise;
    float cast[3];
} sr_shot;

static void sr_shot_pose(sr_rng *r, sr_shot *s)
{
    s->angle = sr_clamped_normal(r, 0.09, 0.22);
    s->tx = sr_clamped_normal(r, 2.0, 5);
    s->ty = sr_clamped_normal(r, 2.0, 5);
    s->scale = 1.0f + sr_clamped_normal(r, 0.05, 0.12);
    s->yaw = sr_clamped_normal(r, 0.2, 0.45);
    s->pitch = sr_clamped_normal(r, 0.12, 0.3);
    s->smile = sr_clamped_normal(r, 1.0, 2.5);
    s->mouth_open = sr_chance(r, 0.2) ? sr_uni(r, 1, 4) : 0;
    s->eye_open = sr_chance(r, 0.06) ? sr_uni(r, 0.1, 0.4) : sr_uni(r, 0.75, 1.1);
    s->brow_raise = sr_clamped_normal(r, 1.0, 2.5);
    s->gaze = sr_clamped_normal(r, 0.3, 0.6);
    s->hair_dy = sr_clamped_normal(r, 1.0, 2.5);
}

static void sr_shot_scene(sr_rng *r, sr_shot *s)
{
    /* muted, as walls and rooms mostly are */
    sr_rgb grey = sr_rgb8(128, 128, 128);
    s->bg = sr_mix(sr_any_rgb(r), grey, 0.35f);
    s->bg2 = sr_vary(r, s->bg, 0.5);
    s->bg_dir = sr_uni(r, 0, 2 * SR_PI);
    for (int i = 0; i < 3; i++) {
        sr_blob_bg *b = &s->blobs[i];
        b->x = sr_uni(r, -10, SR_W + 10);
        b->y = sr_uni(r, -10, SR_H + 10);
        b->s = sr_uni(r, 8, 25);
        b->rgb = sr_mix(sr_any_rgb(r), grey, 0.3f);
    }
    s->occluder = sr_chance(r, 0.08);
    s->occ_x = sr_chance(r, 0.5) ? sr_uni(r, -5, 20) : sr_uni(r, SR_W - 20, SR_W + 5);
    s->occ_y = sr_uni(r, 60, SR_H + 10);
    s->occ_rx = sr_uni(r, 10, 22);
    s->occ_ry = sr_uni(r, 14, 30);
    s->occ_rgb = sr_any_rgb(r);
}

static void sr_shot_camera(sr_rng *r, sr_shot *s)
{
    s->light_dir = sr_uni(r, 0, 2 * SR_PI);
    s->light = sr_uni(r, 0, 0.45);
    s->brightness = sr_clamped_normal(r, 0.07, 0.18);
    s->contrast = 1.0f + sr_clamped_normal(r, 0.15, 0.35);
    s->blur = sr_chance(r, 0.3) ? 0 : sr_uni(r, 0.2, 0.75);
    s->noise = sr_uni(r, 1.0, 9.0) / 255.0f;
    for (int k = 0; k < 3; k++)
        s->cast[k] = sr_clamped_normal(r, 0.05, 0.12);
}

static void sr_shot_draw(uint64_t seed, int identity, int index, sr_shot *s)
{
    sr_rng r;
    sr_seed(&r, seed, (uint64_t)identity, (uint64_t)index + 1, 2);
    memset(s, 0, sizeof *s);
    sr_shot_pose(&r, s);
    sr_shot_scene(&r, s);
    sr_shot_camera(&r, s);
}

/* ------------------------------------------------------------ primitives */

typedef enum sr_kind { SR_ELLIPSE, SR_RING, SR_CURVE, SR_BLOB } sr_kind;

/* One shape. Ellipse: radii rx, ry (ry2 below the centre when set, the
 * lower half narrowing by taper). Curve: y = k x^2 in the rotated frame for
 * |x| <= rx, half-thickness thick thinning by taper toward the ends. Ring:
 * an ellipse outline of half-thickness thick. Blob: a Gaussian of sigmas
 * rx, ry, no edge. */
typedef struct sr_prim {
    sr_kind kind;
    float cx, cy, rx, ry, ry2, ca, sa, k, thick, taper;
    sr_rgb rgb;
    float alpha, shade, stripes;
    int clip;                  /* an earlier ellipse to stay inside, or -1 */
    float clip_y, clip_k, clip_x; /* keep y <= clip_y + clip_k (x - clip_x)^2 ... */
    int clip_dir;              /* ... when 1, y >= when -1, none when 0 */
    float reach;               /* bounding radius around (cx, cy) */
} sr_prim;

typedef struct sr_scene {
    sr_prim p[SR_MAX_PRIMS];
    int n;
} sr_scene;

/* Appends a primitive; a full list drops it (it cannot happen with the fixed
 * trait counts, the cap only guards the array). */
static sr_prim *sr_add(sr_scene *sc, sr_kind kind, float cx, float cy, float rx, float ry,
                       sr_rgb rgb, float alpha)
{
    if (sc->n >= SR_MAX_PRIMS)
        return NULL;
    sr_prim *p = &sc->p[sc->n++];
    *p = (sr_prim){.kind = kind, .cx = cx, .cy = cy, .rx = rx, .ry = ry, .ca = 1, .rgb = rgb,
                   .alpha = alpha, .clip = -1};
    return p;
}

static void sr_rotate(sr_prim *p, float angle)
{
    if (!p)
        return;
    p->ca = cosf(angle);
    p->sa = sinf(angle);
}

static void sr_curve_shape(sr_prim *p, float k, float thick, float taper)
{
    if (!p)
        return;
    p->k = k;
    p->thick = thick;
    p->taper = taper;
}

/* The bounding radius, so most pixels skip most primitives. */
static void sr_finish(sr_scene *sc)
{
    for (int i = 0; i < sc->n; i++) {
        sr_prim *p = &sc->p[i];
        float r = fmaxf(p->rx, fmaxf(p->ry, p->ry2));
        if (p->kind == SR_CURVE)
            r = p->rx + fabsf(p->k) * p->rx * p->rx + p->thick;
        else if (p->kind == SR_RING)
            r += p->thick;
        else if (p->kind == SR_BLOB)
            r *= 3.5f;
        p->reach = r + 4.0f;
    }
}

/* ------------------------------------------------------------ distances */

static float sr_ellipse_sd(const sr_prim *p, float lx, float ly, float *q_out)
{
    float ry = ly > 0 && p->ry2 > 0 ? p->ry2 : p->ry;
    float t = ly > 0 ? fminf(ly / ry, 1.0f) : 0;
    float rx = p->rx * (1.0f - p->taper * t * t);
    float ux = lx / rx, uy = ly / ry;
    float q = sqrtf(ux * ux + uy * uy);
    *q_out = q;
    if (q < 1e-4f)
        return -fminf(rx, ry);
    float gx = ux / rx, gy = uy / ry;
    float grad = sqrtf(gx * gx + gy * gy) / q;
    return (q - 1.0f) / grad;
}

static float sr_curve_sd(const sr_prim *p, float lx, float ly)
{
    float xc = fmaxf(-p->rx, fminf(p->rx, lx));
    float half = p->thick * (1.0f - p->taper * (xc / p->rx) * (xc / p->rx));
    if (lx != xc) { /* beyond an end: distance to the end point */
        float dx = lx - xc, dy = ly - p->k * xc * xc;
        return sqrtf(dx * dx + dy * dy) - half;
    }
    float slope = 2.0f * p->k * lx;
    return fabsf(ly - p->k * lx * lx) / sqrtf(1.0f + slope * slope) - half;
}

static float sr_coverage(float sd, float pix)
{
    float a = 0.5f - sd / pix;
    return a < 0 ? 0 : a > 1 ? 1 : a;
}

/* Coverage of primitive p at (x, y) in the reference frame; *q gets the
 * normalised ellipse radius for shading. */
static float sr_shape_alpha(const sr_prim *p, float x, float y, float pix, float *q)
{
    float dx = x - p->cx, dy = y - p->cy;
    float lx = p->ca * dx + p->sa * dy, ly = -p->sa * dx + p->ca * dy;
    *q = 0;
    switch (p->kind) {
    case SR_ELLIPSE:
        return sr_coverage(sr_ellipse_sd(p, lx, ly, q), pix);
    case SR_RING:
        return sr_coverage(fabsf(sr_ellipse_sd(p, lx, ly, q)) - p->thick, pix);
    case SR_CURVE:
        return sr_coverage(sr_curve_sd(p, lx, ly), pix);
    case SR_BLOB:
        return expf(-0.5f * ((lx / p->rx) * (lx / p->rx) + (ly / p->ry) * (ly / p->ry)));
    }
    return 0;
}

static float sr_clip_alpha(const sr_scene *sc, const sr_prim *p, float x, float y, float pix)
{
    float a = 1, q;
    if (p->clip >= 0)
        a = sr_shape_alpha(&sc->p[p->clip], x, y, pix, &q);
    if (p->clip_dir != 0) {
        float edge = p->clip_y + p->clip_k * (x - p->clip_x) * (x - p->clip_x);
        a *= sr_coverage((float)p->clip_dir * (y - edge), 1.5f * pix);
    }
    return a;
}

/* Composites every primitive over colour c at reference point (x, y). */
static void sr_shade_point(const sr_scene *sc, float x, float y, float pix, float c[3])
{
    for (int i = 0; i < sc->n; i++) {
        const sr_prim *p = &sc->p[i];
        if (fabsf(x - p->cx) > p->reach || fabsf(y - p->cy) > p->reach)
            continue;
        float q;
        float a = sr_shape_alpha(p, x, y, pix, &q) * p->alpha;
        if (a <= 0)
            continue;
        a *= sr_clip_alpha(sc, p, x, y, pix);
        if (a <= 0)
            continue;
        float m = 1.0f - p->shade * fminf(q * q * q * q, 1.0f);
        if (p->stripes > 0) /* hair strands */
            m *= 1.0f + p->stripes * sinf(x * 1.7f + 2.5f * sinf(y * 0.21f));
        for (int k = 0; k < 3; k++)
            c[k] += (p->rgb.c[k] * m - c[k]) * a;
    }
}

/* ------------------------------------------------------------ the face */

/* Where things move under yaw and pitch: a feature at depth d in front of
 * the ears shifts by sin(yaw) d sideways and sin(pitch) d vertically. */
typedef struct sr_view {
    float yaw_s, pitch_s;
} sr_view;

static float sr_dx(const sr_view *v, float depth)
{
    return v->yaw_s * depth;
}

static float sr_dy(const sr_view *v, float depth)
{
    return v->pitch_s * depth;
}

static void sr_draw_head(sr_scene *sc, const sr_face *f, const sr_view *v, int *face_idx)
{
    if (f->style == SR_LONG) {
        sr_prim *p = sr_add(sc, SR_ELLIPSE, SR_CX + sr_dx(v, -3), f->face_cy - 4,
                            f->face_rx * 1.2f + f->volume, f->face_ry_top + f->volume, f->hair, 1);
        if (p) {
            p->ry2 = f->face_ry_bot + f->hair_len;
            p->stripes = 0.07f;
            p->shade = 0.3f;
        }
    }
    sr_add(sc, SR_ELLIPSE, SR_CX + sr_dx(v, -2), f->face_cy + f->face_ry_bot * 0.8f, f->neck_w,
           34, sr_scale(f->skin, 0.78f), 1);
    for (int s = -1; s <= 1; s += 2) {
        sr_prim *e = sr_add(sc, SR_ELLIPSE, SR_CX + s * (f->face_rx - 1.5f) + sr_dx(v, -8),
                            f->ear_y + sr_dy(v, -4), f->ear_rx, f->ear_ry,
                            sr_scale(f->skin, 0.92f), 1);
        if (e)
            e->shade = 0.35f;
    }
    *face_idx = sc->n;
    sr_prim *p = sr_add(sc, SR_ELLIPSE, SR_CX + sr_dx(v, 1), f->face_cy + sr_dy(v, 1), f->face_rx,
                        f->face_ry_top, f->skin, 1);
    if (p) {
        p->ry2 = f->face_ry_bot;
        p->taper = f->chin_taper;
        p->shade = 0.28f;
    }
}

static void sr_draw_skin_details(sr_scene *sc, const sr_face *f, const sr_view *v)
{
    for (int s = -1; s <= 1 && f->blush > 0; s += 2)
        sr_add(sc, SR_BLOB, SR_CX + s * f->eye_dx * 1.15f + sr_dx(v, 5), f->eye_y + 15, 6, 4.5f,
               sr_mix(f->skin, f->lip, 0.8f), f->blush);
    /* the side turned away from the camera falls into shadow */
    sr_add(sc, SR_BLOB, SR_CX - (v->yaw_s > 0 ? 1 : -1) * f->face_rx * 0.85f, f->face_cy, 10, 40,
           sr_scale(f->skin, 0.6f), fminf(fabsf(v->yaw_s) * 1.6f, 0.6f));
}

static void sr_draw_beard(sr_scene *sc, const sr_face *f, const sr_view *v, int face_idx)
{
    if (!f->beard)
        return;
    sr_prim *p = sr_add(sc, SR_ELLIPSE, SR_CX + sr_dx(v, 4), f->mouth_y + 4, f->face_rx, 30,
                        f->hair, f->beard_alpha);
    if (!p)
        return;
    p->clip = face_idx;
    p->clip_dir = -1;
    p->clip_y = f->nose_tip + 4;
    p->clip_k = -0.006f;
    p->clip_x = SR_CX + sr_dx(v, 4);
    p->stripes = 0.09f;
}

static void sr_draw_mark(sr_scene *sc, const sr_mark *m, const sr_view *v, int face_idx)
{
    float x = m->x + sr_dx(v, 4), y = m->y + sr_dy(v, 4);
    sr_prim *p = NULL;
    if (m->kind == SR_MOLE) {
        p = sr_add(sc, SR_ELLIPSE, x, y, m->size, m->size, m->rgb, 0.9f);
    } else if (m->kind == SR_BIRTHMARK) {
        p = sr_add(sc, SR_BLOB, x, y, m->size, m->size * 0.6f, m->rgb, 0.45f);
        sr_rotate(p, m->angle);
    } else if (m->kind == SR_SCAR) {
        p = sr_add(sc, SR_CURVE, x, y, m->size, 0, m->rgb, 0.8f);
        sr_rotate(p, m->angle);
        sr_curve_shape(p, 0.03f, 0.6f, 0.8f);
    } else {
        uint64_t h = m->dots;
        for (int i = 0; i < 12; i++) { /* a freckle cluster from its own seed */
            h = h * 6364136223846793005ull + 1442695040888963407ull;
            float fx = x + ((float)((h >> 33) & 1023) / 1023.0f - 0.5f) * 4 * m->size;
            float fy = y + ((float)((h >> 43) & 1023) / 1023.0f - 0.5f) * 2 * m->size;
            sr_prim *d = sr_add(sc, SR_ELLIPSE, fx, fy, 0.8f, 0.8f, m->rgb, 0.55f);
            if (d)
                d->clip = face_idx;
        }
    }
    if (p)
        p->clip = face_idx;
}

static void sr_draw_eye(sr_scene *sc, const sr_face *f, const sr_shot *s, const sr_view *v,
                        int side)
{
    float ex = SR_CX + side * f->eye_dx + sr_dx(v, 5), ey = f->eye_y + sr_dy(v, 5);
    float ry = fmaxf(f->eye_ry * s->eye_open, 0.35f), tilt = -side * f->eye_tilt;
    sr_add(sc, SR_BLOB, ex, ey - 1, f->eye_rx * 1.1f, f->eye_ry * 1.6f, sr_scale(f->skin, 0.7f),
           0.35f);
    int sclera = sc->n;
    sr_prim *p = sr_add(sc, SR_ELLIPSE, ex, ey, f->eye_rx, ry, sr_rgb8(238, 234, 226), 1);
    sr_rotate(p, tilt);
    float ir = fminf(f->eye_rx * 0.55f, f->eye_ry * 1.1f);
    float ix = ex + s->gaze * f->eye_rx * 0.35f + sr_dx(v, 1);
    sr_prim *iris = sr_add(sc, SR_ELLIPSE, ix, ey, ir, ir, f->iris, 1);
    sr_prim *pupil = sr_add(sc, SR_ELLIPSE, ix, ey, ir * 0.45f, ir * 0.45f, sr_rgb8(12, 10, 10), 1);
    sr_prim *glint = sr_add(sc, SR_ELLIPSE, ix + ir * 0.35f, ey - ir * 0.35f, 0.6f, 0.6f,
                            sr_rgb8(255, 255, 255), 0.8f);
    sr_prim *cl[3] = {iris, pupil, glint};
    for (int i = 0; i < 3; i++)
        if (cl[i])
            cl[i]->clip = sclera;
    sr_prim *lid = sr_add(sc, SR_CURVE, ex, ey - ry * 0.85f, f->eye_rx * 1.05f, 0,
                          sr_scale(f->brow, 0.5f), 0.9f);
    sr_rotate(lid, tilt);
    sr_curve_shape(lid, ry * 0.85f / (f->eye_rx * f->eye_rx), 0.8f, 0.5f);
}

static void sr_draw_brows(sr_scene *sc, const sr_face *f, const sr_shot *s, const sr_view *v)
{
    for (int side = -1; side <= 1; side += 2) {
        float bx = SR_CX + side * (f->eye_dx + 1) + sr_dx(v, 5);
        float by = f->eye_y - f->eye_ry - f->brow_gap - s->brow_raise + sr_dy(v, 5);
        sr_prim *p = sr_add(sc, SR_CURVE, bx, by, f->brow_len, 0, f->brow, 0.95f);
        sr_rotate(p, -side * f->brow_angle);
        sr_curve_shape(p, f->brow_arch / (f->brow_len * f->brow_len), f->brow_thick, 0.55f);
    }
}

static void sr_draw_nose(sr_scene *sc, const sr_face *f, const sr_view *v)
{
    float nx = SR_CX + sr_dx(v, 9), ny = f->nose_tip + sr_dy(v, 9);
    float len = (f->nose_tip - f->nose_top) * 0.5f;
    float side = v->yaw_s > 0 ? -1.0f : 1.0f; /* shadow on the far side */
    sr_prim *p = sr_add(sc, SR_CURVE, SR_CX + sr_dx(v, 6) + side * f->nose_w * 0.35f,
                        f->nose_top + len + sr_dy(v, 6), len, 0, sr_scale(f->skin, 0.72f), 0.25f);
    sr_rotate(p, (float)(SR_PI / 2));
    sr_curve_shape(p, side * 0.004f, 1.5f, 0.6f);
    sr_add(sc, SR_BLOB, nx, ny - 1, f->nose_w * 0.4f, 2.5f, sr_scale(f->skin, 1.12f), 0.5f);
    for (int s = -1; s <= 1; s += 2) {
        sr_prim *n = sr_add(sc, SR_ELLIPSE, nx + s * f->nose_w * 0.38f, ny + 1.5f, f->nostril,
                            f->nostril * 0.6f, sr_scale(f->skin, 0.42f), 0.85f);
        sr_rotate(n, s * 0.3f);
    }
    sr_prim *b = sr_add(sc, SR_CURVE, nx, ny + 2.8f, f->nose_w * 0.45f, 0,
                        sr_scale(f->skin, 0.62f), 0.45f);
    sr_curve_shape(b, -0.03f, 0.55f, 0.6f);
}

static void sr_draw_mouth(sr_scene *sc, const sr_face *f, const sr_shot *s, const sr_view *v)
{
    float mx = SR_CX + sr_dx(v, 6), my = f->mouth_y + sr_dy(v, 6), w = f->mouth_w;
    float k = -(f->smile + s->smile) * 0.6f / (w * w), open = s->mouth_open;
    if (open > 0) {
        int hole = sc->n;
        sr_add(sc, SR_ELLIPSE, mx, my + open * 0.5f, w * 0.75f, open, sr_rgb8(70, 20, 25), 1);
        sr_prim *t = sr_add(sc, SR_ELLIPSE, mx, my - open * 0.3f, w * 0.6f, open * 0.5f,
                            sr_rgb8(235, 230, 220), 1);
        if (t)
            t->clip = hole;
    }
    sr_prim *up = sr_add(sc, SR_CURVE, mx, my - f->lip_up * 0.8f, w * 0.95f, 0, f->lip, 1);
    sr_curve_shape(up, k, f->lip_up * 0.7f, 0.85f);
    sr_prim *lo = sr_add(sc, SR_CURVE, mx, my + open + f->lip_lo * 0.7f, w * 0.8f, 0,
                         sr_scale(f->lip, 1.06f), 1);
    sr_curve_shape(lo, k * 0.8f, f->lip_lo * 0.65f, 0.85f);
    sr_prim *line = sr_add(sc, SR_CURVE, mx, my + open * 0.5f, w, 0, sr_scale(f->lip, 0.45f), 0.9f);
    sr_curve_shape(line, k, 0.55f, 0.5f);
    if (f->moustache) {
        sr_prim *m = sr_add(sc, SR_CURVE, mx, my - f->lip_up * 1.6f - 2.2f, w * 1.05f, 0, f->hair,
                            0.95f);
        sr_curve_shape(m, 0.02f, 2.2f, 0.6f);
        if (m)
            m->stripes = 0.07f;
    }
}

static void sr_draw_hair(sr_scene *sc, const sr_face *f, const sr_shot *s, const sr_view *v)
{
    if (f->style == SR_BALD) {
        for (int side = -1; side <= 1; side += 2) {
            sr_prim *p = sr_add(sc, SR_BLOB, SR_CX + side * f->face_rx * 0.92f + sr_dx(v, -4),
                                f->eye_y - 8, 4, 12, f->hair, 0.7f);
            if (p)
                p->stripes = 0.07f;
        }
        return;
    }
    sr_prim *p = sr_add(sc, SR_ELLIPSE, SR_CX + sr_dx(v, 1) + f->parting * 0.1f,
                        f->face_cy - 3 + sr_dy(v, -2), f->face_rx * 1.07f + f->volume,
                        f->face_ry_top * 1.04f + f->volume, f->hair, 1);
    if (!p)
        return;
    p->clip_dir = 1;
    p->clip_y = f->hairline + s->hair_dy + sr_dy(v, 3);
    p->clip_k = f->hairline_k;
    p->clip_x = SR_CX + f->parting + sr_dx(v, 3);
    p->stripes = 0.07f;
    p->shade = 0.25f;
}

static void sr_draw_glasses(sr_scene *sc, const sr_face *f, const sr_view *v)
{
    if (!f->glasses)
        return;
    float gy = f->eye_y + 0.5f + sr_dy(v, 7);
    for (int side = -1; side <= 1; side += 2) {
        float gx = SR_CX + side * f->eye_dx + sr_dx(v, 7);
        if (f->sunglasses)
            sr_add(sc, SR_ELLIPSE, gx, gy, f->glass_rx, f->glass_ry, sr_rgb8(20, 22, 28), 0.85f);
        sr_prim *ring = sr_add(sc, SR_RING, gx, gy, f->glass_rx, f->glass_ry, f->frame, 1);
        if (ring)
            ring->thick = f->glass_thick;
        float x_out = gx + side * f->glass_rx, x_ear = SR_CX + side * f->face_rx + sr_dx(v, -6);
        sr_prim *arm = sr_add(sc, SR_CURVE, (x_out + x_ear) * 0.5f, gy - 1,
                              fabsf(x_ear - x_out) * 0.5f + 0.5f, 0, f->frame, 1);
        sr_curve_shape(arm, 0, f->glass_thick * 0.8f, 0);
    }
    float gap = f->eye_dx - f->glass_rx;
    sr_prim *bridge = sr_add(sc, SR_CURVE, SR_CX + sr_dx(v, 8), gy - 1.5f, fmaxf(gap, 1) + 0.5f,
                             0, f->frame, 1);
    sr_curve_shape(bridge, 0.05f, f->glass_thick * 0.8f, 0);
}

static void sr_build(sr_scene *sc, const sr_face *f, const sr_shot *s)
{
    sr_view v = {sinf(s->yaw), sinf(s->pitch)};
    int face_idx;
    sc->n = 0;
    sr_draw_head(sc, f, &v, &face_idx);
    sr_draw_skin_details(sc, f, &v);
    sr_draw_beard(sc, f, &v, face_idx);
    for (int i = 0; i < f->n_marks; i++)
        sr_draw_mark(sc, &f->marks[i], &v, face_idx);
    sr_draw_eye(sc, f, s, &v, -1);
    sr_draw_eye(sc, f, s, &v, 1);
    sr_draw_brows(sc, f, s, &v);
    sr_draw_nose(sc, f, &v);
    sr_draw_mouth(sc, f, s, &v);
    sr_draw_hair(sc, f, s, &v);
    sr_draw_glasses(sc, f, &v);
    sr_finish(sc);
}

/* ------------------------------------------------------------ raster */

/* Background at crop point (x, y): a two-colour gradient and soft blobs of
 * clutter, fixed to the camera (it does not move with the face). */
static void sr_background(const sr_shot *s, float x, float y, float c[3])
{
    float t = 0.5f + ((x / SR_W - 0.5f) * cosf(s->bg_dir) + (y / SR_H - 0.5f) * sinf(s->bg_dir));
    t = fmaxf(0, fminf(1, t));
    for (int k = 0; k < 3; k++)
        c[k] = s->bg.c[k] + (s->bg2.c[k] - s->bg.c[k]) * t;
    for (int i = 0; i < 3; i++) {
        const sr_blob_bg *b = &s->blobs[i];
        float d2 = ((x - b->x) * (x - b->x) + (y - b->y) * (y - b->y)) / (b->s * b->s);
        float a = 0.7f * expf(-0.5f * d2);
        for (int k = 0; k < 3; k++)
            c[k] += (b->rgb.c[k] - c[k]) * a;
    }
}

static void sr_occluder(const sr_shot *s, float x, float y, float pix, float c[3])
{
    if (!s->occluder)
        return;
    sr_prim o = {.kind = SR_ELLIPSE, .cx = s->occ_x, .cy = s->occ_y, .rx = s->occ_rx,
                 .ry = s->occ_ry, .ca = 1, .clip = -1};
    float q;
    float a = sr_shape_alpha(&o, x, y, pix, &q);
    float m = 1.0f - 0.3f * fminf(q * q, 1.0f);
    for (int k = 0; k < 3; k++)
        c[k] += (s->occ_rgb.c[k] * m - c[k]) * a;
}

/* The inverse of the pose: crop point -> reference frame. The forward map
 * is crop = pivot + t + scale R(angle) diag(cos yaw, 1) (ref - pivot). */
typedef struct sr_inverse {
    float m00, m01, m10, m11, ox, oy;
} sr_inverse;

static sr_inverse sr_pose_inverse(const sr_shot *s)
{
    float c = cosf(s->angle), sn = sinf(s->angle), squash = cosf(s->yaw);
    sr_inverse inv;
    inv.m00 = c / (s->scale * squash);
    inv.m01 = sn / (s->scale * squash);
    inv.m10 = -sn / s->scale;
    inv.m11 = c / s->scale;
    inv.ox = SR_CX + s->tx;
    inv.oy = SR_CY + s->ty;
    return inv;
}

static void sr_rasterise(const sr_scene *sc, const sr_shot *s, int w, int h, float *rgb)
{
    sr_inverse inv = sr_pose_inverse(s);
    float sx = SR_W / (float)w, sy = SR_H / (float)h;
    float pix = 0.5f * (sx + sy) / s->scale; /* reference units per pixel */
    for (int py = 0; py < h; py++)
        for (int px = 0; px < w; px++) {
            float x = ((float)px + 0.5f) * sx, y = ((float)py + 0.5f) * sy;
            float *c = rgb + ((size_t)py * (size_t)w + (size_t)px) * 3;
            sr_background(s, x, y, c);
            float dx = x - inv.ox, dy = y - inv.oy;
            sr_shade_point(sc, SR_CX + inv.m00 * dx + inv.m01 * dy,
                           SR_CY + inv.m10 * dx + inv.m11 * dy, pix, c);
            sr_occluder(s, x, y, 0.5f * (sx + sy), c);
        }
}

/* ------------------------------------------------------------ camera */

static void sr_lighting(const sr_shot *s, int w, int h, float *rgb)
{
    float lc = cosf(s->light_dir), ls = sinf(s->light_dir);
    for (int py = 0; py < h; py++)
        for (int px = 0; px < w; px++) {
            float u = ((float)px + 0.5f) / (float)w - 0.5f;
            float v = ((float)py + 0.5f) / (float)h - 0.5f;
            float gain = 1.0f + 2.0f * s->light * (u * lc + v * ls);
            float *c = rgb + ((size_t)py * (size_t)w + (size_t)px) * 3;
            for (int k = 0; k < 3; k++) {
                float x = ((c[k] * gain - 0.5f) * s->contrast + 0.5f + s->brightness);
                c[k] = x * (1.0f + s->cast[k]);
            }
        }
}

/* Separable Gaussian blur with clamped edges; tmp holds w*h*3 floats. */
static void sr_blur(float sigma, int w, int h, float *rgb, float *tmp)
{
    if (sigma <= 0.05f)
        return;
    float kern[16];
    int r = (int)ceilf(2.5f * sigma);
    r = r > 7 ? 7 : r;
    float sum = 0;
    for (int i = -r; i <= r; i++)
        sum += kern[i + r] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int pass = 0; pass < 2; pass++) {
        const float *src = pass ? tmp : rgb;
        float *dst = pass ? rgb : tmp;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < 3; k++) {
                    float acc = 0;
                    for (int i = -r; i <= r; i++) {
                        int xx = pass ? x : x + i, yy = pass ? y + i : y;
                        xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                        yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
                        acc += kern[i + r] * src[((size_t)yy * (size_t)w + (size_t)xx) * 3 + k];
                    }
                    dst[((size_t)y * (size_t)w + (size_t)x) * 3 + k] = acc / sum;
                }
    }
}

static void sr_quantise(sr_rng *r, float noise, const float *rgb, size_t n, unsigned char *px)
{
    for (size_t i = 0; i < n; i++) {
        float v = (rgb[i] + sr_normal(r, noise)) * 255.0f;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        px[i] = (unsigned char)lrintf(v);
    }
}

/* ------------------------------------------------------------ entry */

sc_status sc_synth_render(const sc_synth_config *cfg, int identity, int index, sc_image *out,
                          sc_error *err)
{
    *out = (sc_image){0};
    if (cfg->width < 8 || cfg->height < 8 || cfg->width > SC_SYNTH_MAX_SIDE ||
        cfg->height > SC_SYNTH_MAX_SIDE)
        return sc_fail(err, SC_ERR_ARG, "synth: image size %dx%d not in 8..%d", cfg->width,
                       cfg->height, SC_SYNTH_MAX_SIDE);
    if (identity < 0 || index < 0)
        return sc_fail(err, SC_ERR_ARG, "synth: identity %d, image %d", identity, index);
    int w = cfg->width, h = cfg->height;
    size_t n = (size_t)w * (size_t)h * 3;
    sr_face face;
    sr_shot shot;
    sr_scene *scene = malloc(sizeof *scene);
    float *buf = malloc(2 * n * sizeof *buf);
    sc_status st = scene && buf ? sc_image_alloc(out, w, h, 3, err)
                                : sc_fail(err, SC_ERR_NOMEM, "synth: out of memory");
    if (st == SC_OK) {
        sr_face_traits(cfg->seed, identity, &face);
        sr_shot_draw(cfg->seed, identity, index, &shot);
        sr_build(scene, &face, &shot);
        sr_rasterise(scene, &shot, w, h, buf);
        sr_lighting(&shot, w, h, buf);
        sr_blur(shot.blur * (float)w / 48.0f, w, h, buf, buf + n);
        sr_rng noise;
        sr_seed(&noise, cfg->seed, (uint64_t)identity, (uint64_t)index + 1, 3);
        sr_quantise(&noise, shot.noise, buf, n, out->px);
    }
    free(scene);
    free(buf);
    return st;
}
