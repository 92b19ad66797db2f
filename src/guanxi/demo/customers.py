"""Who the customers are: type, hidden traits (purchase rate, dropout, spend, relationship level),
names, places, personal data, owners, tags and contact people — one chunk at a time."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import digamma, ndtri, polygamma

from guanxi.demo import params, vocab
from guanxi.demo.catalogue import Catalogue, category_mix
from guanxi.demo.columns import (
    blank_unless,
    choose,
    concat,
    digits,
    external_ids,
    pick,
    segment_positions,
    timestamps,
    where,
)

_REGION_WEIGHTS = [w for _, w, _ in vocab.REGIONS]
_CITIES = [(r, city) for r, (_, _, cities) in enumerate(vocab.REGIONS) for city in cities]
_CITY_REGION = np.array([r for r, _ in _CITIES])
_CITY_FIRST = np.searchsorted(_CITY_REGION, np.arange(len(vocab.REGIONS)))
_CITY_COUNT = np.bincount(_CITY_REGION)
_MOBILE_PREFIXES = ("13", "15", "18", "17", "19", "16", "14")


@dataclass(frozen=True)
class Population:
    """One chunk of customers: their ids and the hidden traits the rest of the story uses."""

    ids: np.ndarray
    kind: np.ndarray  # index into params.TYPE_CODES
    level: np.ndarray  # hidden relationship level, index into params.LEVEL_CODES
    region: np.ndarray  # index into vocab.REGIONS
    acquired: np.ndarray  # day of first contact (float, days since the window start)
    first_purchase: np.ndarray  # day of the first purchase (float); NaN for prospects
    rate: np.ndarray  # λ, purchases per day while alive
    dropout: np.ndarray  # p, chance of leaving after each purchase
    spend: np.ndarray  # basket size multiplier, mean 1
    decliner: np.ndarray  # spends less on the purchases before leaving
    late_share: np.ndarray  # chance that a delivery is late
    online_share: np.ndarray
    discount: np.ndarray
    favourite: np.ndarray  # favourite product category
    owner: np.ndarray  # user id, 0 = unassigned pool
    contact_first: np.ndarray  # id of the first contact person (0 = none)
    contact_count: np.ndarray

    @property
    def buyer(self) -> np.ndarray:
        return ~np.isnan(self.first_purchase)


def population_draw(
    rng: np.random.Generator,
    *,
    n: int,
    first_id: int,
    first_contact_id: int,
    window: params.Window,
    catalogue: Catalogue,
) -> Population:
    """Draw the hidden traits of ``n`` customers."""
    profiles = params.PROFILES
    kind = choose(rng, n, [p.share for p in profiles])
    prof = {
        field: np.array([getattr(p, field) for p in profiles])[kind]
        for field in (
            "prospect_share",
            "rate_shape",
            "rate_scale",
            "dropout_a",
            "dropout_b",
            "spend_shape",
            "online_share",
            "first_purchase_days",
            "owned_share",
        )
    }
    region = choose(rng, n, _REGION_WEIGHTS)
    # More customers arrived recently: the company has been growing.
    acquired = window.days * rng.beta(1.6, 1.0, n)
    first_purchase = acquired + rng.exponential(prof["first_purchase_days"])
    prospect = (rng.random(n) < prof["prospect_share"]) | (first_purchase >= window.days)
    first_purchase[prospect] = np.nan

    rate = rng.gamma(prof["rate_shape"], prof["rate_scale"])
    spend = rng.gamma(prof["spend_shape"], 1.0 / prof["spend_shape"])
    level = _levels(rng, kind, rate, spend)

    late_share = np.full(n, params.LATE_SHARE)
    for name, share in params.LATE_SHARE_BY_REGION.items():
        late_share[region == [r for r, _, _ in vocab.REGIONS].index(name)] = share
    late_share *= rng.beta(2.0, 2.0, n) * 2.0
    unlucky = rng.random(n) < params.UNLUCKY_SHARE
    late_share[unlucky] = params.UNLUCKY_LATE_SHARE

    # Neglect and failing basics both make customers leave sooner.
    dropout = rng.beta(prof["dropout_a"], prof["dropout_b"])
    dropout *= np.asarray(params.LEVEL_DROPOUT_FACTOR)[level]
    dropout *= 1.0 + 2.0 * np.clip(late_share - params.LATE_SHARE, 0.0, None)
    dropout = np.clip(dropout, 1e-4, 0.95)

    online = rng.beta(4.0 * prof["online_share"] + 0.5, 4.0 * (1 - prof["online_share"]) + 0.5)
    lo = np.array([p.discount[0] for p in profiles])[kind]
    hi = np.array([p.discount[1] for p in profiles])[kind]
    discount = rng.uniform(lo, hi)
    favourite = _favourites(rng, kind)

    organisation = (kind == 1) | (kind == 2)
    owned = (rng.random(n) < prof["owned_share"]) | (organisation & (level >= params.PROACTIVE))
    # Valuable consumers are more often given a named owner.
    owned |= (kind == 0) & (spend * rate > 4.0 * profiles[0].rate_shape * profiles[0].rate_scale)
    owner = np.where(owned, _owners(rng, region, catalogue), 0)

    contact_count = np.zeros(n, dtype=np.int64)
    for k, p in enumerate(profiles):
        sel = kind == k
        contact_count[sel] = rng.integers(p.contacts[0], p.contacts[1] + 1, int(sel.sum()))
    contact_first = np.where(
        contact_count > 0, first_contact_id + np.cumsum(contact_count) - contact_count, 0
    )
    return Population(
        ids=np.arange(n, dtype=np.int64) + first_id,
        kind=kind,
        level=level,
        region=region,
        acquired=acquired,
        first_purchase=first_purchase,
        rate=rate,
        dropout=dropout,
        spend=spend,
        decliner=rng.random(n) < params.DECLINER_SHARE,
        late_share=late_share,
        online_share=online,
        discount=discount,
        favourite=favourite,
        owner=owner,
        contact_first=contact_first,
        contact_count=contact_count,
    )


def _levels(
    rng: np.random.Generator, kind: np.ndarray, rate: np.ndarray, spend: np.ndarray
) -> np.ndarray:
    """The hidden relationship level: value plus noise, cut at each type's level shares.

    Value is log(rate) + log(spend), standardised with its exact mean and variance under the
    type's Gamma distributions, so the cut does not depend on who else is in the chunk.
    """
    level = np.zeros(len(kind), dtype=np.int64)
    rho = params.LEVEL_VALUE_CORRELATION
    for k, p in enumerate(params.PROFILES):
        sel = kind == k
        if not sel.any():
            continue
        mean = (
            digamma(p.rate_shape)
            + np.log(p.rate_scale)
            + digamma(p.spend_shape)
            - np.log(p.spend_shape)
        )
        std = np.sqrt(polygamma(1, p.rate_shape) + polygamma(1, p.spend_shape))
        value = (np.log(rate[sel]) + np.log(spend[sel]) - mean) / std
        score = rho * value + np.sqrt(1 - rho**2) * rng.standard_normal(int(sel.sum()))
        cumulative = np.cumsum(p.level_shares)[:-1]
        cuts = np.where(cumulative >= 1 - 1e-9, np.inf, ndtri(np.minimum(cumulative, 1)))
        level[sel] = np.searchsorted(cuts, score, side="right")
    return level


def _favourites(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    mix = category_mix()
    favourite = np.zeros(len(kind), dtype=np.int64)
    for k in range(len(params.PROFILES)):
        sel = kind == k
        favourite[sel] = choose(rng, int(sel.sum()), mix[k])
    return favourite


def _owners(rng: np.random.Generator, region: np.ndarray, catalogue: Catalogue) -> np.ndarray:
    """A sales rep of the team that covers the customer's region."""
    staffing = catalogue.staffing
    east = region == [r for r, _, _ in vocab.REGIONS].index(vocab.EAST_REGION)
    u = rng.random(len(region))
    east_pick = staffing.east_sales[(u * len(staffing.east_sales)).astype(np.int64)]
    national_pick = staffing.national_sales[(u * len(staffing.national_sales)).astype(np.int64)]
    return np.where(east, east_pick, national_pick)


