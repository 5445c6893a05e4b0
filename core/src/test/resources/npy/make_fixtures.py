#!/usr/bin/env python3
"""Writes the tiny .npy fixtures NpyTest reads. Run from anywhere: python3 make_fixtures.py

Every array comes from a formula over np.arange so NpyTest can recompute the expected values in
Java; keep the two in sync when changing a formula here.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save_version(name, arr, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version)


# f4 [2, 3]: v[i] = i * 0.5 - 1
np.save(path("f4_2x3.npy"), (np.arange(6, dtype="<f4") * np.float32(0.5) - np.float32(1)).reshape(2, 3))

# f8 [2, 2, 3]: v[i] = i / 3.0 - 1.0 (float64), read back as float32
np.save(path("f8_2x2x3.npy"), (np.arange(12, dtype="<f8") / 3.0 - 1.0).reshape(2, 2, 3))

# f4 [5]: special values, in this order
np.save(path("f4_special.npy"), np.array([np.nan, -0.0, np.inf, -np.inf, 1e-45], dtype="<f4"))

# f4 scalar (shape ()): 2.5
np.save(path("f4_scalar.npy"), np.array(2.5, dtype="<f4"))

# f4 [0, 3]: empty
np.save(path("f4_empty.npy"), np.zeros((0, 3), dtype="<f4"))

# bool [3, 4]: v[i] = i % 3 == 0
np.save(path("bool_3x4.npy"), (np.arange(12) % 3 == 0).reshape(3, 4))

# uint8 [2, 5]: v[i] = (i * 7) % 4, read as v[i] != 0
np.save(path("u1_2x5.npy"), ((np.arange(10) * 7) % 4).astype("|u1").reshape(2, 5))

# version 2.0, f4 [4]: v[i] = i + 0.25
save_version("v2_f4.npy", np.arange(4, dtype="<f4") + np.float32(0.25), (2, 0))

# version 3.0, f4 [2, 2]: v[i] = -i
save_version("v3_f4.npy", (-np.arange(4, dtype="<f4")).reshape(2, 2), (3, 0))

# Fortran order, f4 [2, 3]: v[i] = i (C order values), stored column-major
np.save(path("fortran_f4.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))

# big-endian f4 [4]: v[i] = i
np.save(path("be_f4.npy"), np.arange(4, dtype=">f4"))

# int64 [5]: v[i] = 3 * i + 1
np.save(path("i8_5.npy"), np.arange(5, dtype="<i8") * 3 + 1)

# int32 [4]: v[i] = 100 - i
np.save(path("i4_4.npy"), 100 - np.arange(4, dtype="<i4"))

# int16 [3]: unsupported dtype
np.save(path("i2_3.npy"), np.arange(3, dtype="<i2"))
