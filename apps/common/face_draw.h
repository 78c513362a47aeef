/* Drawing detections on a photo for a person to look at (sphere-detect
 * --draw): each face's box as a 2-pixel outline and its five landmarks as
 * small crosses. */
#ifndef SC_FACE_DRAW_H
#define SC_FACE_DRAW_H

#include <stddef.h>

#include "image.h"
#include "mtcnn.h"

/* Draws on img (RGB, 3 channels) in place: the chosen face (index `chosen`;
 * n or more for none) in green, the others in yellow, every landmark in red.
 * Whatever falls outside the photo is clipped. */
void sc_face_draw(sc_image *img, const sc_face *faces, size_t n, size_t chosen);

#endif
