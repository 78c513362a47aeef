/* libFuzzer target for the image decoders (JPEG through libjpeg-turbo, PNG
 * through libpng, our own PGM/PPM) and the header probe.
 *
 * Checks: no crash, leak or huge allocation; a decoded image has the size the
 * probe reported and 1 or 3 channels as asked; the first byte of the input
 * picks the channels asked for (0, 1 or 3). */
#include <stdint.h>
#include <stdlib.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int wants[3] = {0, 1, 3};
    int want = size ? wants[data[0] % 3] : 0;
    sc_error err;
    int pw = 0, ph = 0;
    sc_status probed = sc_image_probe_memory(data, size, "fuzz", &pw, &ph, &err);
    sc_image img = {0};
    if (sc_image_decode(data, size, "fuzz", want, &img, &err) != SC_OK)
        return 0;
    if (img.w < 1 || img.h < 1 || img.w > SC_IMAGE_MAX_DIM || img.h > SC_IMAGE_MAX_DIM ||
        (img.c != 1 && img.c != 3) || (want && img.c != want) ||
        (probed == SC_OK && (img.w != pw || img.h != ph)))
        __builtin_trap();
    unsigned sum = 0; /* every pixel is readable (ASan checks the reads) */
    for (size_t i = 0; i < (size_t)img.w * img.h * img.c; i += 97)
        sum += img.px[i];
    sc_image_free(&img);
    if (sum == 0xFFFFFFFFu) /* keeps the loop; never true for <2^24 reads of bytes */
        __builtin_trap();
    return 0;
}
