/* sc_common: what the SphereCL apps share above the libraries: image
 * decoding/encoding and network-input conversion, 5-point face alignment and
 * landmark files, Caffe ImageData list files and the threaded batch loader,
 * the "gtext" golden-data reader, the LFW verification protocol, the
 * synthetic identity generator, SHA-256, whole-file reading, and the MTCNN
 * face detector (with its MATLAB resampling, box maths, photo lists and
 * drawing). */
#ifndef SC_COMMON_H
#define SC_COMMON_H

#include <stddef.h>

#include "align.h"
#include "face_draw.h"
#include "gtext.h"
#include "image.h"
#include "image_input.h"
#include "image_list.h"
#include "image_resize_matlab.h"
#include "image_write.h"
#include "landmarks.h"
#include "loader.h"
#include "mtcnn.h"
#include "mtcnn_boxes.h"
#include "idx.h"
#include "photo_list.h"
#include "plot.h"
#include "sc_error.h"
#include "sha256.h"
#include "synth.h"
#include "train_log.h"
#include "verification.h"

/* Reads a whole regular file into a malloc'd buffer with one extra NUL byte
 * after the data, so text parsers may treat it as a string. Files larger than
 * max_size fail with SC_ERR_FORMAT (the caller knows what is plausible);
 * missing, unreadable or non-regular files with SC_ERR_IO. Messages start
 * with the path. On failure *data is NULL. */
sc_status sc_read_file(const char *path, size_t max_size, unsigned char **data, size_t *size,
                       sc_error *err);

#endif
