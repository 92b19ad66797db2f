"""The fixed part of the demo company: teams, staff, tags and the product catalogue.

These are small tables built once per run before any customer is simulated; the customer chunks
refer to them by id.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from guanxi.demo import vocab
from guanxi.demo.columns import timestamps
from guanxi.demo.params import DEMO_PREFIX, Window


@dataclass(frozen=True)
class Staffing:
    """Who can own customers and cases, by user id."""

    east_sales: np.ndarray  # East China reps (the manager last)
    national_sales: np.ndarray  # the national team's reps (the manager last)
    service: np.ndarray  # case owners and after-sale callers
    service_slowness: np.ndarray  # how long each service person takes over a case (1 = typical)


@dataclass(frozen=True)
class Products:
    """The catalogue as arrays, for drawing order lines."""

    ids: np.ndarray
    category: np.ndarray  # index into vocab.CATEGORIES
    price_cents: np.ndarray
    cost_cents: np.ndarray
    # Drawing a product of category c: the first position whose key >= c + u, u ~ U(0, 1).
    draw_key: np.ndarray


@dataclass(frozen=True)
class Catalogue:
    tables: dict[str, pa.Table]
    staffing: Staffing
    products: Products
    tag_ids: np.ndarray
    tag_shares: np.ndarray  # (tags, customer types)
    usernames: tuple[str, ...]


def catalogue_build(
    *,
    rng: np.random.Generator,
    window: Window,
    first_ids: dict[str, int],
    group_ids: dict[str, int],
    password_hash: str,
) -> Catalogue:
    """Teams, staff users with their groups and profiles, tags and products, with explicit ids."""
    opened = int(window.utc_seconds(np.zeros(1), np.array([9 * 3600]))[0])  # 09:00 on day one
    team_ids = {name: first_ids["team"] + i for i, name in enumerate(vocab.TEAMS)}
    user_ids = np.arange(len(vocab.STAFF), dtype=np.int64) + first_ids["user"]
    staff = vocab.STAFF
    users = pa.table(
        {
            "id": user_ids,
            "password": [password_hash] * len(staff),
            "last_login": pa.nulls(len(staff), pa.timestamp("s", tz="UTC")),
            "is_superuser": [m.role == "admin" for m in staff],
            "username": [m.username for m in staff],
            "first_name": [m.first_name for m in staff],
            "last_name": [m.last_name for m in staff],
            "email": [f"{m.username}@{vocab.STAFF_EMAIL_DOMAIN}" for m in staff],
            # Everyone signs in through the same login page, which admits staff accounts only.
            "is_staff": [True] * len(staff),
            "is_active": [True] * len(staff),
            "date_joined": timestamps(np.full(len(staff), opened)),
        }
    )
    memberships = pa.table(
        {
            "id": np.arange(len(staff), dtype=np.int64) + first_ids["user_group"],
            "user_id": user_ids,
            "group_id": np.array([group_ids[m.role] for m in staff], dtype=np.int64),
        }
    )
    profiles = pa.table(
        {
            "id": np.arange(len(staff), dtype=np.int64) + first_ids["staff_profile"],
            "user_id": user_ids,
            "team_id": pa.array([team_ids.get(m.team) for m in staff], pa.int64()),
            "language": [m.language for m in staff],
        }
    )
    teams = pa.table(
        {"id": np.array(list(team_ids.values()), dtype=np.int64), "name": list(team_ids)}
    )
    tags = pa.table(
        {
            "id": np.arange(len(vocab.TAGS), dtype=np.int64) + first_ids["tag"],
            "name": [name for name, _ in vocab.TAGS],
        }
    )
    products, product_table = _products(rng, opened, first_ids["product"])
    return Catalogue(
        tables={
            "team": teams,
            "user": users,
            "user_group": memberships,
            "staff_profile": profiles,
            "tag": tags,
            "product": product_table,
        },
        staffing=_staffing(user_ids),
        products=products,
        tag_ids=tags["id"].to_numpy(),
        tag_shares=np.array([shares for _, shares in vocab.TAGS], dtype=np.float64),
        usernames=tuple(m.username for m in staff),
    )


def _staffing(user_ids: np.ndarray) -> Staffing:
    def ids(role: str, team: str | None = None) -> list[int]:
        return [
            int(user_ids[i])
            for i, m in enumerate(vocab.STAFF)
            if m.role == role and (team is None or m.team == team)
        ]

    service = [i for i, m in enumerate(vocab.STAFF) if m.role == "service"]
    return Staffing(
        east_sales=np.array(
            ids("sales", vocab.TEAM_EAST) + ids("manager", vocab.TEAM_EAST), dtype=np.int64
        ),
        national_sales=np.array(
            ids("sales", vocab.TEAM_NATIONAL) + ids("manager", vocab.TEAM_NATIONAL),
            dtype=np.int64,
        ),
        service=user_ids[service],
        service_slowness=np.array([vocab.STAFF[i].case_slowness for i in service]),
    )


def _products(
    rng: np.random.Generator, created_at: int, first_id: int
) -> tuple[Products, pa.Table]:
    skus, names, labels, categories, prices, costs, keys = [], [], [], [], [], [], []
    for c, cat in enumerate(vocab.CATEGORIES):
        lo, hi = np.log(cat.price_yuan[0]), np.log(cat.price_yuan[1])
        base = np.exp(rng.uniform(lo, hi, len(cat.items)))
        margin = rng.uniform(cat.margin[0], cat.margin[1], len(cat.items))
        popularity = []
        for i, (zh, en) in enumerate(cat.items):
            for v, (variant, factor) in enumerate(cat.variants):
                skus.append(f"{DEMO_PREFIX}{cat.code}-{i + 1:02d}{v + 1}")
                names.append(f"{zh} {en}" + (f" · {variant}" if variant else ""))
                labels.append(cat.label)
                categories.append(c)
                price = max(1, round(base[i] * factor)) * 100
                prices.append(price)
                costs.append(round(price * (1 - margin[i])))
                popularity.append(1.0 / (i + 1 + v) ** 0.9)
        order = rng.permutation(len(popularity))  # which product leads is the seed's choice
        weights = np.asarray(popularity)[order]
        keys.extend(c + np.cumsum(weights) / weights.sum())
    n = len(skus)
    ids = np.arange(n, dtype=np.int64) + first_id
    created = timestamps(np.full(n, created_at))
    table = pa.table(
        {
            "id": ids,
            "created_at": created,
            "updated_at": created,
            "sku": skus,
            "name": names,
            "category": labels,
            "unit_price_cents": np.array(prices, dtype=np.int64),
            "unit_cost_cents": np.array(costs, dtype=np.int64),
            "is_active": [True] * n,
        }
    )
    draw_key = np.array(keys)
    draw_key[np.r_[np.diff(np.array(categories)) != 0, True]] = np.arange(
        1, len(vocab.CATEGORIES) + 1
    )  # each category's last key is exactly c + 1
    products = Products(
        ids=ids,
        category=np.array(categories, dtype=np.int64),
        price_cents=np.array(prices, dtype=np.int64),
        cost_cents=np.array(costs, dtype=np.int64),
        draw_key=draw_key,
    )
    return products, table


def category_mix() -> np.ndarray:
    """Share of each customer type's lines per category, shape (types, categories)."""
    mix = np.array([cat.mix for cat in vocab.CATEGORIES], dtype=np.float64).T
    return mix / mix.sum(axis=1, keepdims=True)


def category_quantity() -> np.ndarray:
    """Mean extra units per line, shape (types, categories)."""
    return np.array([cat.quantity for cat in vocab.CATEGORIES], dtype=np.float64).T
