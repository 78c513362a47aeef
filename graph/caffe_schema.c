/* caffe.proto as data: the messages, fields (name, number, type, label) and
 * enums that Caffe and SphereFace files use, written from BVLC Caffe master's
 * src/caffe/proto/caffe.proto and SphereFace's fork of it, plus the validator
 * that walks a prototxt tree against them. */
#include "caffe_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT SC_SCHEMA_OPTIONAL
#define REP SC_SCHEMA_REPEATED
#define REQ SC_SCHEMA_REQUIRED
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Scalar, packed repeated scalar, enum and message fields. */
#define S(name, num, type, label) {name, num, SC_SCHEMA_##type, label, 0, NULL, NULL}
#define P(name, num, type) {name, num, SC_SCHEMA_##type, REP, 1, NULL, NULL}
#define E(name, num, label, en) {name, num, SC_SCHEMA_ENUM, label, 0, &en, NULL}
#define M(name, num, label, type) {name, num, SC_SCHEMA_MESSAGE, label, 0, NULL, &m_##type}

#define ENUM(var, qualified, ...)                                                     \
    static const sc_schema_enum_value var##_values[] = {__VA_ARGS__};                 \
    static const sc_schema_enum var = {qualified, var##_values, COUNT(var##_values)};

#define MESSAGE(type, ...)                                             \
    static const sc_schema_field type##_fields[] = {__VA_ARGS__};      \
    static const sc_schema_message m_##type = {#type, type##_fields, COUNT(type##_fields)};

/* Tentative definitions: messages refer to each other (NetParameter <->
 * SolverParameter, LayerParameter -> ...) before they are defined. */
static const sc_schema_message m_BlobShape, m_BlobProto, m_BlobProtoVector, m_Datum, m_FillerParameter,
    m_NetParameter, m_SolverParameter, m_SolverState, m_NetState, m_NetStateRule, m_ParamSpec,
    m_LayerParameter, m_TransformationParameter, m_LossParameter, m_AccuracyParameter,
    m_ArgMaxParameter, m_BatchNormParameter, m_BiasParameter, m_ClipParameter, m_ConcatParameter,
    m_ContrastiveLossParameter, m_ConvolutionParameter, m_CropParameter, m_DataParameter,
    m_DropoutParameter, m_DummyDataParameter, m_EltwiseParameter, m_ELUParameter, m_EmbedParameter,
    m_ExpParameter, m_FlattenParameter, m_HDF5DataParameter, m_HDF5OutputParameter,
    m_HingeLossParameter, m_ImageDataParameter, m_InfogainLossParameter, m_InnerProductParameter,
    m_InputParameter, m_LogParameter, m_LRNParameter, m_MarginInnerProductParameter,
    m_MemoryDataParameter, m_MVNParameter, m_ParameterParameter, m_PoolingParameter, m_PowerParameter,
    m_PReLUParameter, m_PythonParameter, m_RecurrentParameter, m_ReductionParameter, m_ReLUParameter,
    m_ReshapeParameter, m_ScaleParameter, m_SigmoidParameter, m_SoftmaxParameter, m_SPPParameter,
    m_SliceParameter, m_SwishParameter, m_TanHParameter, m_ThresholdParameter, m_TileParameter,
    m_WindowDataParameter, m_V1LayerParameter, m_V0LayerParameter;

/* ------------------------------------------------------------------ enums */

ENUM(e_Phase, "Phase", {"TRAIN", 0}, {"TEST", 1})
/* Every per-layer `enum Engine` in caffe.proto has these same three values. */
ENUM(e_Engine, "Engine", {"DEFAULT", 0}, {"CAFFE", 1}, {"CUDNN", 2})
ENUM(e_VarianceNorm, "FillerParameter.VarianceNorm", {"FAN_IN", 0}, {"FAN_OUT", 1}, {"AVERAGE", 2})
ENUM(e_SnapshotFormat, "SolverParameter.SnapshotFormat", {"HDF5", 0}, {"BINARYPROTO", 1})
ENUM(e_SolverMode, "SolverParameter.SolverMode", {"CPU", 0}, {"GPU", 1})
ENUM(e_SolverType, "SolverParameter.SolverType", {"SGD", 0}, {"NESTEROV", 1}, {"ADAGRAD", 2},
     {"RMSPROP", 3}, {"ADADELTA", 4}, {"ADAM", 5})
ENUM(e_DimCheckMode, "DimCheckMode", {"STRICT", 0}, {"PERMISSIVE", 1})
ENUM(e_NormalizationMode, "LossParameter.NormalizationMode", {"FULL", 0}, {"VALID", 1},
     {"BATCH_SIZE", 2}, {"NONE", 3})
ENUM(e_DB, "DataParameter.DB", {"LEVELDB", 0}, {"LMDB", 1})
ENUM(e_EltwiseOp, "EltwiseParameter.EltwiseOp", {"PROD", 0}, {"SUM", 1}, {"MAX", 2})
ENUM(e_HingeNorm, "HingeLossParameter.Norm", {"L1", 1}, {"L2", 2})
ENUM(e_NormRegion, "LRNParameter.NormRegion", {"ACROSS_CHANNELS", 0}, {"WITHIN_CHANNEL", 1})
ENUM(e_PoolMethod, "PoolingParameter.PoolMethod", {"MAX", 0}, {"AVE", 1}, {"STOCHASTIC", 2})
ENUM(e_RoundMode, "PoolingParameter.RoundMode", {"CEIL", 0}, {"FLOOR", 1})
ENUM(e_ReductionOp, "ReductionParameter.ReductionOp", {"SUM", 1}, {"ASUM", 2}, {"SUMSQ", 3}, {"MEAN", 4})
ENUM(e_MarginType, "MarginInnerProductParameter.MarginType", {"SINGLE", 0}, {"DOUBLE", 1}, {"TRIPLE", 2},
     {"QUADRUPLE", 3})
/* V1 layer types (there is no PRELU: PReLU only exists as a V2 layer). */
ENUM(e_LayerType, "V1LayerParameter.LayerType", {"NONE", 0}, {"ABSVAL", 35}, {"ACCURACY", 1},
     {"ARGMAX", 30}, {"BNLL", 2}, {"CONCAT", 3}, {"CONTRASTIVE_LOSS", 37}, {"CONVOLUTION", 4},
     {"DATA", 5}, {"DECONVOLUTION", 39}, {"DROPOUT", 6}, {"DUMMY_DATA", 32}, {"EUCLIDEAN_LOSS", 7},
     {"ELTWISE", 25}, {"EXP", 38}, {"FLATTEN", 8}, {"HDF5_DATA", 9}, {"HDF5_OUTPUT", 10},
     {"HINGE_LOSS", 28}, {"IM2COL", 11}, {"IMAGE_DATA", 12}, {"INFOGAIN_LOSS", 13},
     {"INNER_PRODUCT", 14}, {"LRN", 15}, {"MEMORY_DATA", 29}, {"MULTINOMIAL_LOGISTIC_LOSS", 16},
     {"MVN", 34}, {"POOLING", 17}, {"POWER", 26}, {"RELU", 18}, {"SIGMOID", 19},
     {"SIGMOID_CROSS_ENTROPY_LOSS", 27}, {"SILENCE", 36}, {"SOFTMAX", 20}, {"SOFTMAX_LOSS", 21},
     {"SPLIT", 22}, {"SLICE", 33}, {"TANH", 23}, {"WINDOW_DATA", 24}, {"THRESHOLD", 31})

/* ------------------------------------------------------------------ storage */

MESSAGE(BlobShape, P("dim", 1, INT64))

MESSAGE(BlobProto,
        M("shape", 7, OPT, BlobShape),
        P("data", 5, FLOAT),
        P("diff", 6, FLOAT),
        P("double_data", 8, DOUBLE),
        P("double_diff", 9, DOUBLE),
        S("num", 1, INT32, OPT),
        S("channels", 2, INT32, OPT),
        S("height", 3, INT32, OPT),
        S("width", 4, INT32, OPT))

MESSAGE(BlobProtoVector, M("blobs", 1, REP, BlobProto))

MESSAGE(Datum,
        S("channels", 1, INT32, OPT),
        S("height", 2, INT32, OPT),
        S("width", 3, INT32, OPT),
        S("data", 4, BYTES, OPT),
        S("label", 5, INT32, OPT),
        S("float_data", 6, FLOAT, REP),
        S("encoded", 7, BOOL, OPT))

MESSAGE(FillerParameter,
        S("type", 1, STRING, OPT),
        S("value", 2, FLOAT, OPT),
        S("min", 3, FLOAT, OPT),
        S("max", 4, FLOAT, OPT),
        S("mean", 5, FLOAT, OPT),
        S("std", 6, FLOAT, OPT),
        S("sparse", 7, INT32, OPT),
        E("variance_norm", 8, OPT, e_VarianceNorm))

/* ------------------------------------------------------------------ net and solver */

MESSAGE(NetParameter,
        S("name", 1, STRING, OPT),
        S("input", 3, STRING, REP),
        M("input_shape", 8, REP, BlobShape),
        S("input_dim", 4, INT32, REP),
        S("force_backward", 5, BOOL, OPT),
        M("state", 6, OPT, NetState),
        S("debug_info", 7, BOOL, OPT),
        M("layer", 100, REP, LayerParameter),
        M("layers", 2, REP, V1LayerParameter))

MESSAGE(SolverParameter,
        S("net", 24, STRING, OPT),
        M("net_param", 25, OPT, NetParameter),
        S("train_net", 1, STRING, OPT),
        S("test_net", 2, STRING, REP),
        M("train_net_param", 21, OPT, NetParameter),
        M("test_net_param", 22, REP, NetParameter),
        M("train_state", 26, OPT, NetState),
        M("test_state", 27, REP, NetState),
        S("test_iter", 3, INT32, REP),
        S("test_interval", 4, INT32, OPT),
        S("test_compute_loss", 19, BOOL, OPT),
        S("test_initialization", 32, BOOL, OPT),
        S("base_lr", 5, FLOAT, OPT),
        S("display", 6, INT32, OPT),
        S("average_loss", 33, INT32, OPT),
        S("max_iter", 7, INT32, OPT),
        S("iter_size", 36, INT32, OPT),
        S("lr_policy", 8, STRING, OPT),
        S("gamma", 9, FLOAT, OPT),
        S("power", 10, FLOAT, OPT),
        S("momentum", 11, FLOAT, OPT),
        S("weight_decay", 12, FLOAT, OPT),
        S("regularization_type", 29, STRING, OPT),
        S("stepsize", 13, INT32, OPT),
        S("stepvalue", 34, INT32, REP),
        S("clip_gradients", 35, FLOAT, OPT),
        S("snapshot", 14, INT32, OPT),
        S("snapshot_prefix", 15, STRING, OPT),
        S("snapshot_diff", 16, BOOL, OPT),
        E("snapshot_format", 37, OPT, e_SnapshotFormat),
        E("solver_mode", 17, OPT, e_SolverMode),
        S("device_id", 18, INT32, OPT),
        S("random_seed", 20, INT64, OPT),
        S("type", 40, STRING, OPT),
        S("delta", 31, FLOAT, OPT),
        S("momentum2", 39, FLOAT, OPT),
        S("rms_decay", 38, FLOAT, OPT),
        S("debug_info", 23, BOOL, OPT),
        S("snapshot_after_train", 28, BOOL, OPT),
        E("solver_type", 30, OPT, e_SolverType),
        S("layer_wise_reduce", 41, BOOL, OPT),
        S("weights", 42, STRING, REP))

MESSAGE(SolverState,
        S("iter", 1, INT32, OPT),
        S("learned_net", 2, STRING, OPT),
        M("history", 3, REP, BlobProto),
        S("current_step", 4, INT32, OPT))

MESSAGE(NetState,
        E("phase", 1, OPT, e_Phase),
        S("level", 2, INT32, OPT),
        S("stage", 3, STRING, REP))

MESSAGE(NetStateRule,
        E("phase", 1, OPT, e_Phase),
        S("min_level", 2, INT32, OPT),
        S("max_level", 3, INT32, OPT),
        S("stage", 4, STRING, REP),
        S("not_stage", 5, STRING, REP))

MESSAGE(ParamSpec,
        S("name", 1, STRING, OPT),
        E("share_mode", 2, OPT, e_DimCheckMode),
        S("lr_mult", 3, FLOAT, OPT),
        S("decay_mult", 4, FLOAT, OPT))

MESSAGE(LayerParameter,
        S("name", 1, STRING, OPT),
        S("type", 2, STRING, OPT),
        S("bottom", 3, STRING, REP),
        S("top", 4, STRING, REP),
        E("phase", 10, OPT, e_Phase),
        S("loss_weight", 5, FLOAT, REP),
        M("param", 6, REP, ParamSpec),
        M("blobs", 7, REP, BlobProto),
        S("propagate_down", 11, BOOL, REP),
        M("include", 8, REP, NetStateRule),
        M("exclude", 9, REP, NetStateRule),
        M("transform_param", 100, OPT, TransformationParameter),
        M("loss_param", 101, OPT, LossParameter),
        M("accuracy_param", 102, OPT, AccuracyParameter),
        M("argmax_param", 103, OPT, ArgMaxParameter),
        M("batch_norm_param", 139, OPT, BatchNormParameter),
        M("bias_param", 141, OPT, BiasParameter),
        M("clip_param", 148, OPT, ClipParameter),
        M("concat_param", 104, OPT, ConcatParameter),
        M("contrastive_loss_param", 105, OPT, ContrastiveLossParameter),
        M("convolution_param", 106, OPT, ConvolutionParameter),
        M("crop_param", 144, OPT, CropParameter),
        M("data_param", 107, OPT, DataParameter),
        M("dropout_param", 108, OPT, DropoutParameter),
        M("dummy_data_param", 109, OPT, DummyDataParameter),
        M("eltwise_param", 110, OPT, EltwiseParameter),
        M("elu_param", 140, OPT, ELUParameter),
        M("embed_param", 137, OPT, EmbedParameter),
        M("exp_param", 111, OPT, ExpParameter),
        M("flatten_param", 135, OPT, FlattenParameter),
        M("hdf5_data_param", 112, OPT, HDF5DataParameter),
        M("hdf5_output_param", 113, OPT, HDF5OutputParameter),
        M("hinge_loss_param", 114, OPT, HingeLossParameter),
        M("image_data_param", 115, OPT, ImageDataParameter),
        M("infogain_loss_param", 116, OPT, InfogainLossParameter),
        M("inner_product_param", 117, OPT, InnerProductParameter),
        M("input_param", 143, OPT, InputParameter),
        M("log_param", 134, OPT, LogParameter),
        M("lrn_param", 118, OPT, LRNParameter),
        /* SphereFace's 147; listed before swish_param so lookups by number find it. */
        M("margin_inner_product_param", 147, OPT, MarginInnerProductParameter),
        M("memory_data_param", 119, OPT, MemoryDataParameter),
        M("mvn_param", 120, OPT, MVNParameter),
        M("parameter_param", 145, OPT, ParameterParameter),
        M("pooling_param", 121, OPT, PoolingParameter),
        M("power_param", 122, OPT, PowerParameter),
        M("prelu_param", 131, OPT, PReLUParameter),
        M("python_param", 130, OPT, PythonParameter),
        M("recurrent_param", 146, OPT, RecurrentParameter),
        M("reduction_param", 136, OPT, ReductionParameter),
        M("relu_param", 123, OPT, ReLUParameter),
        M("reshape_param", 133, OPT, ReshapeParameter),
        M("scale_param", 142, OPT, ScaleParameter),
        M("sigmoid_param", 124, OPT, SigmoidParameter),
        M("softmax_param", 125, OPT, SoftmaxParameter),
        M("spp_param", 132, OPT, SPPParameter),
        M("slice_param", 126, OPT, SliceParameter),
        M("swish_param", 147, OPT, SwishParameter),
        M("tanh_param", 127, OPT, TanHParameter),
        M("threshold_param", 128, OPT, ThresholdParameter),
        M("tile_param", 138, OPT, TileParameter),
        M("window_data_param", 129, OPT, WindowDataParameter))

/* ------------------------------------------------------------------ layer parameters */

MESSAGE(TransformationParameter,
        S("scale", 1, FLOAT, OPT),
        S("mirror", 2, BOOL, OPT),
        S("crop_size", 3, UINT32, OPT),
        S("mean_file", 4, STRING, OPT),
        S("mean_value", 5, FLOAT, REP),
        S("force_color", 6, BOOL, OPT),
        S("force_gray", 7, BOOL, OPT))

MESSAGE(LossParameter,
        S("ignore_label", 1, INT32, OPT),
        E("normalization", 3, OPT, e_NormalizationMode),
        S("normalize", 2, BOOL, OPT))

MESSAGE(AccuracyParameter,
        S("top_k", 1, UINT32, OPT),
        S("axis", 2, INT32, OPT),
        S("ignore_label", 3, INT32, OPT))

MESSAGE(ArgMaxParameter,
        S("out_max_val", 1, BOOL, OPT),
        S("top_k", 2, UINT32, OPT),
        S("axis", 3, INT32, OPT))

MESSAGE(BatchNormParameter,
        S("use_global_stats", 1, BOOL, OPT),
        S("moving_average_fraction", 2, FLOAT, OPT),
        S("eps", 3, FLOAT, OPT))

MESSAGE(BiasParameter,
        S("axis", 1, INT32, OPT),
        S("num_axes", 2, INT32, OPT),
        M("filler", 3, OPT, FillerParameter))

MESSAGE(ClipParameter,
        S("min", 1, FLOAT, REQ),
        S("max", 2, FLOAT, REQ))

MESSAGE(ConcatParameter,
        S("axis", 2, INT32, OPT),
        S("concat_dim", 1, UINT32, OPT))

MESSAGE(ContrastiveLossParameter,
        S("margin", 1, FLOAT, OPT),
        S("legacy_version", 2, BOOL, OPT))

MESSAGE(ConvolutionParameter,
        S("num_output", 1, UINT32, OPT),
        S("bias_term", 2, BOOL, OPT),
        S("pad", 3, UINT32, REP),
        S("kernel_size", 4, UINT32, REP),
        S("stride", 6, UINT32, REP),
        S("dilation", 18, UINT32, REP),
        S("pad_h", 9, UINT32, OPT),
        S("pad_w", 10, UINT32, OPT),
        S("kernel_h", 11, UINT32, OPT),
        S("kernel_w", 12, UINT32, OPT),
        S("stride_h", 13, UINT32, OPT),
        S("stride_w", 14, UINT32, OPT),
        S("group", 5, UINT32, OPT),
        M("weight_filler", 7, OPT, FillerParameter),
        M("bias_filler", 8, OPT, FillerParameter),
        E("engine", 15, OPT, e_Engine),
        S("axis", 16, INT32, OPT),
        S("force_nd_im2col", 17, BOOL, OPT))

MESSAGE(CropParameter,
        S("axis", 1, INT32, OPT),
        S("offset", 2, UINT32, REP))

MESSAGE(DataParameter,
        S("source", 1, STRING, OPT),
        S("batch_size", 4, UINT32, OPT),
        S("rand_skip", 7, UINT32, OPT),
        E("backend", 8, OPT, e_DB),
        S("scale", 2, FLOAT, OPT),
        S("mean_file", 3, STRING, OPT),
        S("crop_size", 5, UINT32, OPT),
        S("mirror", 6, BOOL, OPT),
        S("force_encoded_color", 9, BOOL, OPT),
        S("prefetch", 10, UINT32, OPT))

MESSAGE(DropoutParameter, S("dropout_ratio", 1, FLOAT, OPT))

MESSAGE(DummyDataParameter,
        M("data_filler", 1, REP, FillerParameter),
        M("shape", 6, REP, BlobShape),
        S("num", 2, UINT32, REP),
        S("channels", 3, UINT32, REP),
        S("height", 4, UINT32, REP),
        S("width", 5, UINT32, REP))

MESSAGE(EltwiseParameter,
        E("operation", 1, OPT, e_EltwiseOp),
        S("coeff", 2, FLOAT, REP),
        S("stable_prod_grad", 3, BOOL, OPT))

MESSAGE(ELUParameter, S("alpha", 1, FLOAT, OPT))

MESSAGE(EmbedParameter,
        S("num_output", 1, UINT32, OPT),
        S("input_dim", 2, UINT32, OPT),
        S("bias_term", 3, BOOL, OPT),
        M("weight_filler", 4, OPT, FillerParameter),
        M("bias_filler", 5, OPT, FillerParameter))

MESSAGE(ExpParameter,
        S("base", 1, FLOAT, OPT),
        S("scale", 2, FLOAT, OPT),
        S("shift", 3, FLOAT, OPT))

MESSAGE(FlattenParameter,
        S("axis", 1, INT32, OPT),
        S("end_axis", 2, INT32, OPT))

MESSAGE(HDF5DataParameter,
        S("source", 1, STRING, OPT),
        S("batch_size", 2, UINT32, OPT),
        S("shuffle", 3, BOOL, OPT))

MESSAGE(HDF5OutputParameter, S("file_name", 1, STRING, OPT))

MESSAGE(HingeLossParameter, E("norm", 1, OPT, e_HingeNorm))

MESSAGE(ImageDataParameter,
        S("source", 1, STRING, OPT),
        S("batch_size", 4, UINT32, OPT),
        S("rand_skip", 7, UINT32, OPT),
        S("shuffle", 8, BOOL, OPT),
        S("new_height", 9, UINT32, OPT),
        S("new_width", 10, UINT32, OPT),
        S("is_color", 11, BOOL, OPT),
        S("scale", 2, FLOAT, OPT),
        S("mean_file", 3, STRING, OPT),
        S("crop_size", 5, UINT32, OPT),
        S("mirror", 6, BOOL, OPT),
        S("root_folder", 12, STRING, OPT))

MESSAGE(InfogainLossParameter,
        S("source", 1, STRING, OPT),
        S("axis", 2, INT32, OPT))

MESSAGE(InnerProductParameter,
        S("num_output", 1, UINT32, OPT),
        S("bias_term", 2, BOOL, OPT),
        M("weight_filler", 3, OPT, FillerParameter),
        M("bias_filler", 4, OPT, FillerParameter),
        S("axis", 5, INT32, OPT),
        S("transpose", 6, BOOL, OPT))

MESSAGE(InputParameter, M("shape", 1, REP, BlobShape))

MESSAGE(LogParameter,
        S("base", 1, FLOAT, OPT),
        S("scale", 2, FLOAT, OPT),
        S("shift", 3, FLOAT, OPT))

MESSAGE(LRNParameter,
        S("local_size", 1, UINT32, OPT),
        S("alpha", 2, FLOAT, OPT),
        S("beta", 3, FLOAT, OPT),
        E("norm_region", 4, OPT, e_NormRegion),
        S("k", 5, FLOAT, OPT),
        E("engine", 6, OPT, e_Engine))

/* SphereFace's A-Softmax layer (tools/caffe-sphereface caffe.proto). */
MESSAGE(MarginInnerProductParameter,
        S("num_output", 1, UINT32, OPT),
        E("type", 2, OPT, e_MarginType),
        M("weight_filler", 3, OPT, FillerParameter),
        S("axis", 4, INT32, OPT),
        S("base", 5, FLOAT, OPT),
        S("gamma", 6, FLOAT, OPT),
        S("power", 7, FLOAT, OPT),
        S("iteration", 8, INT32, OPT),
        S("lambda_min", 9, FLOAT, OPT))

MESSAGE(MemoryDataParameter,
        S("batch_size", 1, UINT32, OPT),
        S("channels", 2, UINT32, OPT),
        S("height", 3, UINT32, OPT),
        S("width", 4, UINT32, OPT))

MESSAGE(MVNParameter,
        S("normalize_variance", 1, BOOL, OPT),
        S("across_channels", 2, BOOL, OPT),
        S("eps", 3, FLOAT, OPT))

MESSAGE(ParameterParameter, M("shape", 1, OPT, BlobShape))

MESSAGE(PoolingParameter,
        E("pool", 1, OPT, e_PoolMethod),
        S("pad", 4, UINT32, OPT),
        S("pad_h", 9, UINT32, OPT),
        S("pad_w", 10, UINT32, OPT),
        S("kernel_size", 2, UINT32, OPT),
        S("kernel_h", 5, UINT32, OPT),
        S("kernel_w", 6, UINT32, OPT),
        S("stride", 3, UINT32, OPT),
        S("stride_h", 7, UINT32, OPT),
        S("stride_w", 8, UINT32, OPT),
        E("engine", 11, OPT, e_Engine),
        S("global_pooling", 12, BOOL, OPT),
        E("round_mode", 13, OPT, e_RoundMode))

MESSAGE(PowerParameter,
        S("power", 1, FLOAT, OPT),
        S("scale", 2, FLOAT, OPT),
        S("shift", 3, FLOAT, OPT))

MESSAGE(PReLUParameter,
        M("filler", 1, OPT, FillerParameter),
        S("channel_shared", 2, BOOL, OPT))

MESSAGE(PythonParameter,
        S("module", 1, STRING, OPT),
        S("layer", 2, STRING, OPT),
        S("param_str", 3, STRING, OPT),
        S("share_in_parallel", 4, BOOL, OPT))

MESSAGE(RecurrentParameter,
        S("num_output", 1, UINT32, OPT),
        M("weight_filler", 2, OPT, FillerParameter),
        M("bias_filler", 3, OPT, FillerParameter),
        S("debug_info", 4, BOOL, OPT),
        S("expose_hidden", 5, BOOL, OPT))

MESSAGE(ReductionParameter,
        E("operation", 1, OPT, e_ReductionOp),
        S("axis", 2, INT32, OPT),
        S("coeff", 3, FLOAT, OPT))

MESSAGE(ReLUParameter,
        S("negative_slope", 1, FLOAT, OPT),
        E("engine", 2, OPT, e_Engine))

MESSAGE(ReshapeParameter,
        M("shape", 1, OPT, BlobShape),
        S("axis", 2, INT32, OPT),
        S("num_axes", 3, INT32, OPT))

MESSAGE(ScaleParameter,
        S("axis", 1, INT32, OPT),
        S("num_axes", 2, INT32, OPT),
        M("filler", 3, OPT, FillerParameter),
        S("bias_term", 4, BOOL, OPT),
        M("bias_filler", 5, OPT, FillerParameter))

MESSAGE(SigmoidParameter, E("engine", 1, OPT, e_Engine))

MESSAGE(SoftmaxParameter,
        E("engine", 1, OPT, e_Engine),
        S("axis", 2, INT32, OPT))

MESSAGE(SPPParameter,
        S("pyramid_height", 1, UINT32, OPT),
        E("pool", 2, OPT, e_PoolMethod),
        E("engine", 6, OPT, e_Engine))

MESSAGE(SliceParameter,
        S("axis", 3, INT32, OPT),
        S("slice_point", 2, UINT32, REP),
        S("slice_dim", 1, UINT32, OPT))

MESSAGE(SwishParameter, S("beta", 1, FLOAT, OPT))

MESSAGE(TanHParameter, E("engine", 1, OPT, e_Engine))

MESSAGE(ThresholdParameter, S("threshold", 1, FLOAT, OPT))

MESSAGE(TileParameter,
        S("axis", 1, INT32, OPT),
        S("tiles", 2, INT32, OPT))

MESSAGE(WindowDataParameter,
        S("source", 1, STRING, OPT),
        S("scale", 2, FLOAT, OPT),
        S("mean_file", 3, STRING, OPT),
        S("batch_size", 4, UINT32, OPT),
        S("crop_size", 5, UINT32, OPT),
        S("mirror", 6, BOOL, OPT),
        S("fg_threshold", 7, FLOAT, OPT),
        S("bg_threshold", 8, FLOAT, OPT),
        S("fg_fraction", 9, FLOAT, OPT),
        S("context_pad", 10, UINT32, OPT),
        S("crop_mode", 11, STRING, OPT),
        S("cache_images", 12, BOOL, OPT),
        S("root_folder", 13, STRING, OPT))

/* ------------------------------------------------------------------ legacy layers */

MESSAGE(V1LayerParameter,
        S("bottom", 2, STRING, REP),
        S("top", 3, STRING, REP),
        S("name", 4, STRING, OPT),
        M("include", 32, REP, NetStateRule),
        M("exclude", 33, REP, NetStateRule),
        E("type", 5, OPT, e_LayerType),
        M("blobs", 6, REP, BlobProto),
        S("param", 1001, STRING, REP),
        E("blob_share_mode", 1002, REP, e_DimCheckMode),
        S("blobs_lr", 7, FLOAT, REP),
        S("weight_decay", 8, FLOAT, REP),
        S("loss_weight", 35, FLOAT, REP),
        M("accuracy_param", 27, OPT, AccuracyParameter),
        M("argmax_param", 23, OPT, ArgMaxParameter),
        M("concat_param", 9, OPT, ConcatParameter),
        M("contrastive_loss_param", 40, OPT, ContrastiveLossParameter),
        M("convolution_param", 10, OPT, ConvolutionParameter),
        M("data_param", 11, OPT, DataParameter),
        M("dropout_param", 12, OPT, DropoutParameter),
        M("dummy_data_param", 26, OPT, DummyDataParameter),
        M("eltwise_param", 24, OPT, EltwiseParameter),
        M("exp_param", 41, OPT, ExpParameter),
        M("hdf5_data_param", 13, OPT, HDF5DataParameter),
        M("hdf5_output_param", 14, OPT, HDF5OutputParameter),
        M("hinge_loss_param", 29, OPT, HingeLossParameter),
        M("image_data_param", 15, OPT, ImageDataParameter),
        M("infogain_loss_param", 16, OPT, InfogainLossParameter),
        M("inner_product_param", 17, OPT, InnerProductParameter),
        M("lrn_param", 18, OPT, LRNParameter),
        M("memory_data_param", 22, OPT, MemoryDataParameter),
        M("mvn_param", 34, OPT, MVNParameter),
        M("pooling_param", 19, OPT, PoolingParameter),
        M("power_param", 21, OPT, PowerParameter),
        M("relu_param", 30, OPT, ReLUParameter),
        M("sigmoid_param", 38, OPT, SigmoidParameter),
        M("softmax_param", 39, OPT, SoftmaxParameter),
        M("slice_param", 31, OPT, SliceParameter),
        M("tanh_param", 37, OPT, TanHParameter),
        M("threshold_param", 25, OPT, ThresholdParameter),
        M("window_data_param", 20, OPT, WindowDataParameter),
        M("transform_param", 36, OPT, TransformationParameter),
        M("loss_param", 42, OPT, LossParameter),
        M("layer", 1, OPT, V0LayerParameter))

MESSAGE(V0LayerParameter,
        S("name", 1, STRING, OPT),
        S("type", 2, STRING, OPT),
        S("num_output", 3, UINT32, OPT),
        S("biasterm", 4, BOOL, OPT),
        M("weight_filler", 5, OPT, FillerParameter),
        M("bias_filler", 6, OPT, FillerParameter),
        S("pad", 7, UINT32, OPT),
        S("kernelsize", 8, UINT32, OPT),
        S("group", 9, UINT32, OPT),
        S("stride", 10, UINT32, OPT),
        E("pool", 11, OPT, e_PoolMethod),
        S("dropout_ratio", 12, FLOAT, OPT),
        S("local_size", 13, UINT32, OPT),
        S("alpha", 14, FLOAT, OPT),
        S("beta", 15, FLOAT, OPT),
        S("k", 22, FLOAT, OPT),
        S("source", 16, STRING, OPT),
        S("scale", 17, FLOAT, OPT),
        S("meanfile", 18, STRING, OPT),
        S("batchsize", 19, UINT32, OPT),
        S("cropsize", 20, UINT32, OPT),
        S("mirror", 21, BOOL, OPT),
        M("blobs", 50, REP, BlobProto),
        S("blobs_lr", 51, FLOAT, REP),
        S("weight_decay", 52, FLOAT, REP),
        S("rand_skip", 53, UINT32, OPT),
        S("det_fg_threshold", 54, FLOAT, OPT),
        S("det_bg_threshold", 55, FLOAT, OPT),
        S("det_fg_fraction", 56, FLOAT, OPT),
        S("det_context_pad", 58, UINT32, OPT),
        S("det_crop_mode", 59, STRING, OPT),
        S("new_num", 60, INT32, OPT),
        S("new_channels", 61, INT32, OPT),
        S("new_height", 62, INT32, OPT),
        S("new_width", 63, INT32, OPT),
        S("shuffle_images", 64, BOOL, OPT),
        S("concat_dim", 65, UINT32, OPT),
        M("hdf5_output_param", 1001, OPT, HDF5OutputParameter))

static const sc_schema_message *const all_messages[] = {
    &m_BlobShape, &m_BlobProto, &m_BlobProtoVector, &m_Datum, &m_FillerParameter, &m_NetParameter,
    &m_SolverParameter, &m_SolverState, &m_NetState, &m_NetStateRule, &m_ParamSpec, &m_LayerParameter,
    &m_TransformationParameter, &m_LossParameter, &m_AccuracyParameter, &m_ArgMaxParameter,
    &m_BatchNormParameter, &m_BiasParameter, &m_ClipParameter, &m_ConcatParameter,
    &m_ContrastiveLossParameter, &m_ConvolutionParameter, &m_CropParameter, &m_DataParameter,
    &m_DropoutParameter, &m_DummyDataParameter, &m_EltwiseParameter, &m_ELUParameter, &m_EmbedParameter,
    &m_ExpParameter, &m_FlattenParameter, &m_HDF5DataParameter, &m_HDF5OutputParameter,
    &m_HingeLossParameter, &m_ImageDataParameter, &m_InfogainLossParameter, &m_InnerProductParameter,
    &m_InputParameter, &m_LogParameter, &m_LRNParameter, &m_MarginInnerProductParameter,
    &m_MemoryDataParameter, &m_MVNParameter, &m_ParameterParameter, &m_PoolingParameter,
    &m_PowerParameter, &m_PReLUParameter, &m_PythonParameter, &m_RecurrentParameter,
    &m_ReductionParameter, &m_ReLUParameter, &m_ReshapeParameter, &m_ScaleParameter,
    &m_SigmoidParameter, &m_SoftmaxParameter, &m_SPPParameter, &m_SliceParameter, &m_SwishParameter,
    &m_TanHParameter, &m_ThresholdParameter, &m_TileParameter, &m_WindowDataParameter,
    &m_V1LayerParameter, &m_V0LayerParameter,
};

/* ------------------------------------------------------------------ lookups */

const sc_schema_message *const *sc_schema_messages(size_t *count)
{
    if (count)
        *count = COUNT(all_messages);
    return all_messages;
}

const sc_schema_message *sc_schema_find(const char *message_type)
{
    if (!message_type)
        return NULL;
    for (size_t i = 0; i < COUNT(all_messages); i++)
        if (strcmp(all_messages[i]->name, message_type) == 0)
            return all_messages[i];
    return NULL;
}

const sc_schema_field *sc_schema_field_find(const sc_schema_message *msg, const char *name)
{
    if (!msg || !name)
        return NULL;
    for (size_t i = 0; i < msg->n_fields; i++)
        if (strcmp(msg->fields[i].name, name) == 0)
            return &msg->fields[i];
    return NULL;
}

const sc_schema_field *sc_schema_field_by_number(const sc_schema_message *msg, int number)
{
    if (!msg)
        return NULL;
    for (size_t i = 0; i < msg->n_fields; i++)
        if (msg->fields[i].number == number)
            return &msg->fields[i];
    return NULL;
}

const sc_schema_enum_value *sc_schema_enum_find(const sc_schema_enum *e, const char *name)
{
    if (!e || !name)
        return NULL;
    for (size_t i = 0; i < e->n_values; i++)
        if (strcmp(e->values[i].name, name) == 0)
            return &e->values[i];
    return NULL;
}

const sc_schema_enum_value *sc_schema_enum_by_number(const sc_schema_enum *e, int number)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->n_values; i++)
        if (e->values[i].number == number)
            return &e->values[i];
    return NULL;
}

