# Writes a GGUF file with llama.cpp's gguf-py (metadata of every type, tensors in F32, F16, BF16,
# Q8_0 and Q4_0 quantised by gguf-py), then reads it back with gguf-py's reader and writes each
# tensor's dequantised values as raw little-endian float32 to OUT_DIR/NAME.f32.
# Usage: python3 write_with_gguf_py.py OUT_DIR   (PYTHONPATH must hold llama.cpp's gguf-py)
import sys, os
import numpy as np
import gguf
from gguf import quants

out = sys.argv[1]
path = os.path.join(out, "py.gguf")
rng = np.random.default_rng(7)
w = gguf.GGUFWriter(path, "llama")
w.add_uint8("t.u8", 200); w.add_int8("t.i8", -100); w.add_uint16("t.u16", 60000); w.add_int16("t.i16", -30000)
w.add_uint32("t.u32", 4000000000); w.add_int32("t.i32", -2000000000); w.add_float32("t.f32", 1.25)
w.add_uint64("t.u64", 2**40 + 3); w.add_int64("t.i64", -(2**40)); w.add_float64("t.f64", -0.1)
w.add_bool("t.bool", True); w.add_string("t.str", "héllo ✓")
w.add_array("t.arr_str", ["a", "", "ž"]); w.add_array("t.arr_i32", [1, -2, 3])
w.add_array("t.arr_f32", [0.5, -1.5])
shapes = {"F32": (3, 5), "F16": (4, 7), "BF16": (2, 9), "Q8_0": (3, 64), "Q4_0": (5, 96)}
for name, shape in shapes.items():
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    qt = gguf.GGMLQuantizationType[name]
    if name == "F32":
        w.add_tensor(name.lower(), x)
    elif name == "F16":
        w.add_tensor(name.lower(), x.astype(np.float16))
    else:
        q = quants.quantize(x, qt)
        w.add_tensor(name.lower(), q, raw_shape=q.shape, raw_dtype=qt)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

r = gguf.GGUFReader(path)
for t in r.tensors:
    deq = quants.dequantize(t.data, t.tensor_type).astype(np.float32)
    deq.astype("<f4").tofile(os.path.join(out, t.name + ".f32"))
    with open(os.path.join(out, t.name + ".shape"), "w") as f:
        f.write(" ".join(str(int(d)) for d in t.shape))
