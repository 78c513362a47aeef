/* sphere-train: the ImageData layer's list, decoded by loader threads and
 * uploaded without waiting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer.h"

static const sc_pt_node *find_image_data(const sc_net *net, size_t *index)
{
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        if (li.reads_images) {
            *index = i;
            return sc_net_layer_def(net, i);
        }
    }
    return NULL;
}

static void read_transform(const sc_pt_node *def, sc_loader_config *c)
{
    const sc_pt_node *tp = sc_pt_find(def, "transform_param", 0);
    double v = 1.0;
    int b = 0;
    long long crop = 0;
    c->scale = 1.0f;
    if (!tp)
        return;
    if (sc_pt_get_float(tp, "scale", 1.0, &v, NULL) == SC_OK)
        c->scale = (float)v;
    if (sc_pt_get_bool(tp, "mirror", 0, &b, NULL) == SC_OK)
        c->mirror = b;
    if (sc_pt_get_int(tp, "crop_size", 0, &crop, NULL) == SC_OK)
        c->crop_size = (int)crop;
    size_t n = sc_pt_count(tp, "mean_value");
    for (size_t i = 0; i < 3 && n > 0; i++) {
        double m = 0;
        sc_pt_float_at(sc_pt_find(tp, "mean_value", i < n ? i : 0), &m, NULL);
        c->mean[i] = (float)m;
    }
}

/* The loss layer's loss_param.ignore_label, the one negative label a list may hold. */
static void read_ignore_label(const sc_net *net, sc_loader_config *c)
{
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        const sc_pt_node *lp = sc_pt_find(sc_net_layer_def(net, i), "loss_param", 0);
        long long v;
        if (!li.is_loss || !li.takes_labels || !lp || !sc_pt_find(lp, "ignore_label", 0) ||
            sc_pt_get_int(lp, "ignore_label", -1, &v, NULL) != SC_OK)
            continue;
        c->has_ignore_label = 1;
        c->ignore_label = (int)v;
    }
}

static void print_progress(void *user, size_t done, size_t total)
{
    const trainer *t = user;
    if (t->tty)
        printf("\r  checking images: %zu / %zu", done, total);
    if (t->tty && done == total)
        printf("\n");
    fflush(stdout);
}