const char *sc_schema_type_name(sc_schema_type type)
{
    switch (type) {
    case SC_SCHEMA_INT32: return "int32";
    case SC_SCHEMA_INT64: return "int64";
    case SC_SCHEMA_UINT32: return "uint32";
    case SC_SCHEMA_UINT64: return "uint64";
    case SC_SCHEMA_FLOAT: return "float";
    case SC_SCHEMA_DOUBLE: return "double";
    case SC_SCHEMA_BOOL: return "bool";
    case SC_SCHEMA_STRING: return "string";
    case SC_SCHEMA_BYTES: return "bytes";
    case SC_SCHEMA_ENUM: return "enum";
    case SC_SCHEMA_MESSAGE: return "message";
    }
    return "?";
}

/* ------------------------------------------------------------------ validation */

/* Largest field count of any message (LayerParameter); sizes the per-message
 * table of first occurrences kept on the stack during validation. */
#define SC_SCHEMA_MAX_FIELDS 80

/* Edit distance between short names, for "did you mean" hints; larger names
 * (only hostile input has them) get no hint. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[65];
    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *suggest_field(const sc_schema_message *msg, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < msg->n_fields; i++) {
        size_t d = edit_distance(name, msg->fields[i].name);
        if (d < best_d) {
            best_d = d;
            best = msg->fields[i].name;
        }
    }
    size_t limit = strlen(name) / 3 + 1;
    return best_d <= (limit < 3 ? limit : 3) ? best : NULL;
}

static sc_status unknown_field(const sc_pt_node *n, const sc_schema_message *msg, sc_error *err)
{
    const char *hint = suggest_field(msg, n->name);
    return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: unknown field '%.64s' in %s, expected a field of %s%s%s%s",
                   n->file, n->line, n->col, n->name, msg->name, msg->name, hint ? " (did you mean '" : "",
                   hint ? hint : "", hint ? "'?)" : "");
}

/* "MAX, AVE, STOCHASTIC" into buf. */
static const char *enum_names(const sc_schema_enum *e, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_values && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", e->values[i].name);
    return buf;
}

