/* Malformed inputs: each gives exactly one clear error line on stderr and
 * exit status 2 from sphere-info (input refused; 1 for the device running
 * out of memory, which is not the input's fault) (no crash, no leak report: under the
 * sanitizer build a leak would add lines and fail the test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sc_test.h"

typedef struct bad_case {
    const char *name;
    const char *prototxt; /* NULL: use the valid net */
    const char *extra_args; /* e.g. --weights FILE ({TINY} and {TRUNC} are replaced) */
    const char *expect;   /* substring of the error line */
} bad_case;

#define NET_HEAD "name: \"t\"\nlayer { name: \"data\" type: \"Input\" top: \"data\" " \
                 "input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }\n"
#define LABEL "layer { name: \"label\" type: \"Input\" top: \"label\" " \
              "input_param { shape { dim: 2 } } }\n"
#define CONV(k) "layer { name: \"conv1\" type: \"Convolution\" bottom: \"data\" top: \"conv1\" " \
                "convolution_param { num_output: 4 kernel_size: " #k " } }\n"

/* Placeholder for the device-out-of-memory case, whose prototxt is written at
 * run time: a fixed size would fit some machines (a 4 GiB request fits a
 * 21.5 GiB PoCL device with an 8 GiB largest allocation). */
#define OVERSIZED "{OVERSIZED}"

static const bad_case k_cases[] = {
    {"unbalanced brace", NET_HEAD "layer { name: \"x\" type: \"PReLU\"\n", NULL, "end of file"},
    {"unknown field", NET_HEAD "layer { name: \"x\" type: \"PReLU\" bottom: \"data\" top: \"x\" "
                      "prelu_param { chanel_shared: true } }\n", NULL, "chanel_shared"},
    {"bad enum", NET_HEAD "layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" "
                 "pooling_param { pool: AVERAGE kernel_size: 2 } }\n", NULL, "AVERAGE"},
    {"string for int", NET_HEAD "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" "
                       "top: \"c\" convolution_param { num_output: \"ten\" kernel_size: 3 } }\n",
     NULL, "num_output"},
    {"float for int", NET_HEAD "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" "
                      "top: \"c\" convolution_param { num_output: 1.5 kernel_size: 3 } }\n",
     NULL, "num_output"},
    {"unknown layer type", NET_HEAD "layer { name: \"u\" type: \"Frobnicate\" bottom: \"data\" "
                           "top: \"u\" }\n", NULL, "Frobnicate"},
    {"missing bottom", NET_HEAD "layer { name: \"r\" type: \"PReLU\" bottom: \"nothing\" "
                       "top: \"r\" }\n", NULL, "nothing"},
    {"cyclic graph", NET_HEAD "layer { name: \"a\" type: \"PReLU\" bottom: \"b\" top: \"a\" }\n"
                     "layer { name: \"b\" type: \"PReLU\" bottom: \"a\" top: \"b\" }\n", NULL,
     "cycle"},
    {"garbage character", NET_HEAD "layer { name: \"x\" $ }\n", NULL, "$"},
    {"kernel larger than input", NET_HEAD CONV(9), NULL, "conv1"},
    {"eltwise shape mismatch", NET_HEAD CONV(3)
     "layer { name: \"e\" type: \"Eltwise\" bottom: \"data\" bottom: \"conv1\" top: \"e\" }\n",
     NULL, "e"},
    {"missing kernel_size", NET_HEAD "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" "
                            "top: \"c\" convolution_param { num_output: 4 } }\n", NULL,
     "kernel_size"},
    {"duplicate top", NET_HEAD CONV(3) "layer { name: \"conv2\" type: \"Convolution\" "
                      "bottom: \"data\" top: \"conv1\" convolution_param { num_output: 4 "
                      "kernel_size: 3 } }\n", NULL, "conv1"},
    {"in-place convolution", NET_HEAD "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" "
                             "top: \"data\" convolution_param { num_output: 3 kernel_size: 1 } }\n",
     NULL, "in place"},
    {"label count mismatch", NET_HEAD LABEL "layer { name: \"ip\" type: \"InnerProduct\" "
                             "bottom: \"data\" top: \"ip\" inner_product_param { num_output: 5 } }\n"
                             "layer { name: \"l\" type: \"SoftmaxWithLoss\" bottom: \"ip\" "
                             "bottom: \"data\" top: \"loss\" }\n", NULL, "label"},
    {"duplicate layer name", NET_HEAD CONV(3) "layer { name: \"conv1\" type: \"PReLU\" "
                             "bottom: \"conv1\" top: \"conv1\" }\n", NULL,
     "duplicate layer name 'conv1'"},
    {"non-repeated field twice", NET_HEAD "layer { name: \"c\" type: \"Convolution\" "
                                 "bottom: \"data\" top: \"c\" convolution_param { num_output: 4 "
                                 "num_output: 5 kernel_size: 3 } }\n", NULL, "num_output"},
    {"missing file", NULL, "/nonexistent/net.prototxt", "nonexistent"},
    /* the net is made by oversized_net(): its size depends on the device */
    {"device out of memory", OVERSIZED, "--memory --device {DEVICE}", "out of memory"},
    {"truncated caffemodel", NULL, "--weights {TRUNC}", "byte"},
    {"caffemodel blob shape mismatch", NULL, "--weights {TINY}", "conv1_1"},
};