def customer_tables(
    rng: np.random.Generator,
    pop: Population,
    *,
    window: params.Window,
    catalogue: Catalogue,
    first_order_seconds: np.ndarray,
    first_tag_link_id: int,
) -> dict[str, pa.Table]:
    """The customer rows, their tags and their contact people.

    ``first_order_seconds`` is when each customer first ordered (any value for prospects): the
    customer record is created before it.
    """
    n = len(pop.ids)
    kind = pop.kind
    consumer, _, channel, internal = (kind == k for k in range(4))
    person = consumer | internal
    city = _CITY_FIRST[pop.region] + (rng.random(n) * _CITY_COUNT[pop.region]).astype(np.int64)
    city_names = pick([c[0] for _, c in _CITIES], city)
    chinese = rng.random(n) < np.array([p.chinese_name_share for p in params.PROFILES])[kind]

    people = _people(rng, n, chinese)
    companies = _companies(rng, n, chinese, city_names, channel)
    internal_names = concat(city_names, pick(vocab.INTERNAL_UNITS, rng.integers(0, 10, n)))
    name = where(consumer, people.name, where(internal, internal_names, companies))

    organisation_email = concat("info", digits(pop.ids), "@", _domain(rng, n))
    email = where(person, people.email, organisation_email)
    created_seconds = window.utc_seconds(
        np.floor(pop.acquired), rng.integers(9 * 3600, 21 * 3600, n)
    )
    created_seconds = np.where(
        pop.buyer, np.minimum(created_seconds, first_order_seconds - 600), created_seconds
    )
    created = timestamps(created_seconds)
    customers = pa.table(
        {
            "id": pop.ids,
            "created_at": created,
            "updated_at": created,
            "external_id": external_ids(f"{params.DEMO_PREFIX}C", pop.ids, 7),
            "name": name,
            "customer_type": pick(params.TYPE_CODES, kind),
            "owner_id": pa.array(pop.owner, pa.int64(), mask=pop.owner == 0),
            "region": pick([r for r, _, _ in vocab.REGIONS], pop.region),
            "phone": blank_unless(rng.random(n) < np.where(person, 0.9, 0.97), _mobiles(rng, n)),
            "email": blank_unless(rng.random(n) < np.where(person, 0.7, 0.9), email),
            "wechat_id": blank_unless(
                rng.random(n) < np.where(consumer, 0.65, 0.3), _wechat(rng, people.pinyin)
            ),
            "address": blank_unless(
                rng.random(n) < np.where(consumer, 0.8, 0.97), _addresses(rng, city, consumer)
            ),
            "marketing_consent": rng.random(n) < 0.6,
            "is_active": np.ones(n, dtype=bool),
        }
    )
    return {
        "customer": customers,
        "customer_tag": _tags(rng, pop, catalogue, first_tag_link_id),
        "contact": _contacts(rng, pop, created_seconds),
    }