/* What a field takes, for "expected ..." text. */
static const char *expected_text(const sc_schema_field *f, char *buf, size_t size)
{
    char names[1024];
    switch (f->type) {
    case SC_SCHEMA_INT32:
    case SC_SCHEMA_INT64:
    case SC_SCHEMA_UINT32:
    case SC_SCHEMA_UINT64: snprintf(buf, size, "an integer (%s)", sc_schema_type_name(f->type)); break;
    case SC_SCHEMA_FLOAT:
    case SC_SCHEMA_DOUBLE: snprintf(buf, size, "a number (%s)", sc_schema_type_name(f->type)); break;
    case SC_SCHEMA_BOOL: snprintf(buf, size, "true or false"); break;
    case SC_SCHEMA_STRING:
    case SC_SCHEMA_BYTES: snprintf(buf, size, "a quoted string"); break;
    case SC_SCHEMA_ENUM: snprintf(buf, size, "one of %s", enum_names(f->enum_type, names, sizeof names)); break;
    case SC_SCHEMA_MESSAGE: snprintf(buf, size, "a '{ ... }' block (%s)", f->message->name); break;
    }
    return buf;
}

/* "FILE:L:C: <value> for Msg.field, expected <what the field takes>" */
static sc_status type_fail(const sc_pt_node *n, const sc_schema_message *msg, const sc_schema_field *f,
                           const char *extra, sc_error *err)
{
    char what[256], expected[1200];
    return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: %s for %s.%s%s, expected %s", n->file, n->line, n->col,
                   sc_pt_describe(n, what, sizeof what), msg->name, f->name, extra,
                   expected_text(f, expected, sizeof expected));
}

