"""supervision (issue 16): screening, agents, who is complained about, cause codes, replies and
visit attempts, the written basis arriving; referrals (问责), classes (一类事), early warnings,
joint meetings

Stored causes keep the six codes the first release wrote; ``domain.causes.cause_code`` reads
them as the new codes (rewriting them here would change every case's record digest behind the
integrity keys' back).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from desktop_app.domain.vocabulary import DEFAULT_CAUSE_CODES

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exported() -> list[sa.Column[object]]:
    return [
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=True),
        sa.Column("origin_site", sa.String(length=6), server_default="", nullable=False),
    ]


def upgrade() -> None:
    cause_codes = op.create_table(
        "cause_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.bulk_insert(
        cause_codes,
        [
            {"code": code, "label": label, "position": i, "active": True}
            for i, (code, label) in enumerate(DEFAULT_CAUSE_CODES)
        ],
    )
    op.create_table(
        "issue_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=6), server_default="", nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("causes", sa.JSON(), nullable=False),
        sa.Column("fix_kind", sa.String(length=20), nullable=False),
        sa.Column("fix_description", sa.Text(), nullable=False),
        sa.Column("owner_department_id", sa.Integer(), nullable=True),
        sa.Column("owner_name", sa.String(length=40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        *_exported(),
        sa.ForeignKeyConstraint(["owner_department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_issue_classes_change_seq", "issue_classes", ["change_seq"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("agent_relation", sa.String(length=40), server_default="", nullable=False)
        )
        for name, length in (
            ("respondent_name", 40),
            ("respondent_post", 60),
            ("respondent_unit", 100),
        ):
            batch.add_column(
                sa.Column(name, sa.String(length=length), server_default="", nullable=False)
            )
        batch.add_column(
            sa.Column("respondent_conduct", sa.JSON(), server_default="[]", nullable=False)
        )
        batch.add_column(
            sa.Column("campaign", sa.String(length=40), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("screening_decision", sa.String(length=16), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("screening_channel", sa.String(length=16), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("screening_reason", sa.String(length=500), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("screened_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("basis_received_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("basis_signed_by", sa.String(length=40), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "basis_waived_reason", sa.String(length=200), server_default="", nullable=False
            )
        )
        batch.add_column(
            sa.Column("basis_waived_by", sa.String(length=40), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("reply_method", sa.String(length=12), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("visit_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("visit_retry_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("visit_reasons", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("issue_class_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_cases_agent_id", "complainants", ["agent_id"], ["id"])
        batch.create_foreign_key(
            "fk_cases_issue_class_id", "issue_classes", ["issue_class_id"], ["id"]
        )
        batch.create_index("ix_cases_issue_class", ["issue_class_id"])
        batch.create_index("ix_cases_visit_retry_on", ["visit_retry_on"])
        batch.create_index("ix_cases_campaign", ["campaign"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=6), server_default="", nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=40), nullable=False),
        sa.Column("person_post", sa.String(length=60), nullable=False),
        sa.Column("person_unit", sa.String(length=100), nullable=False),
        sa.Column("conduct", sa.JSON(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("proposed_by", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("signer_name", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("print_count", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("dropped_reason", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        *_exported(),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_code", "year", "seq", name="uq_referrals_site_year_seq"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_referrals_case", "referrals", ["case_id"])
    op.create_index("ix_referrals_state", "referrals", ["state", "proposed_at"])
    op.create_index("ix_referrals_change_seq", "referrals", ["change_seq"])
    op.create_table(
        "early_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("cause", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("issue_class_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["issue_class_id"], ["issue_classes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "department_id", "area", "cause", name="uq_warnings_key"),
    )
    op.create_index("ix_warnings_state", "early_warnings", ["state", "month"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=6), server_default="", nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("chair", sa.String(length=40), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorder", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        *_exported(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_code", "year", "seq", name="uq_meetings_site_year_seq"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_meetings_change_seq", "meetings", ["change_seq"])
    op.create_table(
        "meeting_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("issue_class_id", sa.Integer(), nullable=True),
        sa.Column("discussion", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        *_exported(),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["issue_class_id"], ["issue_classes.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_meeting_items_meeting", "meeting_items", ["meeting_id"])
    op.create_index("ix_meeting_items_case", "meeting_items", ["case_id"])
    op.create_index("ix_meeting_items_change_seq", "meeting_items", ["change_seq"])


def downgrade() -> None:
    op.drop_table("meeting_items")
    op.drop_table("meetings")
    op.drop_table("early_warnings")
    op.drop_table("referrals")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_campaign")
        batch.drop_index("ix_cases_visit_retry_on")
        batch.drop_index("ix_cases_issue_class")
        batch.drop_constraint("fk_cases_issue_class_id", type_="foreignkey")
        batch.drop_constraint("fk_cases_agent_id", type_="foreignkey")
        for name in (
            "issue_class_id",
            "visit_reasons",
            "visit_retry_on",
            "visit_attempts",
            "reply_method",
            "replied_at",
            "basis_waived_by",
            "basis_waived_reason",
            "basis_signed_by",
            "basis_received_on",
            "screened_at",
            "screening_reason",
            "screening_channel",
            "screening_decision",
            "campaign",
            "respondent_conduct",
            "respondent_unit",
            "respondent_post",
            "respondent_name",
            "agent_relation",
            "agent_id",
        ):
            batch.drop_column(name)
    op.drop_table("issue_classes")
    op.drop_table("cause_codes")
