"""Fits the evidence weights of `lead_duplicates` (models/src/duplicates/evidence.rs) on a
generated workspace's planted duplicates: a logistic regression of "is a true pair" on
the evidence indicators of every candidate pair the blocking produces.

    leadql --data DIR sql --format csv -f benches/duplicates/candidates.sql > pairs.csv
    python benches/duplicates/calibrate.py pairs.csv

pairs.csv has one row per combination of evidence (`reasons`), with how many candidate
pairs have it (`n`) and how many of those are true (`true_pairs`). Newton's method on
the grouped likelihood with a small ridge penalty (argument 2, default 1e-5 per pair); prints the weight of each reason and
the intercept (the prior), to be copied into evidence.rs by hand.
"""
import csv
import sys

import numpy as np

rows = list(csv.DictReader(open(sys.argv[1])))
reasons = sorted({r for row in rows for r in row["reasons"].split(",") if r})
X = np.array([[1.0] + [1.0 if r in row["reasons"].split(",") else 0.0 for r in reasons] for row in rows])
n = np.array([float(row["n"]) for row in rows])
k = np.array([float(row["true_pairs"]) for row in rows])
w = np.zeros(X.shape[1])
ridge = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-5
ridge = ridge * np.eye(X.shape[1])
ridge[0, 0] = 0.0
for _ in range(100):
    p = 1.0 / (1.0 + np.exp(-X @ w))
    grad = X.T @ (k - n * p) - ridge @ w * n.sum()
    hess = (X * (n * p * (1 - p))[:, None]).T @ X + ridge * n.sum()
    step = np.linalg.solve(hess, grad)
    w += step
    if np.abs(step).max() < 1e-9:
        break
print(f"prior {w[0]:+.2f}")
score = 1.0 / (1.0 + np.exp(-X @ w))
total_true = k.sum()
for t in (0.3, 0.5, 0.7):
    keep = score >= t
    found, right = n[keep].sum(), k[keep].sum()
    print(f"at {t}: precision {right / max(found, 1):.4f} recall {right / total_true:.4f} (of candidates' true pairs)")
for r, v in sorted(zip(reasons, w[1:]), key=lambda t: -t[1]):
    print(f"{r:16} {v:+.2f}")