static sc_status check_int(const sc_pt_node *n, const sc_schema_message *msg, const sc_schema_field *f,
                           sc_error *err)
{
    static const struct { long long lo; unsigned long long hi; } range[] = {
        [SC_SCHEMA_INT32] = {-2147483647LL - 1, 2147483647ULL},
        [SC_SCHEMA_INT64] = {-9223372036854775807LL - 1, 9223372036854775807ULL},
        [SC_SCHEMA_UINT32] = {0, 4294967295ULL},
        [SC_SCHEMA_UINT64] = {0, 18446744073709551615ULL},
    };
    if (!sc_pt_is_integer(n))
        return type_fail(n, msg, f, "", err);
    int neg = n->text[0] == '-';
    long long sv = 0;
    unsigned long long uv = 0;
    sc_status st = neg ? sc_pt_int_at(n, &sv, NULL) : sc_pt_uint_at(n, &uv, NULL);
    int ok = st == SC_OK && (neg ? sv >= range[f->type].lo : uv <= range[f->type].hi);
    if (ok)
        return SC_OK;
    char what[256];
    return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: %s for %s.%s is out of range, expected an integer in %lld..%llu (%s)",
                   n->file, n->line, n->col, sc_pt_describe(n, what, sizeof what), msg->name, f->name,
                   range[f->type].lo, range[f->type].hi, sc_schema_type_name(f->type));
}

