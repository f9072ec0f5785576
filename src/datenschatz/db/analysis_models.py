"""Relational tables of analysis: the city's measures and their stored evaluations.

No relationship() to classes in other modules: foreign keys and explicit queries only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, utcnow


class Measure(Base):
    """A decision the city took, and how to watch its effect (``spec``: the validated file)."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date, default=None)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date, default=None)
    spec: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class MeasureEvaluation(Base):
    """One evaluation: the result, and the exact inputs it was computed from."""

    __tablename__ = "measure_evaluation"
    __table_args__ = (Index("ix_measure_evaluation_measure_id", "measure_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"))
    # {"dataset": slug, "version": n, "sha256": ...} or {"datastream": id, "observations": n}
    inputs: Mapped[dict[str, Any]] = mapped_column()
    result: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recipe(Base):
    """A reproducible definition of a derived dataset (``spec``: the validated recipe file)."""

    __tablename__ = "recipe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    output_dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text)  # the recipe file as the steward wrote it
    spec: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class RecipeRun(Base):
    """One run: the version it wrote, the exact recipe text and input versions with hashes."""

    __tablename__ = "recipe_run"
    __table_args__ = (Index("ix_recipe_run_recipe_id", "recipe_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    recipe_text: Mapped[str] = mapped_column(Text)
    recipe_sha256: Mapped[str] = mapped_column(String(64))
    # [{"alias", "dataset", "dataset_id", "version", "version_id", "sha256", "pinned"}]
    inputs: Mapped[list[Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecipeInput(Base):
    """Which datasets a recipe reads (for 'used by' and staleness without parsing specs)."""

    __tablename__ = "recipe_input"
    __table_args__ = (Index("ix_recipe_input_dataset_id", "dataset_id"),)

    recipe_id: Mapped[int] = mapped_column(
        ForeignKey("recipe.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(63), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    pinned_version: Mapped[int | None] = mapped_column(Integer, default=None)
