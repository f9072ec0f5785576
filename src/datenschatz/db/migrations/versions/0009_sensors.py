"""sensors: SensorThings entities and observations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sta_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column(
            "location",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_location")),
    )
    op.create_table(
        "sta_observed_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("definition", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_observed_property")),
    )
    op.create_table(
        "sta_sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_sensor")),
    )
    op.create_table(
        "sta_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_thing")),
    )
    op.create_table(
        "sta_feature_of_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column(
            "feature",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("source_location_id", sa.Integer(), nullable=True),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_feature_of_interest_source_location_id_sta_location"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_feature_of_interest")),
    )
    op.create_index(
        op.f("ix_sta_feature_of_interest_source_location_id"),
        "sta_feature_of_interest",
        ["source_location_id"],
        unique=False,
    )
    op.create_table(
        "sta_historical_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_historical_location_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_historical_location")),
    )
    op.create_index(
        op.f("ix_sta_historical_location_thing_id"),
        "sta_historical_location",
        ["thing_id"],
        unique=False,
    )
    op.create_table(
        "sta_thing_location",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_thing_location_location_id_sta_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_thing_location_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thing_id", "location_id", name=op.f("pk_sta_thing_location")),
    )
    op.create_index(
        op.f("ix_sta_thing_location_location_id"),
        "sta_thing_location",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "sta_datastream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=300), nullable=False),
        sa.Column(
            "unit_of_measurement",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "observed_area",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("phenomenon_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_sta_datastream_dataset_id_dataset"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sta_observed_property.id"],
            name=op.f("fk_sta_datastream_observed_property_id_sta_observed_property"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sta_sensor.id"],
            name=op.f("fk_sta_datastream_sensor_id_sta_sensor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_datastream_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_datastream")),
    )
    op.create_index(
        op.f("ix_sta_datastream_dataset_id"), "sta_datastream", ["dataset_id"], unique=False
    )
    op.create_index(
        op.f("ix_sta_datastream_observed_property_id"),
        "sta_datastream",
        ["observed_property_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_datastream_sensor_id"), "sta_datastream", ["sensor_id"], unique=False
    )
    op.create_index(
        op.f("ix_sta_datastream_thing_id"), "sta_datastream", ["thing_id"], unique=False
    )
    op.create_table(
        "sta_historical_location_location",
        sa.Column("historical_location_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["historical_location_id"],
            ["sta_historical_location.id"],
            name=op.f(
                "fk_sta_historical_location_location_historical_location_id_sta_historical_location"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_historical_location_location_location_id_sta_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "historical_location_id",
            "location_id",
            name=op.f("pk_sta_historical_location_location"),
        ),
    )
    op.create_index(
        op.f("ix_sta_historical_location_location_location_id"),
        "sta_historical_location_location",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "sta_datastream_feature",
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("feature_of_interest_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sta_datastream.id"],
            name=op.f("fk_sta_datastream_feature_datastream_id_sta_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feature_of_interest_id"],
            ["sta_feature_of_interest.id"],
            name=op.f("fk_sta_datastream_feature_feature_of_interest_id_sta_feature_of_interest"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "datastream_id", "feature_of_interest_id", name=op.f("pk_sta_datastream_feature")
        ),
    )
    op.create_index(
        op.f("ix_sta_datastream_feature_feature_of_interest_id"),
        "sta_datastream_feature",
        ["feature_of_interest_id"],
        unique=False,
    )
    op.create_table(
        "sta_observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("phenomenon_time_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_kind", sa.SmallInteger(), nullable=False),
        sa.Column("result_number", sa.Float(), nullable=True),
        sa.Column("result_string", sa.Text(), nullable=True),
        sa.Column(
            "result_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "result_quality",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("valid_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "parameters",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("feature_of_interest_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sta_datastream.id"],
            name=op.f("fk_sta_observation_datastream_id_sta_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feature_of_interest_id"],
            ["sta_feature_of_interest.id"],
            name=op.f("fk_sta_observation_feature_of_interest_id_sta_feature_of_interest"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_observation")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_sta_observation_dedup_key")),
    )
    op.create_index(
        "ix_sta_observation_datastream_time",
        "sta_observation",
        ["datastream_id", "phenomenon_time_start"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_observation_feature_of_interest_id"),
        "sta_observation",
        ["feature_of_interest_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sta_observation_feature_of_interest_id"), table_name="sta_observation")
    op.drop_index("ix_sta_observation_datastream_time", table_name="sta_observation")
    op.drop_table("sta_observation")
    op.drop_index(
        op.f("ix_sta_datastream_feature_feature_of_interest_id"),
        table_name="sta_datastream_feature",
    )
    op.drop_table("sta_datastream_feature")
    op.drop_index(
        op.f("ix_sta_historical_location_location_location_id"),
        table_name="sta_historical_location_location",
    )
    op.drop_table("sta_historical_location_location")
    op.drop_index(op.f("ix_sta_datastream_thing_id"), table_name="sta_datastream")
    op.drop_index(op.f("ix_sta_datastream_sensor_id"), table_name="sta_datastream")
    op.drop_index(op.f("ix_sta_datastream_observed_property_id"), table_name="sta_datastream")
    op.drop_index(op.f("ix_sta_datastream_dataset_id"), table_name="sta_datastream")
    op.drop_table("sta_datastream")
    op.drop_index(op.f("ix_sta_thing_location_location_id"), table_name="sta_thing_location")
    op.drop_table("sta_thing_location")
    op.drop_index(op.f("ix_sta_historical_location_thing_id"), table_name="sta_historical_location")
    op.drop_table("sta_historical_location")
    op.drop_index(
        op.f("ix_sta_feature_of_interest_source_location_id"), table_name="sta_feature_of_interest"
    )
    op.drop_table("sta_feature_of_interest")
    op.drop_table("sta_thing")
    op.drop_table("sta_sensor")
    op.drop_table("sta_observed_property")
    op.drop_table("sta_location")