int trainer_make_loader(trainer *t)
{
    size_t li = 0;
    const sc_pt_node *def = find_image_data(t->net, &li);
    if (!def) {
        char msg[4400];
        snprintf(msg, sizeof msg, "%s has no ImageData layer to read training images", t->sp.net);
        return trainer_setup_failed(t, SC_ERR_PARSE, msg);
    }
    t->data_blob = sc_net_layer_top(t->net, li, 0);
    t->label_blob = sc_net_layer_top(t->net, li, 1);
    sc_blob_info b;
    sc_net_blob(t->net, t->data_blob, &b);
    const sc_pt_node *idp = sc_pt_find(def, "image_data_param", 0);
    const char *source = "", *root = "";
    int shuffle = 0;
    sc_pt_get_string(idp, "source", "", &source, NULL);
    sc_pt_get_string(idp, "root_folder", "", &root, NULL);
    sc_pt_get_bool(idp, "shuffle", 0, &shuffle, NULL);
    long long new_h = 0, new_w = 0;
    sc_pt_get_int(idp, "new_height", 0, &new_h, NULL);
    sc_pt_get_int(idp, "new_width", 0, &new_w, NULL);
    char list[4096], net_dir[4096];
    sc_path_dir(t->sp.net, net_dir, sizeof net_dir);
    sc_path_resolve(source, net_dir, list, sizeof list);
    sc_loader_config c = {.list_path = list, .root_folder = root, .batch = b.dims[0],
                          .shard_index = t->rank, .shard_count = t->ranks,
                          .channels = b.dims[1], .height = b.dims[2], .width = b.dims[3],
                          .train = 1, .shuffle = shuffle, .bgr = 1, .seed = t->seed,
                          .threads = t->args.threads, .prefetch = 3};
    read_transform(def, &c);
    read_ignore_label(t->net, &c);
    if (new_h > 0 && new_w > 0) { /* Caffe resizes to new_height x new_width, then crops */
        c.resize_h = (int)new_h;
        c.resize_w = (int)new_w;
    } else if (t->args.resize && !c.crop_size) {
        c.resize_h = c.height;
        c.resize_w = c.width;
    }
    printf("Loading %s (root '%s') ...\n", list, root);
    sc_error err = {0};
    sc_status st = sc_loader_create(&c, print_progress, t, &t->loader, &err);
    if (st != SC_OK)
        return trainer_setup_failed(t, st, err.msg);
    for (size_t i = 0; i < sc_loader_bad_count(t->loader); i++)
        printf("skipped bad image: %s\n", sc_loader_bad(t->loader, i));
    printf("%zu images usable, %zu of %zu list entries skipped\n", sc_loader_size(t->loader),
           sc_loader_bad_count(t->loader), sc_loader_listed(t->loader));
    t->data_count = b.count;
    t->n_staging = SC_SOLVER_PIPELINE * t->sp.iter_size;
    t->data = calloc((size_t)t->n_staging, sizeof *t->data);
    t->labels = calloc((size_t)t->n_staging, sizeof *t->labels);
    for (int i = 0; t->data && t->labels && i < t->n_staging; i++) {
        t->data[i] = malloc(b.count * sizeof **t->data);
        t->labels[i] = malloc((size_t)b.dims[0] * sizeof **t->labels);
        if (!t->data[i] || !t->labels[i])
            return trainer_setup_failed(t, SC_ERR_NOMEM, "out of host memory for the input batches");
    }
    return t->data && t->labels ? 1 : trainer_setup_failed(t, SC_ERR_NOMEM, "out of host memory");
}

/* Labels must index the classifier's outputs, or the loss is meaningless. */
int trainer_check_labels(trainer *t)
{
    for (size_t i = 0; i < sc_net_layer_count(t->net); i++) {
        sc_layer_info li;
        sc_net_layer(t->net, i, &li);
        if (!li.takes_labels)
            continue;
        sc_blob_info scores;
        sc_net_blob(t->net, sc_net_layer_bottom(t->net, i, 0), &scores);
        int classes = scores.ndim > 1 ? scores.dims[1] : 1;
        if (sc_loader_max_label(t->loader) >= classes) {
            char msg[1024];
            snprintf(msg, sizeof msg, "the list has label %d but %s has %d classes (set "
                     "num_output of the classifier to at least %d)",
                     sc_loader_max_label(t->loader), li.name, classes,
                     sc_loader_max_label(t->loader) + 1);
            return trainer_setup_failed((trainer *)t, SC_ERR_SHAPE, msg);
        }
    }
    return 1;
}

/* The next batch from the loader threads into a staging slot, uploaded
 * without waiting (see trainer.data). */
sc_status trainer_feed(void *user, sc_net *net)
{
    trainer *t = user;
    int k = t->next_staging;
    t->next_staging = (k + 1) % t->n_staging;
    sc_error err = {0};
    if (sc_loader_next(t->loader, t->data[k], t->labels[k], &err) != SC_OK)
        return sc_fail(sc_ctx_error(t->ctx), err.status, "%s", err.msg);
    sc_blob_info d, l;
    SC_TRY(sc_net_blob(net, t->data_blob, &d));
    SC_TRY(sc_net_blob(net, t->label_blob, &l));
    if (d.count != t->data_count || l.count != (size_t)sc_net_batch(net))
        return sc_fail(sc_ctx_error(t->ctx), SC_ERR_SHAPE, "input blobs changed shape");
    SC_TRY(sc_buffer_write_async(t->ctx, d.data, 0, d.count * sizeof(float), t->data[k], NULL));
    return sc_buffer_write_async(t->ctx, l.data, 0, l.count * sizeof(float), t->labels[k], NULL);
}
