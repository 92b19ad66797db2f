"""The demo company, chunk by chunk: the story's stages wired together with explicit ids.

Nothing here touches the database. Each chunk of customers gets its own random streams derived
from ``(seed, chunk index, stage)``, so the same seed and customer count always give the same rows,
and the stages can be tuned independently without reshuffling each other's draws.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from guanxi.demo.assessments import DemoQuestionnaire, assessments_draw
from guanxi.demo.bonds import bonds_draw
from guanxi.demo.cases import cases_draw
from guanxi.demo.catalogue import Catalogue, catalogue_build
from guanxi.demo.customers import customer_tables, population_draw
from guanxi.demo.interactions import interactions_draw
from guanxi.demo.params import CHUNK_SIZE, Window
from guanxi.demo.purchases import purchases_draw

# Tables in the order they are written: every table after the ones it refers to.
CATALOGUE_TABLES: tuple[str, ...] = (
    "team",
    "user",
    "user_group",
    "staff_profile",
    "tag",
    "product",
)
CHUNK_TABLES: tuple[str, ...] = (
    "customer",
    "customer_tag",
    "contact",
    "order",
    "order_line",
    "interaction",
    "case",
    "survey",
    "bond",
    "assessment",
    "assessment_answer",
)
TABLES: tuple[str, ...] = CATALOGUE_TABLES + CHUNK_TABLES


@dataclass(frozen=True)
class Chunk:
    index: int
    customers: int
    tables: dict[str, pa.Table]

    @property
    def rows(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


class DemoGenerator:
    """Generates the demo company for ``customers`` customers with ``seed``, history to ``as_of``.

    ``first_ids`` holds the first free id of every table in ``TABLES``; ``group_ids`` the ids of
    the five role groups; ``deadlines`` the seconds a case may take, by severity;
    ``questionnaire`` the active partnership questionnaire the assessments answer (without one,
    no assessments are generated).
    """

    def __init__(
        self,
        *,
        customers: int,
        seed: int,
        as_of: dt.date,
        first_ids: dict[str, int],
        group_ids: dict[str, int],
        password_hash: str,
        deadlines: dict[str, int],
        questionnaire: DemoQuestionnaire | None = None,
    ) -> None:
        self.customers = customers
        self.seed = seed
        self.window = Window(as_of)
        self.first_ids = dict(first_ids)
        self.deadlines = deadlines
        self.questionnaire = questionnaire
        self.catalogue: Catalogue = catalogue_build(
            rng=np.random.default_rng([seed, 0]),
            window=self.window,
            first_ids=first_ids,
            group_ids=group_ids,
            password_hash=password_hash,
        )

    def chunks(self) -> Iterator[Chunk]:
        """The customers ``CHUNK_SIZE`` at a time, with everything that belongs to them."""
        next_ids = {name: self.first_ids[name] for name in CHUNK_TABLES}
        for index, start in enumerate(range(0, self.customers, CHUNK_SIZE)):
            size = min(CHUNK_SIZE, self.customers - start)
            streams = np.random.SeedSequence([self.seed, 1, index]).spawn(4)
            people, buying, naming, contact = (np.random.default_rng(s) for s in streams)
            # Bonds came later: their stream is derived apart, so the other stages draw as before.
            tying = np.random.default_rng(np.random.SeedSequence([self.seed, 2, index]))
            # So did the assessments, with a stream of their own again.
            rating = np.random.default_rng(np.random.SeedSequence([self.seed, 3, index]))
            population = population_draw(
                people,
                n=size,
                first_id=next_ids["customer"],
                first_contact_id=next_ids["contact"],
                window=self.window,
                catalogue=self.catalogue,
            )
            purchases = purchases_draw(
                buying,
                population,
                window=self.window,
                catalogue=self.catalogue,
                first_order_id=next_ids["order"],
                first_line_id=next_ids["order_line"],
            )
            tables = customer_tables(
                naming,
                population,
                window=self.window,
                catalogue=self.catalogue,
                first_order_seconds=purchases.first_order_seconds,
                first_tag_link_id=next_ids["customer_tag"],
            )
            tables.update(purchases.tables)
            tables["interaction"], feedback = interactions_draw(
                contact,
                population,
                purchases,
                window=self.window,
                catalogue=self.catalogue,
                first_id=next_ids["interaction"],
            )
            tables.update(
                cases_draw(
                    contact,
                    population,
                    purchases,
                    feedback,
                    window=self.window,
                    catalogue=self.catalogue,
                    deadlines=self.deadlines,
                    first_case_id=next_ids["case"],
                    first_survey_id=next_ids["survey"],
                )
            )
            tables["bond"] = bonds_draw(
                tying, population, purchases, window=self.window, first_id=next_ids["bond"]
            )
            tables.update(
                assessments_draw(
                    rating,
                    population,
                    purchases,
                    tables["contact"],
                    window=self.window,
                    catalogue=self.catalogue,
                    questionnaire=self.questionnaire,
                    first_assessment_id=next_ids["assessment"],
                    first_answer_id=next_ids["assessment_answer"],
                )
            )
            for name in CHUNK_TABLES:
                next_ids[name] += tables[name].num_rows
            yield Chunk(index=index, customers=size, tables={n: tables[n] for n in CHUNK_TABLES})
