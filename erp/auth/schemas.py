"""JSON shapes for sign-in and users."""

from __future__ import annotations

from marshmallow import fields

from erp.auth.roles import Role
from erp.schemas import Id, Length, Regexp, Schema


class Credentials(Schema):
    username = fields.String(required=True, validate=Length(1, 64))
    password = fields.String(required=True, validate=Length(1, 200), load_only=True)


class TokenOut(Schema):
    access_token = fields.String(attribute="token")
    token_type = fields.Constant("Bearer")
    expires_at = fields.DateTime()


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=Regexp(r"^[a-z0-9][a-z0-9._-]{1,63}$"))
    display_name = fields.String(required=True, validate=Length(1, 200))
    password = fields.String(required=True, load_only=True, validate=Length(10, 200))
    role = fields.Enum(Role, by_value=True, required=True)
    group_wide = fields.Boolean(load_default=False)
    company_ids = fields.List(Id(), load_default=list)
    warehouse_ids = fields.List(Id(), load_default=list)
    active = fields.Boolean(dump_only=True)


class UserPatch(Schema):
    display_name = fields.String(validate=Length(1, 200))
    password = fields.String(load_only=True, validate=Length(10, 200))
    role = fields.Enum(Role, by_value=True)
    group_wide = fields.Boolean()
    company_ids = fields.List(Id())
    warehouse_ids = fields.List(Id())
    active = fields.Boolean()
    reason = fields.String(load_only=True, validate=Length(1, 500),
                           metadata={"description": "why (audit trail)"})


class RevokedOut(Schema):
    revoked = fields.Integer()
