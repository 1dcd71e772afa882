"""Identity and access: partner profiles, API keys, users, sessions, audit log.

Partners gain roles, status, AS2 id, contacts and an optional rate limit. API keys move out of
``partner_identities`` (kind ``api_key``) into ``api_keys``, which adds ids (revocation),
labels, last-used times and signing secrets; the stored sha256 hashes carry over unchanged, so
existing keys keep working.

Revision ID: 0002
Revises: 0001

"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

EMPTY_LIST = sa.text("'[]'")


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMN (constant defaults): a batch rebuild of ``partners`` would trip the
    # foreign keys pointing at it on SQLite.
    op.add_column('partners', sa.Column('roles', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
    op.add_column('partners', sa.Column('status', sa.String(length=16), nullable=False, server_default='live'))
    op.add_column('partners', sa.Column('as2_id', sa.String(length=128), nullable=True))
    op.add_column('partners', sa.Column('contacts', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
    op.add_column('partners', sa.Column('rate_limit_per_minute', sa.Integer(), nullable=True))
    op.add_column('partners', sa.Column('updated_at', sa.DateTime(), nullable=True))

    op.create_table('api_keys',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=True),
    sa.Column('signing_secret', sa.String(length=128), nullable=True),
    sa.Column('require_signature', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=160), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_api_keys_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_partner_id'), ['partner_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_users_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )

    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=160), nullable=True),
    sa.Column('message_id', sa.String(length=32), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_audit_log_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_kind_at'), ['kind', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_subject_kind_at'), ['subject', 'kind', 'at'], unique=False)

    _move_api_keys()


def _move_api_keys() -> None:
    """Carry API keys (stored as sha256 identities) over to ``api_keys``, then drop the old rows."""
    bind = op.get_bind()
    identities = sa.table('partner_identities', sa.column('partner_id', sa.Integer),
                          sa.column('kind', sa.String), sa.column('value', sa.String))
    keys = sa.table('api_keys', sa.column('id', sa.String), sa.column('partner_id', sa.Integer),
                    sa.column('key_hash', sa.String), sa.column('prefix', sa.String),
                    sa.column('label', sa.String), sa.column('require_signature', sa.Boolean),
                    sa.column('created_at', sa.DateTime), sa.column('created_by', sa.String))
    rows = bind.execute(sa.select(identities.c.partner_id, identities.c.value)
                        .where(identities.c.kind == 'api_key')).all()
    if not rows:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    bind.execute(keys.insert(), [
        {'id': f'key_{row.value[:16]}', 'partner_id': row.partner_id, 'key_hash': row.value,
         'prefix': '(migrated)', 'label': 'migrated', 'require_signature': False, 'created_at': now,
         'created_by': 'migration 0002'}
        for row in rows])
    bind.execute(identities.delete().where(identities.c.kind == 'api_key'))


def downgrade() -> None:
    """Downgrade schema (API keys go back to ``partner_identities``; revoked ones are dropped)."""
    bind = op.get_bind()
    keys = sa.table('api_keys', sa.column('partner_id', sa.Integer), sa.column('key_hash', sa.String),
                    sa.column('revoked_at', sa.DateTime))
    identities = sa.table('partner_identities', sa.column('partner_id', sa.Integer),
                          sa.column('kind', sa.String), sa.column('value', sa.String))
    rows = bind.execute(sa.select(keys.c.partner_id, keys.c.key_hash).where(keys.c.revoked_at.is_(None))).all()
    if rows:
        bind.execute(identities.insert(), [{'partner_id': r.partner_id, 'kind': 'api_key', 'value': r.key_hash}
                                           for r in rows])
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_subject_kind_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_kind_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
    op.drop_table('audit_log')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))
    op.drop_table('sessions')
    op.drop_table('users')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_partner_id'))
    op.drop_table('api_keys')
    for column in ('updated_at', 'rate_limit_per_minute', 'contacts', 'as2_id', 'status', 'roles'):
        op.drop_column('partners', column)
