"""Builds the tiny ONNX graphs the Go tests load.

Run with Debian's python3-onnx 1.12:
  /usr/bin/python3 models/testdata/make_fixtures.py
"""
import os
import onnx
from onnx import helper, TensorProto

here = os.path.dirname(os.path.abspath(__file__))

# affine.onnx: y = 2·x + 1 on a [1,3,H,W] float tensor (dynamic H and W).
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "h", "w"])
two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
graph = helper.make_graph(
    [helper.make_node("Mul", ["x", "two"], ["t"]), helper.make_node("Add", ["t", "one"], ["y"])],
    "affine", [x], [y], initializer=[two, one])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="addsr-bench fixtures")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "affine.onnx"))

# Tiny SR graphs for the runner tests (all ×2):
#   sr2_nearest.onnx  Resize nearest ×2, dynamic batch and size
#   sr2_conv.onnx     3×3 conv to 12 channels (seeded weights) + DepthToSpace(2)
#   sr2_fixed.onnx    sr2_conv with a fixed 1×3×16×16 input
#   sr2_fp16.onnx     float16 input and output around sr2_nearest
import numpy as np
from onnx import numpy_helper

def save(name, nodes, inits, in_shape, out_shape, elem=TensorProto.FLOAT):
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("lr", elem, in_shape)],
                          [helper.make_tensor_value_info("sr", elem, out_shape)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="addsr-bench fixtures")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(here, name + ".onnx"))

roi = numpy_helper.from_array(np.zeros(0, np.float32), "roi")
scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
resize = helper.make_node("Resize", ["lr", "roi", "scales"], ["sr"], mode="nearest",
                          coordinate_transformation_mode="asymmetric", nearest_mode="floor")
save("sr2_nearest", [resize], [roi, scales], ["n", 3, "h", "w"], ["n", 3, "h2", "w2"])

rng = np.random.default_rng(5)
w = numpy_helper.from_array((rng.standard_normal((12, 3, 3, 3)) * 0.2).astype(np.float32), "w")
b = numpy_helper.from_array((rng.standard_normal(12) * 0.1).astype(np.float32), "b")
conv = [helper.make_node("Conv", ["lr", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["c"], ["sr"], blocksize=2, mode="CRD")]
save("sr2_conv", conv, [w, b], ["n", 3, "h", "w"], ["n", 3, "h2", "w2"])
save("sr2_fixed", conv, [w, b], [1, 3, 16, 16], [1, 3, 32, 32])

fp16 = [helper.make_node("Cast", ["lr"], ["lr32"], to=TensorProto.FLOAT),
        helper.make_node("Resize", ["lr32", "roi", "scales"], ["sr32"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Cast", ["sr32"], ["sr"], to=TensorProto.FLOAT16)]
save("sr2_fp16", fp16, [roi, scales], ["n", 3, "h", "w"], ["n", 3, "h2", "w2"], elem=TensorProto.FLOAT16)
