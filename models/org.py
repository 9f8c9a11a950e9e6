"""Units (单位) and people (人员) with their roles, as imported from the organisation file."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Role(StrEnum):
    """The roles of SPEC §1."""

    commentator = "commentator"
    unit_lead = "unit_lead"
    supervisor = "supervisor"
    office = "office"
    general_office = "general_office"
    leader = "leader"


ROLE_NAMES = {
    Role.commentator: "网评员",
    Role.unit_lead: "单位负责人",
    Role.supervisor: "分管领导",
    Role.office: "领导小组办公室",
    Role.general_office: "局办公室",
    Role.leader: "领导小组",
}

UNIT_KINDS = ("department", "county", "office", "general_office")


class Unit(Base):
    """A department, enforcement team, centre or county/district bureau."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="department")
    supervisor_userid: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    people: Mapped[list[Person]] = relationship(back_populates="unit")


class Person(Base):
    """Somebody in the organisation, identified by their WeCom userid."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit | None] = relationship(back_populates="people")

    def has(self, role: Role | str) -> bool:
        """Return True if this person holds the role."""
        return str(role) in (self.roles or [])
