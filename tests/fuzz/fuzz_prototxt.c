/* libFuzzer target for the prototxt parser and the Caffe schema validator:
 * parse arbitrary bytes, validate the tree as NetParameter (and, for the
 * first byte's low bit, as SolverParameter), and run every scalar through the
 * typed conversions. Any crash, leak, UB or hang is a bug. */
#include <stddef.h>
#include <stdint.h>

#include "caffe_schema.h"
#include "prototxt.h"

static void convert_all(const sc_pt_node *n, int depth)
{
    if (depth > SC_PT_MAX_DEPTH + 1)
        return;
    if (n->kind != SC_PT_MESSAGE) {
        long long i;
        unsigned long long u;
        double d;
        int b;
        sc_error err;
        (void)sc_pt_int_at(n, &i, &err);
        (void)sc_pt_uint_at(n, &u, &err);
        (void)sc_pt_float_at(n, &d, &err);
        (void)sc_pt_bool_at(n, &b, &err);
        return;
    }
    for (size_t k = 0; k < n->n_children; k++)
        convert_all(n->children[k], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_error err;
    sc_pt_node *root = NULL;
    if (sc_prototxt_parse_text((const char *)data, size, "fuzz.prototxt", &root, &err) != SC_OK)
        return 0;
    convert_all(root, 0);
    const char *type = (size > 0 && (data[0] & 1)) ? "SolverParameter" : "NetParameter";
    (void)sc_schema_validate(root, type, &err);
    sc_pt_free(root);
    return 0;
}
