"""The list route as the seed designed it: FastAPI + PyJWT + SQLAlchemy.

A comparator for `just bench-load`, not part of the product. Sync
endpoints (FastAPI runs them in its thread pool), a SQLAlchemy ORM model
and session per request, PyJWT's HS256 check with the same rules the edge
applies (algorithm, exp, iss, aud, sub = the path's user id), Pydantic
models out. Run under uvicorn with 2 workers:

    DATABASE_URL=postgresql://… BETTER_AUTH_SECRET=… BETTER_AUTH_URL=… \
    uvicorn app:app --workers 2 --port 8000 --no-access-log
"""

import os
from datetime import datetime

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Boolean, DateTime, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SECRET = os.environ["BETTER_AUTH_SECRET"]
ISSUER = os.environ["BETTER_AUTH_URL"]
# SQLAlchemy's default pool (5 connections, 10 overflow) per worker.
engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(bind=engine, autoflush=False)


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


class Refused(Exception):
    def __init__(self, status: int, title: str, detail: str, challenge: str | None = None):
        self.status, self.title, self.detail, self.challenge = status, title, detail, challenge


app = FastAPI()


@app.exception_handler(Refused)
def problem(_request, error: Refused) -> JSONResponse:
    headers = {"WWW-Authenticate": error.challenge} if error.challenge else None
    body = {"type": "about:blank", "title": error.title, "status": error.status, "detail": error.detail}
    return JSONResponse(body, error.status, headers, media_type="application/problem+json")


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def current_user(authorization: str | None = Header(default=None)) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Refused(401, "Unauthorized", "missing bearer token", 'Bearer realm="todo"')
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER, audience=ISSUER,
                            options={"require": ["exp", "sub", "iss", "aud"]})
    except jwt.PyJWTError:
        raise Refused(401, "Unauthorized", "the token is invalid",
                      'Bearer realm="todo", error="invalid_token"') from None
    return claims["sub"]


@app.get("/api/{user_id}/tasks", response_model=list[TaskOut])
def list_tasks(user_id: str, status: str = "all", limit: int = Query(100, ge=1, le=1000),
               offset: int = Query(0, ge=0), sub: str = Depends(current_user),
               db: Session = Depends(get_db)):
    if sub != user_id:
        raise Refused(403, "Forbidden", "the token belongs to another user")
    if status not in ("all", "pending", "completed"):
        raise HTTPException(422, "status must be all, pending or completed")
    query = select(Task).where(Task.user_id == user_id)
    if status != "all":
        query = query.where(Task.completed == (status == "completed"))
    return db.scalars(query.order_by(Task.id).limit(limit).offset(offset)).all()