@dataclass(frozen=True)
class _People:
    name: pa.Array
    pinyin: pa.Array  # e.g. "wangfang" or "emily.chen"
    email: pa.Array


def _people(rng: np.random.Generator, n: int, chinese: np.ndarray) -> _People:
    surname = choose(rng, n, [w for _, _, w in vocab.SURNAMES])
    given = rng.integers(0, len(vocab.GIVEN_NAMES), n)
    zh_name = concat(
        pick([s for s, _, _ in vocab.SURNAMES], surname),
        pick([g for g, _ in vocab.GIVEN_NAMES], given),
    )
    surname_py = pick([p for _, p, _ in vocab.SURNAMES], surname)
    zh_pinyin = concat(surname_py, pick([p for _, p in vocab.GIVEN_NAMES], given))
    english = pick(vocab.ENGLISH_GIVEN_NAMES, rng.integers(0, len(vocab.ENGLISH_GIVEN_NAMES), n))
    foreign = rng.random(n) < 0.15
    family = where(
        foreign,
        pick(vocab.FOREIGN_SURNAMES, rng.integers(0, len(vocab.FOREIGN_SURNAMES), n)),
        pick([p.capitalize() for _, p, _ in vocab.SURNAMES], surname),
    )
    en_name = concat(english, " ", family)
    en_pinyin = pc.utf8_lower(concat(english, ".", family))
    en_pinyin = pc.replace_substring(en_pinyin, "ü", "ue")
    pinyin = where(chinese, zh_pinyin, en_pinyin)
    suffix = where(rng.random(n) < 0.6, digits(rng.integers(1, 100, n)), "")
    email = concat(pinyin, suffix, "@", _domain(rng, n))
    return _People(name=where(chinese, zh_name, en_name), pinyin=pinyin, email=email)


