/* The one table of layer types SphereCL knows. */
#include "net_internal.h"

#include <string.h>

extern const sc_layer_kind sc_layer_input, sc_layer_image_data, sc_layer_convolution,
    sc_layer_depthwise_convolution, sc_layer_inner_product, sc_layer_prelu, sc_layer_batchnorm,
    sc_layer_scale, sc_layer_eltwise, sc_layer_dropout, sc_layer_pooling, sc_layer_softmax,
    sc_layer_softmax_loss, sc_layer_accuracy, sc_layer_margin_inner_product;

static const sc_layer_kind *const kinds[] = {
    &sc_layer_input,         &sc_layer_image_data,   &sc_layer_convolution,
    &sc_layer_depthwise_convolution, &sc_layer_inner_product, &sc_layer_prelu,
    &sc_layer_batchnorm,     &sc_layer_scale,        &sc_layer_eltwise,
    &sc_layer_dropout,       &sc_layer_pooling,      &sc_layer_softmax,
    &sc_layer_softmax_loss,  &sc_layer_accuracy,     &sc_layer_margin_inner_product,
};

const sc_layer_kind *sc_layer_kind_find(const char *type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i]->type, type))
            return kinds[i];
    return NULL;
}

const char *sc_layer_kind_names(void)
{
    return "Input, ImageData, Convolution, DepthwiseConvolution, InnerProduct, PReLU, "
           "BatchNorm, Scale, Eltwise, Dropout, Pooling, Softmax, SoftmaxWithLoss, Accuracy, "
           "MarginInnerProduct";
}
