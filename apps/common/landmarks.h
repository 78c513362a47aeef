/* 5-point landmark files: one image per line,
 *
 *   relpath x1 y1 x2 y2 x3 y3 x4 y4 x5 y5
 *
 * (left eye, right eye, nose, left mouth corner, right mouth corner; 0-based
 * pixel positions in the image's own frame), the layout of
 * ../shared/data/lfw/lfw_landmark_150px.txt, whose relpath includes the
 * person folder ("Aaron_Eckhart/Aaron_Eckhart_0001.jpg"). Blank lines and
 * lines starting with '#' are skipped; CRLF ends are accepted. Fields are
 * separated by tabs when the line has one (so a path may contain spaces, as
 * in the LFW file's tab-separated layout), otherwise by runs of spaces.
 *
 * A bad line does not fail the file: a batch tool reports it and goes on.
 * Each entry carries its own problem (wrong field count, a value that is not
 * a number or not finite, degenerate points (sc_align_check_points), a path
 * that is absolute or climbs out with "..", the same path as an earlier good
 * line), with file:line. */
#ifndef SC_LANDMARKS_H
#define SC_LANDMARKS_H

#include <stddef.h>

#include "align.h"
#include "sc_error.h"

typedef struct sc_landmark_entry {
    const char *path;                 /* relpath, NUL-terminated; "" on a bad line */
    sc_point2 pt[SC_ALIGN_POINTS];
    int line;                         /* 1-based line in the file */
    char *problem;                    /* NULL, or "file:line: why" for a bad line */
} sc_landmark_entry;

typedef struct sc_landmark_file {
    char *file;                       /* the file name, for messages */
    sc_landmark_entry *items;         /* every non-blank, non-comment line, in order */
    size_t count;
    size_t bad;                       /* entries with a problem */
    char *text;                       /* storage the paths point into */
} sc_landmark_file;

/* Reads a landmark file. SC_ERR_IO when it cannot be read, SC_ERR_NOMEM;
 * bad lines are entries with a problem, not errors. On failure *lf is left
 * empty. */
sc_status sc_landmarks_load(const char *path, sc_landmark_file *lf, sc_error *err);

/* The same for len bytes of text (copied, so text may go away after the
 * call); name is used in messages. */
sc_status sc_landmarks_parse(const char *text, size_t len, const char *name, sc_landmark_file *lf,
                             sc_error *err);

void sc_landmarks_free(sc_landmark_file *lf);

#endif