def _companies(
    rng: np.random.Generator, n: int, chinese: np.ndarray, city: pa.Array, channel: np.ndarray
) -> pa.Array:
    brand = pick(vocab.BRAND_WORDS, rng.integers(0, len(vocab.BRAND_WORDS), n))
    industry = pick(vocab.INDUSTRIES, rng.integers(0, len(vocab.INDUSTRIES), n))
    form = pick(vocab.COMPANY_FORMS, rng.integers(0, len(vocab.COMPANY_FORMS), n))
    channel_form = pick(vocab.CHANNEL_FORMS, rng.integers(0, len(vocab.CHANNEL_FORMS), n))
    zh = where(channel, concat(city, brand, channel_form), concat(city, brand, industry, form))
    en_brand = pick(vocab.ENGLISH_BRANDS, rng.integers(0, len(vocab.ENGLISH_BRANDS), n))
    en_industry = pick(vocab.ENGLISH_INDUSTRIES, rng.integers(0, len(vocab.ENGLISH_INDUSTRIES), n))
    en_channel = pick(
        vocab.ENGLISH_CHANNEL_FORMS, rng.integers(0, len(vocab.ENGLISH_CHANNEL_FORMS), n)
    )
    en = where(
        channel,
        concat(en_brand, " ", en_channel),
        concat(en_brand, " ", en_industry, " Co., Ltd."),
    )
    return where(chinese, zh, en)


def _domain(rng: np.random.Generator, n: int) -> pa.Array:
    return pick(vocab.EMAIL_DOMAINS, choose(rng, n, (0.7, 0.2, 0.1)))


def _mobiles(rng: np.random.Generator, n: int) -> pa.Array:
    """Chinese mobile numbers: 11 digits starting 13–19."""
    prefix = pick(_MOBILE_PREFIXES, choose(rng, n, (5, 3, 3, 2, 2, 1, 1)))
    return concat(prefix, digits(rng.integers(0, 1_000_000_000, n), 9))


def _wechat(rng: np.random.Generator, pinyin: pa.Array) -> pa.Array:
    n = len(pinyin)
    readable = concat(
        pc.replace_substring(pinyin, ".", "_"), "_", digits(rng.integers(1960, 2010, n))
    )
    generated = concat("wxid_", digits(rng.integers(0, 10**10, n), 10))
    return where(rng.random(n) < 0.5, readable, generated)


def _addresses(rng: np.random.Generator, city: np.ndarray, home: np.ndarray) -> pa.Array:
    n = len(city)
    prefix = pick([c[1] for _, c in _CITIES], city)
    district = pick([d for _, c in _CITIES for d in c[2]], city * 2 + rng.integers(0, 2, n))
    street = pick(vocab.STREETS, rng.integers(0, len(vocab.STREETS), n))
    number = digits(rng.integers(1, 999, n))
    flat = concat(digits(rng.integers(1, 30, n)), "栋", digits(rng.integers(101, 2808, n)), "室")
    return concat(prefix, district, street, number, "号", where(home, flat, ""))


def _tags(
    rng: np.random.Generator, pop: Population, catalogue: Catalogue, first_id: int
) -> pa.Table:
    shares = catalogue.tag_shares[:, pop.kind].T  # (customers, tags)
    vip = [name for name, _ in vocab.TAGS].index("VIP")
    shares[:, vip] *= np.where(pop.spend > 1.6, 4.0, 0.5)
    has = rng.random(shares.shape) < shares
    customer, tag = np.nonzero(has)  # row-major: by customer, then tag
    return pa.table(
        {
            "id": np.arange(len(customer), dtype=np.int64) + first_id,
            "customer_id": pop.ids[customer],
            "tag_id": catalogue.tag_ids[tag],
        }
    )


def _contacts(rng: np.random.Generator, pop: Population, created_seconds: np.ndarray) -> pa.Table:
    owner, position = segment_positions(pop.contact_count)
    m = len(owner)
    ids = pop.contact_first[owner] + position
    chinese = rng.random(m) < 0.9
    people = _people(rng, m, chinese)
    created = timestamps(created_seconds[owner] + rng.integers(0, 86_400 * 30, m) * (position > 0))
    return pa.table(
        {
            "id": ids,
            "created_at": created,
            "updated_at": created,
            "external_id": external_ids(f"{params.DEMO_PREFIX}P", ids, 7),
            "customer_id": pop.ids[owner],
            "name": people.name,
            "job_title": pick(vocab.JOB_TITLES, rng.integers(0, len(vocab.JOB_TITLES), m)),
            "phone": blank_unless(rng.random(m) < 0.95, _mobiles(rng, m)),
            "email": blank_unless(rng.random(m) < 0.8, people.email),
            "wechat_id": blank_unless(rng.random(m) < 0.6, _wechat(rng, people.pinyin)),
            "is_primary": position == 0,
        }
    )
