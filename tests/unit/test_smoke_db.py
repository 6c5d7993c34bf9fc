from sqlmodel import Session, select

from sharing.models import Organisation


def test_demo_partnership_is_seeded(db: Session) -> None:
    names = set(db.exec(select(Organisation.name)).all())
    assert "Eastshire Police" in names
    assert "Riverside Homes" in names
