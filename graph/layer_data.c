/* Data layers. Input: blobs with a fixed shape that the host fills.
 * ImageData: the same for the network (data + label blobs); the trainer's
 * loader reads image_data_param / transform_param and writes the blobs. */
#include "net_internal.h"

#include <stdio.h>
#include <string.h>

static sc_status shape_from_msg(sc_layer *l, const sc_pt_node *shape, int *nd, int dims[4])
{
    size_t n = sc_pt_count(shape, "dim");
    if (n == 0 || n > 4)
        return sc_layer_fail(l, SC_ERR_PARSE, "input shape must have 1..4 dims, has %zu", n);
    for (size_t d = 0; d < n; d++) {
        long long v;
        SC_TRY(sc_pt_int_at(sc_pt_find(shape, "dim", d), &v, sc_ctx_error(sc_layer_ctx(l))));
        if (v <= 0 || v > (1 << 24))
            return sc_layer_fail(l, SC_ERR_SHAPE, "input dim %lld is out of range", v);
        dims[d] = (int)v;
    }
    *nd = (int)n;
    return SC_OK;
}

static sc_status input_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 0, 0, 1, 16));
    const sc_pt_node *ip = sc_pt_find(l->def, "input_param", 0);
    size_t n_shapes = ip ? sc_pt_count(ip, "shape") : 0;
    if (n_shapes != 1 && n_shapes != (size_t)l->n_tops)
        return sc_layer_fail(l, SC_ERR_PARSE, "needs one input_param.shape, or one per top (%d)",
                             l->n_tops);
    for (int t = 0; t < l->n_tops; t++) {
        int nd = 0, dims[4] = {1, 1, 1, 1};
        SC_TRY(shape_from_msg(l, sc_pt_find(ip, "shape", n_shapes == 1 ? 0 : (size_t)t), &nd, dims));
        sc_net_input_dims(n, nd, dims);
        sc_value_set_shape(sc_layer_top(l, t), nd, dims);
    }
    return SC_OK;
}

static sc_status nothing_forward(sc_layer *l, sc_plan *p)
{
    (void)l;
    (void)p;
    return SC_OK; /* the host writes the blobs before each forward */
}

const sc_layer_kind sc_layer_input = {
    .type = "Input", .setup = input_setup, .forward = nothing_forward, .flags = SC_KIND_DATA,
};

/* Image size for ImageData: new_height/new_width, else crop_size, else the
 * app's probe of the list (its first image), else the SphereFace crop
 * 112x96 (building a net whose data is elsewhere must still work). A
 * relative list is looked up in the working directory (as Caffe does), then
 * next to the prototxt. */
static void probe_image_size(sc_layer *l, const sc_pt_node *idp, int *h, int *w)
{
    *h = 112;
    *w = 96;
    const sc_net_options *o = &l->net->opts;
    if (!o->image_size)
        return;
    const char *source = "", *root = "";
    sc_pt_get_string(idp, "source", "", &source, NULL);
    sc_pt_get_string(idp, "root_folder", "", &root, NULL);
    char list[4096];
    sc_path_resolve(source, l->net->base_dir, list, sizeof list);
    int ph = 0, pw = 0;
    if (o->image_size(o->image_size_user, list, root, &ph, &pw) == SC_OK && ph > 0 && pw > 0) {
        *h = ph;
        *w = pw;
    }
}

static sc_status image_data_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 0, 0, 2, 2));
    const sc_pt_node *idp = sc_pt_find(l->def, "image_data_param", 0);
    const sc_pt_node *tp = sc_pt_find(l->def, "transform_param", 0);
    long long batch, nh, nw, crop;
    int color;
    SC_TRY(sc_layer_get_int(l, idp, "batch_size", 1, &batch));
    SC_TRY(sc_layer_get_int(l, idp, "new_height", 0, &nh));
    SC_TRY(sc_layer_get_int(l, idp, "new_width", 0, &nw));
    SC_TRY(sc_layer_get_bool(l, idp, "is_color", 1, &color));
    SC_TRY(sc_layer_get_int(l, tp, "crop_size", 0, &crop));
    if (batch <= 0)
        return sc_layer_fail(l, SC_ERR_PARSE, "batch_size must be positive");
    int h = (int)nh, w = (int)nw;
    if (crop > 0)
        h = w = (int)crop;
    else if ((h <= 0 || w <= 0) && !n->reshaping) /* a reshape sets both */
        probe_image_size(l, idp, &h, &w);
    int dims[4] = {(int)batch, color ? 3 : 1, h, w};
    sc_net_input_dims(n, 4, dims);
    sc_value_set_shape(sc_layer_top(l, 0), 4, dims);
    sc_value_set_shape(sc_layer_top(l, 1), 1, dims);
    return SC_OK;
}

const sc_layer_kind sc_layer_image_data = {
    .type = "ImageData", .setup = image_data_setup, .forward = nothing_forward, .flags = SC_KIND_DATA | SC_KIND_IMAGES,
};
