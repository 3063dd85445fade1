"""Reads every_field.onnx (written by onnxpb_test.go, go test -update) with
Python's onnx package, an independent protobuf decoder, and checks it:

  /usr/bin/python3 testdata/every_field.py > testdata/every_field.txt

(Debian's python3-onnx 1.12; run in internal/onnxpb.)"""
import onnx
from onnx import numpy_helper

m = onnx.load('testdata/every_field.onnx')
onnx.checker.check_model(m, full_check=True)
print('check_model(full_check=True): ok')
print('ir_version', m.ir_version, 'producer', repr(m.producer_name), 'opset', [(o.domain, o.version) for o in m.opset_import])
print(onnx.helper.printable_graph(m.graph))
for t in m.graph.initializer:
    print(t.name, onnx.TensorProto.DataType.Name(t.data_type), list(t.dims), numpy_helper.to_array(t).tolist())
for v in list(m.graph.input) + list(m.graph.output):
    print(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