/* Protobuf accepts an enum's number as well as its name (SphereFace's own
 * prototxts write `operation: 1`); the number is replaced by the name so that
 * readers of the tree (sc_pt_get_enum) only ever see names. */
static sc_status enum_number_to_name(sc_pt_node *n, const sc_schema_enum_value *ev, sc_error *err)
{
    size_t len = strlen(ev->name);
    char *text = malloc(len + 1);
    if (!text)
        return sc_fail(err, SC_ERR_NOMEM, "%s:%d:%d: out of memory", n->file, n->line, n->col);
    memcpy(text, ev->name, len + 1);
    free(n->text);
    n->text = text;
    n->text_len = len;
    n->kind = SC_PT_IDENT;
    return SC_OK;
}

static sc_status check_enum(sc_pt_node *n, const sc_schema_message *msg, const sc_schema_field *f, sc_error *err)
{
    char names[1024];
    if (n->kind == SC_PT_IDENT) {
        if (sc_schema_enum_find(f->enum_type, n->text))
            return SC_OK;
        return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: bad value '%.64s' for %s.%s, expected one of %s", n->file,
                       n->line, n->col, n->text, msg->name, f->name,
                       enum_names(f->enum_type, names, sizeof names));
    }
    long long v;
    if (sc_pt_is_integer(n) && sc_pt_int_at(n, &v, NULL) == SC_OK && v >= -2147483647LL - 1 && v <= 2147483647LL) {
        const sc_schema_enum_value *ev = sc_schema_enum_by_number(f->enum_type, (int)v);
        if (ev)
            return enum_number_to_name(n, ev, err);
        char what[256];
        return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: bad value %s for %s.%s, expected one of %s", n->file, n->line,
                       n->col, sc_pt_describe(n, what, sizeof what), msg->name, f->name,
                       enum_names(f->enum_type, names, sizeof names));
    }
    return type_fail(n, msg, f, "", err);
}

