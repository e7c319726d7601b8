"""Reference values for LedoitWolfTest: scikit-learn's ledoit_wolf on the test's fixed returns.

Run with /usr/bin/python3 and Debian's python3-sklearn installed: python3 tests/tools/ledoit_wolf_reference.py
"""
import math

import numpy as np
from sklearn.covariance import ledoit_wolf

ROWS, COLS = 40, 4
r = np.array([[0.01 * math.sin(0.7 * (t + 1) * (c + 1)) + 0.02 * math.cos(1.3 * t) * (1 + c) + 0.001 * c
               for c in range(COLS)] for t in range(ROWS)])
cov, shrinkage = ledoit_wolf(r)
print(f"shrinkage {shrinkage:.17g}")
for row in cov:
    print(", ".join(f"{x:.17g}" for x in row))
