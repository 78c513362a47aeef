/* Face verification on LFW-style pair lists: the View 2 "pairs.txt" reader
 * and the 10-fold protocol of SphereFace / MobileFaceNet_Pytorch lfw_eval.py.
 *
 * pairs.txt layout (LFW View 2, also View 1's pairsDev*.txt):
 *
 *   10<TAB>300                 header: folds, pairs of each kind per fold
 *   Abel_Pacheco 1 4           fold 0: 300 matched pairs "name n1 n2"
 *   ...
 *   Abdel_Madi_Shabneh 1 Dean_Barker 1    then 300 mismatched "name1 n1 name2 n2"
 *   ...                        then fold 1, ... fold 9
 *
 * A one-number header N (View 1) means one fold of N matched + N mismatched.
 * As in lfw_eval.py, a pair's fold comes from its position in the file.
 * Fields may be separated by tabs or spaces; blank lines and CRLF ends are
 * accepted. Image numbers are 1-based: pair "Name 4" is <Name>/<Name>_0004.jpg.
 *
 * The protocol, for each test fold f of F:
 *   1. mu = mean feature over BOTH images of every pair outside fold f;
 *   2. every feature x becomes (x - mu) / |x - mu|, the score is the dot
 *      product (cosine) of a pair's two centred features;
 *   3. on the pairs outside f, each threshold t_k = k / steps for
 *      k = -steps..steps (steps = 10000: step 1e-4) scores
 *      #{same: score > t} + #{different: score < t}; the chosen threshold is
 *      the mean of ALL t_k reaching the highest count;
 *   4. the test accuracy of fold f counts a pair correct when it is same and
 *      score > t, or different and score < t. A score exactly at t is wrong
 *      either way, as in lfw_eval.py.
 * Reported: per-fold accuracy and threshold, their mean and standard
 * deviation (population, ddof = 0, as numpy's std).
 *
 * Numerics: features are float, everything else is double. t_k is
 * (double)k / steps, exactly numpy's arange(-steps, steps + 1) / steps. The
 * mean of the maximising thresholds is sum(k) / (steps * count), with sum(k)
 * an exact integer, i.e. the correctly rounded value of the exact mean
 * (numpy's float summation may differ from it in the last bit). A pair whose
 * centred feature has zero length gets a NaN score and, as in numpy, is never
 * counted correct. The threshold search sorts the training scores once and
 * sweeps the grid: O(n log n + steps), with the same comparisons as the
 * brute-force loop over every t_k, so it gives identical results. */
#ifndef SC_VERIFICATION_H
#define SC_VERIFICATION_H

#include <stddef.h>

#include "sc_error.h"

/* ------------------------------------------------------------ pairs.txt */

typedef struct sc_lfw_pair {
    const char *name1, *name2; /* name2 == name1 for a matched pair */
    int n1, n2;                /* 1-based image numbers */
    int same;                  /* 1: matched (same person), 0: mismatched */
    int fold;                  /* 0-based, from the position in the file */
    int line;                  /* line in the file, for messages */
} sc_lfw_pair;

typedef struct sc_lfw_pairs {
    char *file;          /* file name, for messages */
    sc_lfw_pair *items;  /* in file order */
    size_t count;        /* folds * 2 * per_fold */
    int folds;           /* from the header */
    int per_fold;        /* matched (and as many mismatched) pairs per fold */
    char *text;          /* storage the names point into */
} sc_lfw_pairs;

/* Reads a pairs file. SC_ERR_IO when it cannot be read; SC_ERR_PARSE naming
 * file:line for a bad header, a line with the wrong number of fields for its
 * position (a mismatched pair where a matched one belongs, ...), a name or
 * image number that is not valid, and too few or too many pairs for the
 * header. On failure *pairs is left empty. */
sc_status sc_lfw_pairs_load(const char *path, sc_lfw_pairs *pairs, sc_error *err);

/* The same for len bytes of text; name is used in messages. */
sc_status sc_lfw_pairs_parse(const char *text, size_t len, const char *name, sc_lfw_pairs *pairs,
                             sc_error *err);

/* Frees everything and empties the struct; safe to call twice. */
void sc_lfw_pairs_free(sc_lfw_pairs *pairs);

/* Writes "<root>/<name>/<name>_%04d.<ext>" into dst (cap bytes); an empty or
 * NULL root gives the relative path, a NULL ext means "jpg". SC_ERR_ARG when
 * it does not fit or n < 0. */
sc_status sc_lfw_image_path(const char *root, const char *name, int n, const char *ext,
                            char *dst, size_t cap, sc_error *err);

/* ------------------------------------------------------------ protocol */

#define SC_VERIFY_STEPS 10000   /* threshold grid k / 10000, as lfw_eval.py */
#define SC_VERIFY_MAX_STEPS 10000000
#define SC_VERIFY_MAX_FOLDS 64

typedef struct sc_verify_result {
    int folds;
    double accuracy[SC_VERIFY_MAX_FOLDS];   /* test accuracy of each fold, 0..1 */
    double threshold[SC_VERIFY_MAX_FOLDS];  /* threshold chosen for each fold */
    size_t correct[SC_VERIFY_MAX_FOLDS];    /* correct test pairs */
    size_t total[SC_VERIFY_MAX_FOLDS];      /* test pairs in the fold */
    size_t train_correct[SC_VERIFY_MAX_FOLDS]; /* best count on the other folds */
    size_t train_total[SC_VERIFY_MAX_FOLDS];
    double mean, std;                       /* of accuracy[]; std with ddof = 0 */
} sc_verify_result;

/* The full protocol. feat1 and feat2 hold n rows of dim floats (row i: the
 * features of pair i's two images, normally concat(f(x), f(flip x))); same[i]
 * is nonzero for a matched pair; fold[i] in 0..F-1, where F = max fold + 1
 * must be 2..SC_VERIFY_MAX_FOLDS and every fold must hold pairs. steps is the
 * grid resolution (SC_VERIFY_STEPS for the standard protocol).
 * SC_ERR_ARG for bad sizes or folds, SC_ERR_NUMERIC for a NaN/Inf feature
 * (naming the pair), SC_ERR_NOMEM. */
sc_status sc_verify_lfw(const float *feat1, const float *feat2, size_t n, size_t dim,
                        const int *same, const int *fold, int steps, sc_verify_result *res,
                        sc_error *err);

/* The same protocol on fixed scores (no per-fold centring): threshold from
 * the other folds, accuracy on each fold. NaN scores count as wrong. */
sc_status sc_verify_lfw_scores(const double *scores, const int *same, const int *fold, size_t n,
                               int steps, sc_verify_result *res, sc_error *err);

/* Step 1-2 for one test fold: scores[i] for all n pairs, centred on the
 * mean over pairs whose fold differs from test_fold. */
sc_status sc_verify_centred_scores(const float *feat1, const float *feat2, size_t n, size_t dim,
                                   const int *fold, int test_fold, double *scores, sc_error *err);

/* Step 3 on n scores: *threshold is the mean of all grid thresholds with
 * the highest count of correct pairs, *best_correct that count (either may
 * be NULL). SC_ERR_ARG when n is 0 or steps is out of 1..SC_VERIFY_MAX_STEPS. */
sc_status sc_verify_threshold(const double *scores, const int *same, size_t n, int steps,
                              double *threshold, size_t *best_correct, sc_error *err);

/* Pairs counted correct at threshold t (same: score > t; different: score < t). */
size_t sc_verify_count_correct(const double *scores, const int *same, size_t n, double t);

#endif