/* A net whose layer conv1_1 has a different shape from train_tiny's. */
#define VALID NET_HEAD "layer { name: \"conv1_1\" type: \"Convolution\" bottom: \"data\" " \
                       "top: \"conv1_1\" convolution_param { num_output: 16 kernel_size: 3 } }\n"

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void make_truncated_caffemodel(const char *dst)
{
    FILE *f = fopen(sc_test_shared("golden/train_tiny/init.caffemodel"), "rb");
    assert_non_null(f);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 1000);
    write_file(dst, buf, n / 3);
}

static void substitute(const char *in, char *out, size_t cap, const char *trunc)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", in);
    char *p;
    if ((p = strstr(tmp, "{TRUNC}")))
        snprintf(out, cap, "%.*s%s%s", (int)(p - tmp), tmp, trunc, p + 7);
    else if ((p = strstr(tmp, "{DEVICE}"))) /* the device the test context uses */
        snprintf(out, cap, "%.*s%s%s", (int)(p - tmp), tmp, sc_test_device_selector(), p + 8);
    else if ((p = strstr(tmp, "{TINY}")))
        snprintf(out, cap, "%.*s%s%s", (int)(p - tmp), tmp,
                 sc_test_shared("golden/train_tiny/init.caffemodel"), p + 6);
    else
        snprintf(out, cap, "%s", tmp);
}

/* A net whose InnerProduct weights together need more than both the device's
 * global memory and its largest allocation, whatever the machine. Each layer
 * stays under the builder's 2^31-element limit on one blob, so the request is
 * split over as many parallel layers as it takes. */
static void oversized_net(char *out, size_t cap)
{
    sc_ctx *ctx = sc_test_ctx();
    sc_device_info d = *sc_ctx_info(ctx);
    sc_ctx_destroy(ctx);
    unsigned long long limit = d.global_mem > d.max_alloc ? d.global_mem : d.max_alloc;
    const unsigned long long inputs = 65536, outputs = 16384; /* 4 GiB per layer */
    unsigned long long layer_bytes = inputs * outputs * sizeof(float);
    unsigned long long layers = limit / layer_bytes + 1;
    printf("device: %llu bytes global, %llu bytes largest allocation -> %llu layers of %llu "
           "bytes\n",
           (unsigned long long)d.global_mem, (unsigned long long)d.max_alloc, layers, layer_bytes);
    size_t off = (size_t)snprintf(out, cap,
                                  "name: \"big\"\nlayer { name: \"data\" type: \"Input\" "
                                  "top: \"data\" input_param { shape { dim: 1 dim: %llu } } }\n",
                                  inputs);
    for (unsigned long long i = 0; i < layers; i++) {
        assert_true(off < cap);
        off += (size_t)snprintf(out + off, cap - off,
                                "layer { name: \"huge%llu\" type: \"InnerProduct\" "
                                "bottom: \"data\" top: \"huge%llu\" "
                                "inner_product_param { num_output: %llu } }\n",
                                i, i, outputs);
    }
    assert_true(off < cap);
}

static void run_case(const bad_case *c, int index, const char *valid, const char *trunc)
{
    char net[1024], err_path[1024], args[4096], cmd[8192];
    static char oversized[1 << 16];
    snprintf(net, sizeof net, "%s", valid);
    if (c->prototxt) {
        const char *text = c->prototxt;
        if (!strcmp(text, OVERSIZED)) {
            oversized_net(oversized, sizeof oversized);
            text = oversized;
        }
        char name[64];
        snprintf(name, sizeof name, "malformed_%02d.prototxt", index);
        snprintf(net, sizeof net, "%s", sc_test_tmp(name));
        write_file(net, text, strlen(text));
    }
    snprintf(err_path, sizeof err_path, "%s", sc_test_tmp("malformed_stderr.txt"));
    substitute(c->extra_args ? c->extra_args : "", args, sizeof args, trunc);
    const char *apps = getenv("SPHERECL_APPS_DIR");
    if (c->extra_args && !strncmp(c->extra_args, "/", 1)) /* a path replaces the net */
        snprintf(cmd, sizeof cmd, "'%s/sphere-info' %s >/dev/null 2>'%s'", apps, args, err_path);
    else
        snprintf(cmd, sizeof cmd, "'%s/sphere-info' '%s' %s >/dev/null 2>'%s'", apps, net, args,
                 err_path);
    int rc = system(cmd);
    FILE *f = fopen(err_path, "r");
    assert_non_null(f);
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    printf("%-32s -> %s", c->name, text);
    int want = strstr(c->expect, "out of memory") ? 1 : 2;
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != want)
        fail_msg("%s: exit status %d, expected %d", c->name, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1,
                 want);
    if (lines != 1)
        fail_msg("%s: %d lines on stderr, expected exactly one", c->name, lines);
    if (!strstr(text, c->expect))
        fail_msg("%s: error line does not mention '%s'", c->name, c->expect);
}

static void test_malformed_inputs(void **state)
{
    (void)state;
    assert_non_null(getenv("SPHERECL_APPS_DIR"));
    char valid[1024], trunc[1024];
    snprintf(valid, sizeof valid, "%s", sc_test_tmp("malformed_valid.prototxt"));
    write_file(valid, VALID, strlen(VALID));
    snprintf(trunc, sizeof trunc, "%s", sc_test_tmp("truncated.caffemodel"));
    make_truncated_caffemodel(trunc);
    size_t n = sizeof k_cases / sizeof k_cases[0];
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++)
        run_case(&k_cases[i], (int)i, valid, trunc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