static sc_status validate_message(sc_pt_node *node, const sc_schema_message *msg, int depth, sc_error *err);

/* One occurrence of field f with value node n. */
static sc_status check_value(sc_pt_node *n, const sc_schema_message *msg, const sc_schema_field *f,
                             int depth, sc_error *err)
{
    if (f->type == SC_SCHEMA_MESSAGE)
        return n->kind == SC_PT_MESSAGE ? validate_message(n, f->message, depth + 1, err)
                                        : type_fail(n, msg, f, "", err);
    if (n->kind == SC_PT_MESSAGE)
        return type_fail(n, msg, f, " (a scalar field)", err);
    switch (f->type) {
    case SC_SCHEMA_INT32:
    case SC_SCHEMA_INT64:
    case SC_SCHEMA_UINT32:
    case SC_SCHEMA_UINT64: return check_int(n, msg, f, err);
    case SC_SCHEMA_FLOAT:
    case SC_SCHEMA_DOUBLE: {
        double v;
        return sc_pt_float_at(n, &v, NULL) == SC_OK ? SC_OK : type_fail(n, msg, f, "", err);
    }
    case SC_SCHEMA_BOOL: {
        int v;
        return sc_pt_bool_at(n, &v, NULL) == SC_OK ? SC_OK : type_fail(n, msg, f, "", err);
    }
    case SC_SCHEMA_STRING:
    case SC_SCHEMA_BYTES: return n->kind == SC_PT_STRING ? SC_OK : type_fail(n, msg, f, "", err);
    case SC_SCHEMA_ENUM: return check_enum(n, msg, f, err);
    case SC_SCHEMA_MESSAGE: break;
    }
    return SC_OK;
}

