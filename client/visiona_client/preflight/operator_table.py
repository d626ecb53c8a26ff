"""Kneron's operator table per chip. GENERATED: do not edit by hand.

Made by client/tools/generate_operator_table.py from client/tools/kneron-operators.md
(kneron/document_center, docs/toolchain/appendix/operators).
SUPPORT[op][i] is ("Y" NPU or "N" CPU, note number or None) for CHIPS[i].
"""

CHIPS = ("520", "720", "530", "630", "730")

SUPPORT = {
    "Abs": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "Acos": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Acosh": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Add": (("Y", 1), ("Y", 1), ("Y", 1), ("Y", 1), ("Y", None)),
    "And": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ArgMax": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ArgMin": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Asin": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Asinh": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Atan": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Atanh": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "AveragePool": (("Y", 2), ("Y", 3), ("Y", 3), ("Y", 3), ("Y", 4)),
    "BatchNormalization": (("Y", 1), ("Y", 1), ("Y", 1), ("Y", 1), ("Y", 1)),
    "Bernoulli": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BitShift": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BitwiseAnd": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BitwiseNot": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BitwiseOr": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BitwiseXor": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "BlackmanWindow": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "CastLike": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Cast": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Ceil": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Celu": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "CenterCropPad": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Clip": (("Y", 5), ("Y", 5), ("Y", 5), ("Y", 5), ("Y", 5)),
    "Col2lm": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Compress": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ConcatFromSequence": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Concat": (("Y", 1), ("Y", 1), ("Y", 1), ("Y", 1), ("Y", None)),
    "ConvInteger": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Conv": (("Y", 6), ("Y", 7), ("Y", 8), ("Y", 8), ("Y", 8)),
    "ConvTranspose": (("N", None), ("Y", 9), ("Y", 10), ("Y", 10), ("Y", None)),
    "Cos": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Cosh": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "CumSum": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "DFT": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "DepthToSpace": (("Y", 11), ("Y", 11), ("Y", 12), ("Y", 12), ("Y", 12)),
    "DequantizeLinear": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Det": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Div": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "Dropout": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "DynamicQuantizeLinear": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Einsum": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Elu": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "Equal": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Erf": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "Exp": (("N", None), ("Y", 14), ("Y", None), ("Y", None), ("Y", None)),
    "Expand": (("N", None), ("Y", 15), ("Y", 16), ("Y", 16), ("Y", 16)),
    "EyeLike": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Flatten": (("N", None), ("Y", 17), ("Y", 17), ("Y", 17), ("Y", 17)),
    "Floor": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GRU": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GatherElements": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GatherND": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Gather": (("Y", 18), ("Y", 18), ("Y", 18), ("Y", 18), ("Y", 18)),
    "Gemm": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "GlobalAveragePool": (("Y", 19), ("Y", 20), ("Y", 20), ("Y", 20), ("Y", 20)),
    "GlobalLpPool": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GlobalMaxPool": (("Y", 21), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Greater": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GreaterOrEqual": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GridSample": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "GroupNormalization": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "HammingWindow": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "HannWindow": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "HardSigmoid": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "HardSwish": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Hardmax": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Identity": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "InstanceNormalization": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "IsInf": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "IsNaN": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "LRN": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "LSTM": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "LayerNormalization": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "LeakyRelu": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Less": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "LessOrEqual": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Log": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "LogSoftmax": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Loop": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "LpNormalization": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "LpPool": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "MatMulInteger": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "MatMul": (("N", None), ("Y", 22), ("Y", 22), ("Y", 22), ("Y", 23)),
    "Max": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "MaxPool": (("Y", 24), ("Y", 24), ("Y", 25), ("Y", 25), ("Y", 25)),
    "MaxRoiPool": (("N", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "MaxUnpool": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Mean": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "MeanVarianceNormalization": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "MelWeightMatrix": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Min": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Mish": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Mod": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Mul": (("N", None), ("Y", 1), ("Y", 1), ("Y", 1), ("Y", None)),
    "Multinomial": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Neg": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "NegativeLogLikelihoodLoss": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "NonMaxSuppression": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "NonZero": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Not": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "OneHot": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Or": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "PRelu": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Pad": (("Y", 26), ("Y", 26), ("Y", 26), ("Y", 26), ("Y", 27)),
    "Pow": (("N", None), ("Y", 29), ("Y", 29), ("Y", 29), ("Y", 29)),
    "QLinearConv": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "QLinearMatMul": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "QuantizeLinear": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RandomNormalLike": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RandomNormal": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RandomUniformLike": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RandomUniform": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Range": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Reciprocal": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "ReduceL1": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ReduceL2": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ReduceLogSumExp": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ReduceLogSum": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ReduceMax": (("Y", 30), ("Y", 30), ("Y", 30), ("Y", 30), ("Y", 30)),
    "ReduceMean": (("N", None), ("Y", 31), ("Y", 31), ("Y", 31), ("Y", 31)),
    "ReduceMin": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "ReduceProd": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ReduceSum": (("Y", 32), ("Y", 31), ("Y", 31), ("Y", 31), ("Y", None)),
    "ReduceSumSquare": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Relu": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Reshape": (("N", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Resize": (("Y", 34), ("Y", 35), ("Y", 36), ("Y", 36), ("Y", 36)),
    "ReverseSequence": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RNN": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "RoiAlign": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Round": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "STFT": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ScatterElements": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "ScatterND": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Scatter": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Selu": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceAt": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceConstruct": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceEmpty": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceErase": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceInsert": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SequenceLength": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Shape": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Shrink": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Sigmoid": (("N", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Sign": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "Sin": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Sinh": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Size": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SliceHeader": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Slice": (("N", None), ("Y", 37), ("Y", 37), ("Y", 37), ("Y", 38)),
    "SliceTail": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SoftmaxCrossEntropyLoss": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Softmax": (("N", None), ("N", 39), ("Y", 40), ("Y", 40), ("Y", 40)),
    "Softplus": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Softsign": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "SpaceToDepth": (("N", None), ("N", None), ("Y", 41), ("Y", 41), ("Y", 41)),
    "Split": (("N", None), ("N", None), ("N", None), ("N", None), ("Y", None)),
    "Sqrt": (("N", None), ("N", None), ("Y", None), ("Y", None), ("Y", None)),
    "Squeeze": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Sub": (("Y", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "Sum": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Tan": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Tanh": (("N", None), ("Y", None), ("Y", None), ("Y", None), ("Y", None)),
    "ThresholdedRelu": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Tile": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "TopK": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Transpose": (("N", None), ("Y", 42), ("Y", 43), ("Y", 43), ("Y", None)),
    "Trilu": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Unique": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Unsqueeze": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Upsample": (("Y", 44), ("Y", 45), ("Y", 46), ("Y", 46), ("Y", 46)),
    "Where": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
    "Xor": (("N", None), ("N", None), ("N", None), ("N", None), ("N", None)),
}

NOTES = {
    1: "Conditions: rank <= 4D",
    2: (
        "AveragePool 520 conditions:\n"
        "- (ceil_mode=0, count_include_pad=0, kernel is nxn, stride is nxn where n is "
        "power of 2 and n > 3) or\n"
        "- (ceil_mode=0, dilations={1,1}, kernel = 1 and stride > 1) or\n"
        "- (ceil_mode=0, count_include_pad=0, stride is sxs where s > 3) or\n"
        "- (2D pool, dilation == 1, kernel is kxk & stride is sxs where k <= 3 and s <= "
        "k)"
    ),
    3: (
        "AveragePool 720/530/630 conditions:\n"
        "- (ceil_mode=0, count_include_pad=0, kernel is nxn, stride is nxn where n is "
        "power of 2 and n > 3) or\n"
        "- (ceil_mode=0, dilations={1,1}, kernel = 1 and stride > 1) or\n"
        "- (ceil_mode=0, count_include_pad=0, stride is sxs where s > 3) or\n"
        "- (2D pool, dilation == 1, kernel is kxk & stride is sxs where k and s <= 3 or "
        "kernel_w & stride_w are 1 and kernel_h & stride_h <= 3 or kernel_h & stride_h "
        "are 1 and kernel_w = stride_w <= 3)"
    ),
    4: (
        "AveragePool 730 conditions:\n"
        "- (ceil_mode=0, count_include_pad=0, kernel is nxn and stride is nxn where n is "
        "power of 2 and n > 3) or\n"
        "- (ceil_mode=0, count_include_pad=0, dilation = 1, kernel = 1 and stride > 1) "
        "or\n"
        "- (ceil_mode=0, count_include_pad=0, stride is sxs and s > 3) or\n"
        "- (1D/2D pool, dilation == 1,\n"
        "  - kernel is kxk & stride is sxs where k and s <= 3 or\n"
        "  - kernel is kx1 & stride is sx1 where k and s <= 3 or\n"
        "  - kernel is 1xn & stride is 1xn where n <= 3)"
    ),
    5: "conditions: min = 0 && max >= 0",
    6: "conditions: rank <= 4 && kernel <= 12 && stride_w <= 16 && stride_h <= 4",
    7: "conditions: rank <= 4 && stride_w <= 16 && stride_h <= 4",
    8: "conditions: rank <= 4",
    9: "condition: stride is sxs where s = 2",
    10: "condition: stride is sxs",
    11: (
        "decompose contidion: in_shape = 1x4x?x? && out_shape = 1x1x?x? && mode = CRD && "
        "blocksize = 2"
    ),
    12: "conditions: blocksize = 2 or 4",
    13: "-",
    14: "decompose to constant + log2 + mul + pow2",
    15: "conditions: expend on column or row",
    16: "conditions: expend on channel or column or row",
    17: "conditions: axis = 1",
    18: "conditions: single index",
    19: "conditions: rank <= 4 && row * col <= 256",
    20: "conditions: rank <= 4 && row * col <= 16384",
    21: "conditions: row > 3",
    22: (
        "conditions:\n"
        "- if second input is const\n"
        "  - const input shape must be WxV or 1x1xWxV\n"
        "- else\n"
        "  - rank = 4"
    ),
    23: (
        "conditions:\n"
        "- if second input is const\n"
        "  - const input shape must be WxV or 1x1xWxV\n"
        "- else\n"
        "  - 3 <= rank <= 5"
    ),
    24: (
        "Maxpool conditions:\n"
        "- (ceil_mode=0, dilations={1,1}, kernel = 1 and stride > 1) or\n"
        "- (ceil_mode=0, dilations={1,1}, kernel_h=kernel_w=stride_h=stride_w=K where K "
        "is power of 2 and K > 3) or\n"
        "- (ceil_mode=0, kernel > 3) or\n"
        "- (2D pool, dilation == 1, kernel is kxk & stride is sxs where 2 <= k <= 3 and "
        "s <= k)"
    ),
    25: (
        "Maxpool conditions:\n"
        "- (ceil_mode=0, dilations={1,1}, kernel = 1 and stride > 1) or\n"
        "- (ceil_mode=0, dilations={1,1}, kernel_h=kernel_w=stride_h=stride_w=K where K "
        "is power of 2 and K > 3) or\n"
        "- (ceil_mode=0, kernel > 3) or\n"
        "- (2D pool,\n"
        "  - dilation == 1,\n"
        "  - kernel is kxk & stride is sxs where n and s <= 3 or\n"
        "  - kernel_w & stride_w are 1 and kernel_h & stride_h <= 3 or\n"
        "  - kernel_h & stride_h are 1 and kernel_w = stride_w <= 3)"
    ),
    26: "conditions: not pad in batch && any pad in spatial < 32 && constant mode with 0 const_val",
    27: "conditions: not pad in batch && any of pad < 32 && constant mode with 0 const_val",
    28: "-",
    29: "conditions: power is 2",
    30: "conditions: keepdims = 1",
    31: "conditions: keepdims = 1 && reduce not in batch",
    32: "conditions: keepdims = 1 && reduce in ch",
    33: "-",
    34: (
        "conditions: mode != cubic && extrapolation_value is 0 && rank is 4 && "
        "phase_init is {0,0} && nearest_mode is floor if mode is nearest && "
        "coordinate_transformation_mode != tf_crop_and_resize"
    ),
    35: (
        "conditions: mode != cubic && extrapolation_value is 0 && rank is 4 && not both "
        "vus_en and hus_en enabled && phase_init_v >= 0 and delta_v <= 1 if vus_en "
        "enabled && phase_init_h >= 0 and delta_h <= 1 if hus_en enabled"
    ),
    36: "conditions: mode != cubic && extrapolation_value is 0",
    37: "conditions: rank <= 4 && all of steps are 1",
    38: "conditions: all of steps are 1",
    39: "will be decompose to ReduceSum + Div + Exp",
    40: "will be decompose to ReduceSum + Div + Neg + Add + Exp",
    41: "conditions: blocksize is 2 or 4",
    42: "conditions: row_col_transpose && ch_row_transpose",
    43: "conditions: transpose not in batch",
    44: (
        "conditions: rank is 4 && upsample in spatial && mode is nearest or linear or "
        "bilinear or align_corner"
    ),
    45: (
        "conditions: rank is 4 && upsample in row or column but not both && mode is "
        "nearest or linear or bilinear or align_corner"
    ),
    46: (
        "conditions: rank is 4 && upsample in spatial && mode is nearest or linear or "
        "bilinear or align_corner"
    ),
}
