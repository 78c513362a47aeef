/* libFuzzer target for the caffemodel reader.
 *
 * Besides "no crash, no leak, no huge allocation", it checks a property: any
 * input the reader accepts must survive write -> read unchanged (names, types,
 * shapes and float bits), which exercises the writer on odd models too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caffemodel.h"

static int same_model(const sc_caffemodel *a, const sc_caffemodel *b)
{
    if (strcmp(a->name, b->name) || a->n_layers != b->n_layers)
        return 0;
    for (size_t i = 0; i < a->n_layers; i++) {
        const sc_cm_layer *la = &a->layers[i], *lb = &b->layers[i];
        if (strcmp(la->name, lb->name) || strcmp(la->type, lb->type) || la->n_blobs != lb->n_blobs)
            return 0;
        for (size_t j = 0; j < la->n_blobs; j++) {
            const sc_cm_blob *x = &la->blobs[j], *y = &lb->blobs[j];
            if (x->ndim != y->ndim || x->count != y->count ||
                memcmp(x->dims, y->dims, (size_t)x->ndim * sizeof x->dims[0]) ||
                (x->count && memcmp(x->data, y->data, x->count * sizeof(float))))
                return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_caffemodel *m = NULL, *back = NULL;
    sc_error err;
    if (sc_caffemodel_read_memory(data, size, "fuzz", &m, &err) != SC_OK)
        return 0;
    void *out = NULL;
    size_t n = 0;
    if (sc_caffemodel_write_memory(m, &out, &n, &err) != SC_OK)
        __builtin_trap(); /* everything the reader returns must be writable */
    if (sc_caffemodel_read_memory(out, n, "fuzz-rewritten", &back, &err) != SC_OK ||
        !same_model(m, back))
        __builtin_trap();
    sc_caffemodel_free(back);
    sc_caffemodel_free(m);
    free(out);
    return 0;
}