/* A non-repeated field may appear once and not in `[...]` form, as protobuf's
 * text parser insists. first[] holds the first occurrence of each field. */
static sc_status check_cardinality(const sc_pt_node *n, const sc_schema_message *msg, const sc_schema_field *f,
                                   const sc_pt_node *first, sc_error *err)
{
    if (f->label == SC_SCHEMA_REPEATED)
        return SC_OK;
    if (first)
        return sc_fail(err, SC_ERR_PARSE,
                       "%s:%d:%d: second '%s' in %s (first at %d:%d), expected at most one: the field is not repeated",
                       n->file, n->line, n->col, f->name, msg->name, first->line, first->col);
    if (n->in_list)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: list '[...]' for %s.%s, expected a single value: the field is not repeated",
                       n->file, n->line, n->col, msg->name, f->name);
    return SC_OK;
}

static sc_status check_required(const sc_pt_node *node, const sc_schema_message *msg, const sc_pt_node *const *first,
                                sc_error *err)
{
    for (size_t i = 0; i < msg->n_fields; i++)
        if (msg->fields[i].label == SC_SCHEMA_REQUIRED && !first[i])
            return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: '%s' block without '%s', expected the required field %s.%s",
                           node->file, node->line, node->col, node->name[0] ? node->name : msg->name,
                           msg->fields[i].name, msg->name, msg->fields[i].name);
    return SC_OK;
}

