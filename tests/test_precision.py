"""Training precision: bfloat16 matrix products where the CPU has a unit for them."""

import numpy as np
import pytest

from radio.contracts import RadioError
from radio.model import tf_engine as model_lib
from radio.offline import precision

AMX = "processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile amx_int8\n"
ZEN4 = "flags\t\t: fpu avx2 avx512f avx512_bf16\n"
HASWELL = "flags\t\t: fpu sse2 avx2 fma\n"


def test_auto_picks_bfloat16_only_where_the_cpu_multiplies_it():
    assert precision.native_bfloat16(AMX) and precision.native_bfloat16(ZEN4)
    assert not precision.native_bfloat16(HASWELL) and not precision.native_bfloat16("no flags here")
    assert precision.resolve("auto", AMX) == "bfloat16" and precision.resolve("auto", HASWELL) == "float32"
    assert precision.resolve("float32", AMX) == "float32" and precision.resolve("bfloat16", HASWELL) == "bfloat16"
    with pytest.raises(RadioError, match="use one of auto, float32, bfloat16"):
        precision.resolve("half", AMX)


@pytest.mark.parametrize("choice", ["float32", "bfloat16"])
def test_the_session_runs_matrix_products_in_the_precision_asked(choice):
    tf = model_lib._tf()
    with tf.Graph().as_default():
        a = tf.constant(np.random.default_rng(0).standard_normal((64, 64)), tf.float32)
        w = tf.Variable(np.eye(64, dtype=np.float32))
        loss = tf.reduce_sum(tf.square(tf.matmul(a, w)))
        step = tf.train.AdamOptimizer(1e-3).minimize(loss)
        config = tf.ConfigProto()
        precision.apply(config, choice)
        meta = tf.RunMetadata()
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step, options=tf.RunOptions(output_partition_graphs=True), run_metadata=meta)
            assert sess.run(w).dtype == np.float32                    # the weights stay float32
    products = [n for g in meta.partition_graphs for n in g.node if "MatMul" in n.op]
    assert products
    kinds = {tf.as_dtype(n.attr["T"].type).name for n in products}
    assert kinds == {choice}
