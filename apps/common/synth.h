/* Seeded synthetic face-like identities, for the demo and for tests that need
 * a face set that is learnable but not trivial, generated in seconds.
 *
 * Each identity has persistent traits drawn from (seed, identity): face
 * shape and size, skin tone, eye spacing, size, tilt and colour, brow shape,
 * angle and thickness, nose length and width, mouth width, lips and resting
 * expression, hair style, hairline, parting and colour, ears, glasses,
 * beard or moustache, and a few marks (moles, freckles, birthmarks, scars).
 * Each image draws, from (seed, identity, image), a pose (rotation,
 * translation, scale, yaw by horizontal squash with the nose, eyes and mouth
 * shifting by their depth, a little pitch), an expression (smile, open
 * mouth, eye openness, raised brows), a cluttered background, sometimes an
 * occluder, lighting (brightness, contrast, a directional gradient), a
 * colour cast, blur and Gaussian pixel noise.
 *
 * Faces are drawn like a SphereFace aligned crop: in a 96 x 112 reference
 * frame the eyes sit near (30, 52) and (66, 52), the nose tip near (48, 72)
 * and the mouth near y = 92, scaled to the requested size. Shapes are
 * anti-aliased from signed distances, in floating point, then quantised.
 *
 * An image depends only on (seed, identity, image number, width, height),
 * never on the order of generation or on the other settings, and the PRNG is
 * our own: the same build and seed give byte-identical files.
 *
 * Output folder layout (identity i is named "id%04d", LFW-style names so that
 * pairs.txt works with sc_lfw_image_path):
 *   train/<name>/<name>_%04d.png     per_identity images, numbered from 1
 *   train.txt                        "train/<name>/<name>_0001.png <label>", label = i
 *   holdout/<name>/<name>_%04d.png   identities identities..identities+holdout-1
 *   pairs.txt                        LFW View 2 layout over the holdout identities
 * pairs.txt splits the holdout identities into `folds` disjoint groups; fold f
 * holds pairs_per_fold matched then pairs_per_fold mismatched pairs of its
 * group, all distinct, sorted. With holdout 0 there is no pairs.txt (an old
 * one is removed). */
#ifndef SC_SYNTH_H
#define SC_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "sc_error.h"

#define SC_SYNTH_DEFAULT_PAIRS 60
#define SC_SYNTH_MAX_IDENTITIES 1000000
#define SC_SYNTH_MAX_PER_IDENTITY 9999
#define SC_SYNTH_MAX_SIDE 1024

typedef struct sc_synth_config {
    int identities;     /* training identities, labels 0..identities-1 (200) */
    int per_identity;   /* images per identity, train and holdout alike (20) */
    int holdout;        /* extra identities, only in pairs.txt; 0: no pairs.txt (60) */
    int height, width;  /* image size (56 x 48) */
    uint64_t seed;      /* (1) */
    int folds;          /* pairs.txt folds (10) */
    int pairs_per_fold; /* matched pairs per fold, as many mismatched; 0: the
                           smaller of SC_SYNTH_DEFAULT_PAIRS and what the
                           holdout set can supply */
} sc_synth_config;

/* What sc_synth_generate wrote. */
typedef struct sc_synth_summary {
    size_t train_images, holdout_images;
    int folds, pairs_per_fold;  /* 0, 0 when no pairs.txt was written */
} sc_synth_summary;

/* Called after every written image: done of total images. */
typedef void (*sc_synth_progress_fn)(void *user, size_t done, size_t total);

/* The defaults given in parentheses above. */
void sc_synth_config_default(sc_synth_config *cfg);

/* SC_ERR_ARG with a one-line reason when a setting is out of range, or when
 * the holdout set cannot supply the folds and pairs asked for. */
sc_status sc_synth_check(const sc_synth_config *cfg, sc_error *err);

/* The pairs per fold that generation will use (resolving 0), or 0 when
 * holdout is 0. The config must pass sc_synth_check. */
int sc_synth_pairs_per_fold(const sc_synth_config *cfg);

/* "id0042" for identity 42 into dst (cap bytes, at least 16). */
void sc_synth_identity_name(int identity, char *dst, size_t cap);

/* Renders image `index` (0-based) of identity `identity` (training
 * identities first, then holdout ones) as a width x height RGB image, which
 * the caller frees with sc_image_free. */
sc_status sc_synth_render(const sc_synth_config *cfg, int identity, int index, sc_image *out,
                          sc_error *err);

/* Writes the whole set under out_dir (created with its parents if needed;
 * existing files of the same names are replaced). progress may be NULL.
 * SC_ERR_IO naming the path when a folder or file cannot be written. */
sc_status sc_synth_generate(const sc_synth_config *cfg, const char *out_dir,
                            sc_synth_progress_fn progress, void *user, sc_synth_summary *summary,
                            sc_error *err);

#endif