static sc_status validate_message(sc_pt_node *node, const sc_schema_message *msg, int depth, sc_error *err)
{
    const sc_pt_node *first[SC_SCHEMA_MAX_FIELDS] = {0};
    if (msg->n_fields > SC_SCHEMA_MAX_FIELDS || depth > SC_PT_MAX_DEPTH + 1)
        return sc_fail(err, SC_ERR_ARG, "%s:%d:%d: %s is too large or too deep to validate", node->file, node->line,
                       node->col, msg->name);
    for (size_t i = 0; i < node->n_children; i++) {
        sc_pt_node *c = node->children[i];
        const sc_schema_field *f = sc_schema_field_find(msg, c->name);
        if (!f)
            return unknown_field(c, msg, err);
        size_t idx = (size_t)(f - msg->fields);
        SC_TRY(check_cardinality(c, msg, f, first[idx], err));
        if (!first[idx])
            first[idx] = c;
        SC_TRY(check_value(c, msg, f, depth, err));
    }
    return check_required(node, msg, first, err);
}

sc_status sc_schema_validate(sc_pt_node *root, const char *message_type, sc_error *err)
{
    const sc_schema_message *msg = sc_schema_find(message_type);
    if (!msg)
        return sc_fail(err, SC_ERR_ARG, "sc_schema_validate: unknown message type '%s'",
                       message_type ? message_type : "(null)");
    if (!root || root->kind != SC_PT_MESSAGE)
        return sc_fail(err, SC_ERR_ARG, "sc_schema_validate: root is not a message");
    return validate_message(root, msg, 0, err);
}
