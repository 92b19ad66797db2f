"""The CDNOW sample's 39-week calibration summary, built from the raw transactions.

The file (Fader & Hardie's 1/10th sample of the CDNOW cohort that first bought in Q1 1997) has one
line per purchase record: master customer id, sample customer id (1..2357), date yyyymmdd, number
of CDs, dollar amount. It is read from the shared data folder, not copied into the repository.

Conventions of the published analyses (FHL 2005; Fader & Hardie's Gamma-Gamma note): weeks are
the unit (days / 7); calibration ends on 1997-09-30 inclusive; records on the same day are one
transaction (their amounts added); x counts the transaction days after the first, t_x and T run
from the first purchase to the last one and to the end of calibration; ``monetary`` is the mean
amount of the repeat transactions in calibration (0 when x = 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The project's shared folder sits beside the repository (in CI too); GUANXI_SHARED_DATA overrides.
SHARED_DATA = Path(
    os.environ.get("GUANXI_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
DATA_DIR = SHARED_DATA / "cdnow"
SAMPLE = DATA_DIR / "CDNOW_sample.txt"
SUMMARY_CSV = DATA_DIR / "cdnow_customers_summary.csv"
SUMMARY_WITH_SPEND_CSV = DATA_DIR / "cdnow_customers_summary_with_transactions.csv"
CALIBRATION_END = np.datetime64("1997-09-30")


@dataclass(frozen=True)
class CdnowSummary:
    customer_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray


def _dates(yyyymmdd: np.ndarray) -> np.ndarray:
    text = [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in yyyymmdd.tolist()]
    return np.array(text, dtype="datetime64[D]")


def calibration_summary(path: Path = SAMPLE) -> CdnowSummary:
    raw = np.loadtxt(path, dtype=np.float64, ndmin=2)
    customer = raw[:, 1].astype(np.int64)
    day = _dates(raw[:, 2].astype(np.int64))
    amount = raw[:, 4]
    keep = day <= CALIBRATION_END
    customer, day, amount = customer[keep], day[keep], amount[keep]

    # One transaction per customer-day, amounts summed, ordered by customer then day.
    day_number = (day - CALIBRATION_END).astype(np.int64)
    order = np.lexsort((day_number, customer))
    customer, day_number, amount = customer[order], day_number[order], amount[order]
    new_txn = np.ones(len(customer), dtype=bool)
    new_txn[1:] = (customer[1:] != customer[:-1]) | (day_number[1:] != day_number[:-1])
    starts = np.flatnonzero(new_txn)
    txn_customer, txn_day = customer[starts], day_number[starts]
    txn_amount = np.add.reduceat(amount, starts)

    ids, first_idx, n_txn = np.unique(txn_customer, return_index=True, return_counts=True)
    last_idx = first_idx + n_txn - 1
    first_day, last_day = txn_day[first_idx], txn_day[last_idx]
    x = (n_txn - 1).astype(np.float64)
    repeat_spend = np.add.reduceat(txn_amount, first_idx) - txn_amount[first_idx]
    monetary = np.divide(repeat_spend, x, out=np.zeros_like(x), where=x > 0)
    return CdnowSummary(
        customer_id=ids,
        x=x,
        t_x=(last_day - first_day) / 7.0,
        T=-first_day / 7.0,
        monetary=monetary,
    )


def published_summary() -> dict[str, np.ndarray]:
    """The summary Fader & Hardie distribute (x, t_x, T rounded to 2 decimals) with ``zbar``."""
    table = np.loadtxt(SUMMARY_WITH_SPEND_CSV, delimiter=",", skiprows=1)
    plain = np.loadtxt(SUMMARY_CSV, delimiter=",", skiprows=1)
    return {
        "customer_id": table[:, 0].astype(np.int64),
        "x": table[:, 1],
        "t_x": table[:, 2],
        "T": table[:, 3],
        "zbar": table[:, 4],
        "plain_x": plain[:, 1],
        "plain_t_x": plain[:, 2],
        "plain_T": plain[:, 3],
    }
