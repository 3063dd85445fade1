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
